//! `gptj` (EleutherAI GPT-J-6B, the MLPerf GPT-J model): multi-head attention without biases,
//! partial rotary embeddings, a non-gated GELU MLP with biases, attention and MLP in parallel
//! off one LayerNorm, and an untied output head with a bias.
//!
//! Counting: one LayerNorm with weight and bias (`2·d`) per layer matches the `2·d` norm
//! weights [`crate::LayerGroup::params`] assumes. Not represented, 54,496 parameters in all
//! (0.0009 %): the final norm's bias (`d`) and the head's bias (`vocab_size`).

use super::fields::{self, Cx, MAX_CONTEXT, MAX_COUNT, MAX_LAYERS, MAX_VOCAB, MAX_WIDTH};
use super::layers::{self, Resolved};
use super::quant::{self, MissingDtype};
use super::raw::RawGptj;
use crate::{Attention, AttentionSpan, Mlp, ModelError, ModelSpec};

pub(super) fn resolve(
    cx: &Cx,
    name: String,
    model_type: &str,
    raw: &RawGptj,
) -> Result<ModelSpec, ModelError> {
    let hidden = cx.required("n_embd", raw.n_embd, MAX_WIDTH)?;
    let layers = cx.required("n_layer", raw.n_layer, MAX_LAYERS)?;
    let heads = cx.required("n_head", raw.n_head, MAX_COUNT)?;
    if !fields::divides(heads, hidden) {
        return Err(cx.invalid(
            "n_head",
            heads,
            format!("does not divide n_embd = {hidden}"),
        ));
    }
    let head_dim = hidden / heads;
    if let Some(r) = raw.rotary_dim {
        if r > head_dim {
            return Err(cx.invalid(
                "rotary_dim",
                r,
                format!("exceeds the head dimension, {head_dim}"),
            ));
        }
    }
    let default_inner = 4 * hidden;
    let attention = Attention::Gqa {
        heads,
        kv_heads: heads,
        head_dim,
        span: AttentionSpan::Full,
        sinks: false,
        qkv_bias: false,
        o_bias: false,
        qk_norm: false,
        output_gate: false,
    };
    let mlp = Mlp::Dense {
        intermediate: cx.or_default("n_inner", raw.n_inner, default_inner, MAX_WIDTH)?,
        gated: false,
        bias: true,
    };
    let dtype = match (&raw.torch_dtype, &raw.dtype) {
        (Some(t), _) => Some(("torch_dtype", t.as_str())),
        (None, Some(t)) => Some(("dtype", t.as_str())),
        (None, None) => None,
    };
    let resolved = Resolved {
        name,
        model_type: model_type.to_string(),
        hidden_size: hidden,
        vocab_size: cx.required("vocab_size", raw.vocab_size, MAX_VOCAB)?,
        tie_word_embeddings: raw.tie_word_embeddings.unwrap_or(false),
        layers: vec![(attention, mlp); layers as usize],
        mtp: Vec::new(),
        checkpoint: quant::checkpoint(
            cx,
            dtype,
            raw.quantization_config.as_ref(),
            MissingDtype::Refuse,
            raw.n_layer,
        )?,
        max_context: cx.required("n_positions", raw.n_positions, MAX_CONTEXT)?,
    };
    layers::assemble(cx, resolved)
}
