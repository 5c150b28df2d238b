//! `gpt_oss` (gpt-oss-20b, gpt-oss-120b): every layer MoE with biased experts and router,
//! attention with biases and learned sinks, alternating sliding-window (128) and full layers,
//! MXFP4 experts.

use super::fields::{self, Cx, MAX_COUNT, MAX_WIDTH};
use super::layers::{self, Resolved, Stack};
use super::quant::MissingDtype;
use super::raw::RawGptOss;
use crate::{Attention, AttentionSpan, Mlp, ModelError, ModelSpec};

pub(super) fn resolve(
    cx: &Cx,
    name: String,
    model_type: &str,
    raw: &RawGptOss,
) -> Result<ModelSpec, ModelError> {
    let c = &raw.common;
    let super::raw::Sizes {
        hidden,
        layers,
        heads,
    } = c.sizes(cx)?;
    let kv_heads = fields::kv_heads(cx, c.num_key_value_heads, heads)?;
    let head_dim = fields::head_dim(cx, c.head_dim, hidden, heads)?;
    let spans = match &c.layer_types {
        Some(types) => layers::spans_from_types(cx, types, layers, c.sliding_window, None)?,
        // `GptOssConfig` default: even layers slide, odd layers attend fully.
        None => {
            let window = layers::sliding_window(cx, c.sliding_window)?;
            (0..layers)
                .map(|i| {
                    if fields::divides(2, i) {
                        AttentionSpan::Sliding { window }
                    } else {
                        AttentionSpan::Full
                    }
                })
                .collect()
        }
    };
    let mlp = moe(cx, raw)?;
    // `transformers` builds gpt-oss attention with biases on q, k, v and o.
    let bias = c.attention_bias.unwrap_or(true);
    let layers = spans
        .into_iter()
        .map(|span| {
            let attention = Attention::Gqa {
                heads,
                kv_heads,
                head_dim,
                span,
                sinks: true,
                qkv_bias: bias,
                o_bias: bias,
                qk_norm: false,
                output_gate: false,
            };
            (attention, mlp.clone())
        })
        .collect();
    let stack = Stack {
        name,
        model_type: model_type.to_string(),
        hidden_size: hidden,
        layers,
        mtp: Vec::new(),
    };
    let resolved = Resolved::from_common(cx, c, MissingDtype::Bf16ExceptExperts, stack)?;
    layers::assemble(cx, resolved)
}

/// Experts are gated (`gate_up_proj`) with biases; the router has a bias too.
fn moe(cx: &Cx, raw: &RawGptOss) -> Result<Mlp, ModelError> {
    let experts = cx.required("num_local_experts", raw.num_local_experts, MAX_COUNT)?;
    let top_k = match (raw.num_experts_per_tok, raw.experts_per_token) {
        (Some(a), Some(b)) if a != b => {
            return Err(cx.invalid(
                "experts_per_token",
                b,
                format!("disagrees with num_experts_per_tok = {a}"),
            ))
        }
        (Some(k), _) => fields::top_k(cx, "num_experts_per_tok", Some(k), experts)?,
        (None, Some(k)) => fields::top_k(cx, "experts_per_token", Some(k), experts)?,
        (None, None) => return Err(cx.missing("num_experts_per_tok")),
    };
    Ok(Mlp::Moe {
        experts,
        top_k,
        expert_intermediate: cx.required(
            "intermediate_size",
            raw.common.intermediate_size,
            MAX_WIDTH,
        )?,
        shared_intermediate: 0,
        gated: true,
        bias: true,
        latent: 0,
    })
}
