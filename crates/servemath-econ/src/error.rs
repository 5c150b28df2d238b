//! Typed errors of the economics crate: each names where a value came from, the field and the
//! value, with the nearest valid name when one was misspelt.

/// A bad cost input, price list or lifecycle input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EconError {
    /// A cost input name that does not exist (in a `--costs` file, a `--cost` flag or the data
    /// file).
    #[error("{origin}: unknown cost input `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Unknown {
        /// Where the name was written: a file (and table), a flag.
        origin: String,
        /// The name as given.
        name: String,
        /// The nearest valid input name, when one is close enough to be a misspelling.
        suggestion: Option<String>,
    },
    /// A value outside its valid range (a negative price, a fraction or utilization outside
    /// its interval, a magnitude no real figure reaches), or not a finite number.
    #[error("{origin}: `{name}` = {}: {reason}", show_value(*value))]
    OutOfRange {
        /// Where the value came from: a file (and entry), a flag.
        origin: String,
        /// The input or field the value was given for.
        name: String,
        /// The rejected value, in the input's own unit.
        value: f64,
        /// The rule it breaks, as a message fragment (`must be in [0, 1]`).
        reason: &'static str,
    },
    /// A figure the chosen mode needs has no public source for this hardware: the caller sets
    /// the input `name` (the CLI says how: `--cost NAME=VALUE` or a `--costs` file).
    #[error("{hardware}: no `{name}` ({why}); set the cost input `{name}` to price it")]
    Missing {
        /// Catalog id of the hardware being priced.
        hardware: String,
        /// The missing cost input (`capital_usd_per_gpu`, `rental_usd_per_gpu_hour`, `tdp_w`).
        name: &'static str,
        /// Why it is missing and what else would do (`no public purchase price; or price it
        /// rented`).
        why: &'static str,
    },
    /// A file or value that cannot be read as what was expected: TOML syntax, a non-number
    /// where a number goes, an unknown mode, a price list with no entries or half a
    /// long-context tier.
    #[error("{origin}: {message}")]
    Parse {
        /// The file (and entry) or flag that was being read.
        origin: String,
        /// What was wrong with it.
        message: String,
    },
}

/// A value as written in an error: plain, or in exponent form when tiny or huge.
fn show_value(v: f64) -> String {
    if v != 0.0 && v.is_finite() && (v.abs() < 1e-4 || v.abs() >= 1e12) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
