//! Per-layer resolution shared by the families: attention spans from `layer_types`, merging
//! identical layers into [`LayerGroup`]s, and the final size check.

use super::fields::{Cx, MAX_CONTEXT, MAX_PARAMS, MAX_VOCAB};
use super::quant::{self, MissingDtype};
use super::raw::RawCommon;
use crate::{Attention, AttentionSpan, LayerGroup, Mlp, ModelError, ModelSpec, WeightPrecisions};

/// The `layer_types` names this crate understands.
const LAYER_TYPES: &[&str] = &["full_attention", "sliding_attention", "chunked_attention"];

/// Spans per layer from an explicit `layer_types` list. A sliding (chunked) entry needs
/// `sliding_window` (`attention_chunk_size`).
pub(super) fn spans_from_types(
    cx: &Cx,
    types: &[String],
    layers: u64,
    window: Option<u64>,
    chunk: Option<u64>,
) -> Result<Vec<AttentionSpan>, ModelError> {
    if types.len() as u64 != layers {
        return Err(cx.invalid(
            "layer_types",
            format!("[{} entries]", types.len()),
            format!("needs one entry per layer, num_hidden_layers = {layers}"),
        ));
    }
    types
        .iter()
        .map(|t| match t.as_str() {
            "full_attention" => Ok(AttentionSpan::Full),
            "sliding_attention" => Ok(AttentionSpan::Sliding {
                window: sliding_window(cx, window)?,
            }),
            "chunked_attention" => Ok(AttentionSpan::Chunked {
                chunk: chunk_size(cx, chunk)?,
            }),
            other => Err(cx.unsupported("layer_types entry", other, LAYER_TYPES)),
        })
        .collect()
}

/// `sliding_window`, required once some layer slides.
pub(super) fn sliding_window(cx: &Cx, window: Option<u64>) -> Result<u64, ModelError> {
    cx.required("sliding_window", window, MAX_CONTEXT)
}

/// `attention_chunk_size`, required once some layer is chunked.
pub(super) fn chunk_size(cx: &Cx, chunk: Option<u64>) -> Result<u64, ModelError> {
    cx.required("attention_chunk_size", chunk, MAX_CONTEXT)
}

/// Everything a family resolves before the layers are grouped.
pub(super) struct Resolved {
    pub name: String,
    pub model_type: String,
    pub hidden_size: u64,
    pub vocab_size: u64,
    pub tie_word_embeddings: bool,
    /// One entry per decoder layer, in order.
    pub layers: Vec<(Attention, Mlp)>,
    /// One entry per multi-token-prediction layer.
    pub mtp: Vec<(Attention, Mlp)>,
    pub checkpoint: WeightPrecisions,
    pub max_context: u64,
}

impl Resolved {
    /// A resolved stack whose vocabulary, tying, checkpoint precision and context length are
    /// read from the llama-style fields every family but GPT-J and Llama-4 shares.
    pub fn from_common(
        cx: &Cx,
        c: &RawCommon,
        missing_dtype: MissingDtype,
        stack: Stack,
    ) -> Result<Resolved, ModelError> {
        Ok(Resolved {
            name: stack.name,
            model_type: stack.model_type,
            hidden_size: stack.hidden_size,
            vocab_size: cx.required("vocab_size", c.vocab_size, MAX_VOCAB)?,
            tie_word_embeddings: c.tie_word_embeddings.unwrap_or(false),
            layers: stack.layers,
            mtp: stack.mtp,
            checkpoint: quant::checkpoint(
                cx,
                c.dtype(),
                c.quantization_config.as_ref(),
                missing_dtype,
                c.num_hidden_layers,
            )?,
            max_context: cx.required(
                "max_position_embeddings",
                c.max_position_embeddings,
                MAX_CONTEXT,
            )?,
        })
    }
}

/// What a family resolver decides itself: names, width and the layers.
pub(super) struct Stack {
    pub name: String,
    pub model_type: String,
    pub hidden_size: u64,
    pub layers: Vec<(Attention, Mlp)>,
    pub mtp: Vec<(Attention, Mlp)>,
}

/// Merges identical layers (interleaved or not) into groups in order of first appearance, and
/// rejects specs too large for the `u64` formulas.
pub(super) fn assemble(cx: &Cx, r: Resolved) -> Result<ModelSpec, ModelError> {
    let mtp_count = r.mtp.len();
    let mut mtp_groups = group(r.mtp);
    if mtp_groups.len() > 1 {
        return Err(cx.invalid(
            "num_nextn_predict_layers",
            mtp_count,
            "multi-token-prediction layers of differing structure are not supported",
        ));
    }
    let spec = ModelSpec {
        name: r.name,
        model_type: r.model_type,
        hidden_size: r.hidden_size,
        vocab_size: r.vocab_size,
        tie_word_embeddings: r.tie_word_embeddings,
        groups: group(r.layers),
        mtp: mtp_groups.pop(),
        checkpoint: r.checkpoint,
        kv_cache: None,
        max_context: r.max_context,
        vision_params: 0,
        notes: Vec::new(),
    };
    let estimate = spec.magnitude_bound();
    if estimate > MAX_PARAMS || !estimate.is_finite() {
        return Err(ModelError::TooLarge {
            origin: cx.origin.to_string(),
            params_estimate: estimate,
            limit: MAX_PARAMS,
        });
    }
    Ok(spec)
}

fn group(layers: Vec<(Attention, Mlp)>) -> Vec<LayerGroup> {
    let mut groups: Vec<LayerGroup> = Vec::new();
    for (attention, mlp) in layers {
        match groups
            .iter_mut()
            .find(|g| g.attention == attention && g.mlp == mlp)
        {
            Some(g) => g.count += 1,
            None => groups.push(LayerGroup {
                count: 1,
                attention,
                mlp,
            }),
        }
    }
    groups
}
