//! Typed errors of the economics crate: each names where a value came from, the field and the
//! value, with the nearest valid name when one was misspelt.

/// A bad cost input, price list or lifecycle input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EconError {
    #[error("{origin}: unknown cost input `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Unknown {
        origin: String,
        name: String,
        suggestion: Option<String>,
    },
    #[error("{origin}: `{name}` = {}: {reason}", show_value(*value))]
    OutOfRange {
        origin: String,
        name: String,
        value: f64,
        reason: &'static str,
    },
    /// A figure the chosen mode needs has no public source for this hardware: the caller sets
    /// the input `name` (the CLI says how: `--cost NAME=VALUE` or a `--costs` file).
    #[error("{hardware}: no `{name}` ({why}); set the cost input `{name}` to price it")]
    Missing {
        hardware: String,
        name: &'static str,
        why: &'static str,
    },
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
}

/// A value as written in an error: plain, or in exponent form when tiny or huge.
fn show_value(v: f64) -> String {
    if v != 0.0 && v.is_finite() && (v.abs() < 1e-4 || v.abs() >= 1e12) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
