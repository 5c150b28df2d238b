//! Why a synthetic workload specification was refused: every message quotes the specification
//! as written (or as it displays, when built in code), the parameter and the bad value.

/// A length distribution, arrival process, daily profile or limit that cannot be honoured.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorkloadError {
    /// The part before `:` names no known kind (`lognorm:2000,1`).
    #[error("`{spec}`: unknown {what} `{kind}`; expected {expected}")]
    UnknownKind {
        /// The specification as written.
        spec: String,
        /// What it specifies (`length distribution`, `arrival process`).
        what: &'static str,
        /// The kind as read, lower-cased.
        kind: String,
        /// The accepted forms in words.
        expected: &'static str,
    },

    /// The kind is known but takes a different number of comma-separated values.
    #[error("`{spec}`: {kind} takes {expected}, got {found} value(s)")]
    Arity {
        /// The specification as written.
        spec: String,
        /// The kind (`uniform`, `daily`).
        kind: &'static str,
        /// The values it takes, in words (`two values (LO,HI)`).
        expected: &'static str,
        /// Values given.
        found: usize,
    },

    /// A parameter is present but out of range, not a number, or inconsistent with another.
    #[error("`{spec}`: {param} = `{value}`: {reason}")]
    InvalidParam {
        /// The specification as written, or as it displays when built in code.
        spec: String,
        /// The parameter (`sigma`, `rate`, `hour 3`).
        param: &'static str,
        /// The value as written.
        value: String,
        /// Why it is refused, lowercase (`must be between 0 and 4`).
        reason: String,
    },
}

impl WorkloadError {
    pub(crate) fn invalid(
        spec: impl Into<String>,
        param: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidParam {
            spec: spec.into(),
            param,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

/// Splits `kind:a,b` into a lower-case kind and trimmed values; a bare value has kind `""`.
pub(crate) fn split_spec(spec: &str) -> (String, Vec<&str>) {
    match spec.split_once(':') {
        Some((kind, rest)) => (
            kind.trim().to_ascii_lowercase(),
            rest.split(',').map(str::trim).collect(),
        ),
        None => (String::new(), vec![spec.trim()]),
    }
}

/// Parses a finite `f64` parameter, naming the specification, parameter and value on failure.
pub(crate) fn parse_f64(
    spec: &str,
    param: &'static str,
    value: &str,
) -> Result<f64, WorkloadError> {
    match value.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err(WorkloadError::invalid(
            spec,
            param,
            value,
            "must be a finite number",
        )),
        Err(_) => Err(WorkloadError::invalid(spec, param, value, "not a number")),
    }
}

/// Rewrites a validation error in the user's words: the specification as written and the
/// parameter's value as written (`2e6`, not `2000000`). `raw` pairs parameter names with the
/// text they were parsed from.
pub(crate) fn respell(e: WorkloadError, spec: &str, raw: &[(&'static str, &str)]) -> WorkloadError {
    match e {
        WorkloadError::InvalidParam {
            param,
            value,
            reason,
            ..
        } => WorkloadError::InvalidParam {
            spec: spec.to_string(),
            param,
            value: raw
                .iter()
                .find(|(p, _)| *p == param)
                .map_or(value, |(_, v)| (*v).to_string()),
            reason,
        },
        other => other,
    }
}
