//! The one error type of this crate: every refusal names the file (or built-in), the field and
//! the value, and suggests the nearest valid name when a name was probably misspelt.

use std::fmt;

/// Why a config could not become a [`crate::ModelSpec`], or a built-in name was not found.
///
/// `origin` is the file path or built-in name the caller passed in; `field` is a dotted path
/// into the JSON (`text_config.hidden_size`, `quantization_config.quant_method`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// Not JSON at all, or truncated. Position as reported by `serde_json` (1-based).
    #[error("{origin}: malformed json at line {line} column {column}: {message}")]
    Json {
        /// The file path or built-in name the text came from.
        origin: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// `serde_json`'s message without its trailing position.
        message: String,
    },

    /// A field this family needs is absent (or `null`).
    #[error("{origin}: missing field `{field}`")]
    MissingField {
        /// The file path or built-in name the config came from.
        origin: String,
        /// Dotted path of the absent field (`text_config.hidden_size`).
        field: String,
    },

    /// A field is present but its value cannot be honoured: wrong type, zero, absurdly large,
    /// or inconsistent with another field.
    #[error("{origin}: field `{field}` = {value}: {reason}")]
    InvalidField {
        /// The file path or built-in name the config came from.
        origin: String,
        /// Dotted path of the offending field.
        field: String,
        /// The offending value as text (a long JSON value cut to 60 characters).
        value: String,
        /// Why it is refused, lowercase (`absurdly large (limit 1048576)`).
        reason: String,
    },

    /// A name-valued field (`layer_types` entry, `torch_dtype`, `quant_method`, ...) holds a
    /// name this crate does not know.
    #[error("{origin}: unsupported {field} `{value}`{}; supported: {}", Suggestion(suggestion), supported.join(", "))]
    UnsupportedValue {
        /// The file path or built-in name the config came from.
        origin: String,
        /// Dotted path of the field holding the name.
        field: String,
        /// The unknown name as found.
        value: String,
        /// The nearest supported name, when one is close enough to be a likely typo; `None`
        /// otherwise.
        suggestion: Option<String>,
        /// Every name the field accepts.
        supported: Vec<String>,
    },

    /// `model_type` names a family this crate cannot describe.
    #[error("{origin}: unsupported model_type `{model_type}`{}; supported: {}", Suggestion(suggestion), supported.join(", "))]
    UnsupportedModelType {
        /// The file path or built-in name the config came from.
        origin: String,
        /// The `model_type` as found.
        model_type: String,
        /// The nearest supported type, when one is close enough to be a likely typo; `None`
        /// otherwise.
        suggestion: Option<String>,
        /// Every `model_type` read, directly ([`crate::SUPPORTED_MODEL_TYPES`]) or through an
        /// alias.
        supported: Vec<String>,
    },

    /// Every field is in range but together they describe an absurd model; rejected so that
    /// no derived quantity can overflow.
    #[error("{origin}: the config describes about {params_estimate:.3e} parameters, more than the {limit:.0e} accepted")]
    TooLarge {
        /// The file path or built-in name the config came from.
        origin: String,
        /// An upper bound on the parameter count the fields imply (elements); may be
        /// infinite.
        params_estimate: f64,
        /// The largest accepted bound, 1e15 parameters (real models are under 2e12).
        limit: f64,
    },

    /// `builtin(name)` with a name that is not in the table.
    #[error("unknown built-in model `{name}`{}; known: {}", Suggestion(suggestion), known.join(", "))]
    UnknownBuiltin {
        /// The name as given.
        name: String,
        /// The nearest built-in name, when one is close enough to be a likely typo; `None`
        /// otherwise.
        suggestion: Option<String>,
        /// Every built-in short name, in display order.
        known: Vec<String>,
    },
}

/// Renders ` (did you mean `x`?)` or nothing.
struct Suggestion<'a>(&'a Option<String>);

impl fmt::Display for Suggestion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(s) => write!(f, " (did you mean `{s}`?)"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_without_final_period() {
        let errors = [
            ModelError::MissingField {
                origin: "a.json".into(),
                field: "hidden_size".into(),
            },
            ModelError::UnsupportedModelType {
                origin: "a.json".into(),
                model_type: "lama".into(),
                suggestion: Some("llama".into()),
                supported: vec!["llama".into(), "qwen3".into()],
            },
            ModelError::UnknownBuiltin {
                name: "x".into(),
                suggestion: None,
                known: vec!["y".into()],
            },
        ];
        for e in errors {
            let msg = e.to_string();
            assert!(!msg.ends_with('.'), "{msg}");
            assert_eq!(
                msg.chars().next(),
                msg.to_lowercase().chars().next(),
                "{msg}"
            );
        }
        let e = ModelError::UnsupportedModelType {
            origin: "a.json".into(),
            model_type: "lama".into(),
            suggestion: Some("llama".into()),
            supported: vec!["llama".into(), "qwen3".into()],
        };
        assert_eq!(
            e.to_string(),
            "a.json: unsupported model_type `lama` (did you mean `llama`?); supported: llama, qwen3"
        );
    }
}
