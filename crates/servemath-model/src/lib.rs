//! Model specifications: Hugging Face `config.json` → [`ModelSpec`], parameter counts,
//! weight bytes per precision, KV-cache bytes per token, and the built-in model names.
//!
//! Pure: parsing takes `&str`; the only data it reads is what is compiled in.

mod builtin;
mod error;
mod hf;
mod precision;
mod spec;

pub use builtin::{builtin, builtin_models, BuiltinModel, DeclaredCheckpoint};
pub use error::ModelError;
pub use hf::{parse_config, parse_snapshot, SUPPORTED_MODEL_TYPES};
pub use precision::{MathPrecision, Precision, UnknownPrecision};
pub use spec::{
    Attention, AttentionSpan, Indexer, LayerGroup, Mlp, MlpParams, ModelSpec, ParamBreakdown,
    WeightPrecisions,
};

/// The candidate closest to `given` by edit distance, if any is close enough to be a likely typo.
pub fn nearest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::normalized_damerau_levenshtein(given, c), *c))
        .filter(|(score, _)| *score >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
