//! Model specifications: Hugging Face `config.json` → [`ModelSpec`], parameter counts,
//! weight bytes per precision, KV-cache bytes per token, and the built-in model names.
//!
//! Pure: parsing takes `&str`; the only data it reads is what is compiled in.
//!
//! Entry points: [`parse_config`] (a `config.json` text), [`parse_snapshot`] (a snapshot folder's
//! `config.json` and ModelOpt `hf_quant_config.json`) and [`builtin`] (a compiled-in name). All
//! three return a [`ModelSpec`], a stack of [`LayerGroup`]s, or a [`ModelError`] naming the
//! origin, field and value. Counts are elements (parameters), sizes bytes, contexts tokens.
//!
//! # Example
//!
//! ```
//! use servemath_model::{builtin, Precision};
//!
//! let spec = builtin("llama-3.1-8b")?;
//!
//! // 32 GQA layers × 8 KV heads × 128 dims × 2 (K and V) × 2 bytes (BF16) = 131,072 B of KV
//! // cache per token of context.
//! let kv = spec.kv_bytes_per_token(Precision::Bf16);
//! assert!((kv - 131_072.0).abs() <= 1e-9 * 131_072.0, "{kv}");
//!
//! // Parameters: embedding and untied head 2 × 128,256 × 4,096 = 1,050,673,152; per layer
//! // attention 4,096 × (32 + 2 × 8 + 32) × 128 = 41,943,040, gated MLP 3 × 4,096 × 14,336 =
//! // 176,160,768, two norms 2 × 4,096 = 8,192; × 32 layers = 6,979,584,000; final norm 4,096.
//! // Total 8,030,261,248: the "8B".
//! assert_eq!(spec.params().total(), 8_030_261_248);
//!
//! // A misspelt name is refused with the nearest known one.
//! let err = builtin("llama-3.1-8").unwrap_err();
//! assert!(err.to_string().contains("did you mean `llama-3.1-8b`?"), "{err}");
//! # Ok::<(), servemath_model::ModelError>(())
//! ```

#![warn(missing_docs)]

mod builtin;
mod error;
mod hf;
mod precision;
mod spec;

pub use builtin::{builtin, builtin_models, BuiltinModel, DeclaredCheckpoint};
pub use error::ModelError;
pub use hf::{parse_config, parse_snapshot, SUPPORTED_MODEL_TYPES};
pub use precision::{MathPrecision, Precision, UnknownMathPrecision, UnknownPrecision};
pub use spec::{
    Attention, AttentionSpan, Indexer, LayerGroup, Mlp, MlpParams, ModelSpec, ParamBreakdown,
    WeightPrecisions,
};

/// The candidate closest to `given` by normalized Damerau-Levenshtein similarity, if any scores
/// at least 0.5 (close enough to be a likely typo); `None` otherwise. On a tie the earlier
/// candidate wins (an id before its aliases). Case-sensitive: callers lowercase first where
/// names are. The one typo rule every crate's "did you mean" uses.
pub fn nearest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for &candidate in candidates {
        let score = strsim::normalized_damerau_levenshtein(given, candidate);
        if score >= 0.5 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}
