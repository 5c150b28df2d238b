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

/// The candidate closest to `given` by edit distance, if any is close enough to be a likely typo
/// (normalized Damerau-Levenshtein similarity at least 0.5); on a tie the earlier candidate
/// wins (an id before its aliases). The one typo rule every crate's "did you mean" uses.
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
