//! `deepseek_v2`, `deepseek_v3` (R1 is `deepseek_v3`; Kimi-K2 is read as it), `deepseek_v32`
//! and `glm_moe_dsa` (GLM-5): multi-head latent attention, with DeepSeek Sparse Attention's
//! lightning indexer where the config states one, MoE with shared experts after
//! `first_k_dense_replace` dense layers, and multi-token-prediction layers counted apart.

use super::fields::{self, Cx, MAX_COUNT, MAX_LAYERS, MAX_WIDTH};
use super::layers::{self, Resolved, Stack};
use super::quant::MissingDtype;
use super::raw::RawDeepseek;
use crate::{Attention, Mlp, ModelError, ModelSpec};

pub(super) fn resolve(
    cx: &Cx,
    name: String,
    model_type: &str,
    raw: &RawDeepseek,
) -> Result<ModelSpec, ModelError> {
    let c = &raw.common;
    if c.attention_bias == Some(true) {
        return Err(cx.invalid(
            "attention_bias",
            true,
            "biases in multi-head latent attention are not supported",
        ));
    }
    let layers = cx.required("num_hidden_layers", c.num_hidden_layers, MAX_LAYERS)?;
    let mtp_layers = match raw.num_nextn_predict_layers {
        None | Some(0) => 0,
        Some(n) => cx.in_range("num_nextn_predict_layers", n, MAX_LAYERS)?,
    };
    let attention = mla(cx, raw)?;
    let mlp_for = mlp_rule(cx, raw, layers)?;
    // MTP layer `j` sits at index `layers + j` and follows the same dense/MoE rule
    // (DeepSeek-V3's layer 61 is an MoE layer).
    let build = |range: std::ops::Range<u64>| -> Vec<(Attention, Mlp)> {
        range.map(|i| (attention.clone(), mlp_for(i))).collect()
    };
    let stack = Stack {
        name,
        model_type: model_type.to_string(),
        hidden_size: cx.required("hidden_size", c.hidden_size, MAX_WIDTH)?,
        layers: build(0..layers),
        mtp: build(layers..layers + mtp_layers),
    };
    let resolved = Resolved::from_common(cx, c, MissingDtype::Refuse, stack)?;
    layers::assemble(cx, resolved)
}

fn mla(cx: &Cx, raw: &RawDeepseek) -> Result<Attention, ModelError> {
    let nope = cx.required("qk_nope_head_dim", raw.qk_nope_head_dim, MAX_WIDTH)?;
    let rope = cx.required("qk_rope_head_dim", raw.qk_rope_head_dim, MAX_WIDTH)?;
    if let Some(qk) = raw.qk_head_dim.filter(|&qk| qk != nope + rope) {
        return Err(cx.invalid(
            "qk_head_dim",
            qk,
            format!(
                "must be qk_nope_head_dim + qk_rope_head_dim = {}",
                nope + rope
            ),
        ));
    }
    let indexer = match (raw.index_n_heads, raw.index_head_dim, raw.index_topk) {
        (None, None, None) => None,
        (heads, head_dim, top_k) => Some(crate::Indexer {
            heads: cx.required("index_n_heads", heads, MAX_COUNT)?,
            head_dim: cx.required("index_head_dim", head_dim, MAX_WIDTH)?,
            top_k: cx.required("index_topk", top_k, fields::MAX_CONTEXT)?,
            stride: 1,
        }),
    };
    Ok(Attention::Mla {
        indexer,
        heads: cx.required(
            "num_attention_heads",
            raw.common.num_attention_heads,
            MAX_COUNT,
        )?,
        q_lora_rank: raw
            .q_lora_rank
            .map(|r| cx.in_range("q_lora_rank", r, MAX_WIDTH))
            .transpose()?,
        kv_lora_rank: cx.required("kv_lora_rank", raw.kv_lora_rank, MAX_WIDTH)?,
        qk_nope_head_dim: nope,
        qk_rope_head_dim: rope,
        v_head_dim: cx.required("v_head_dim", raw.v_head_dim, MAX_WIDTH)?,
    })
}

/// The MLP of layer `i`, following DeepSeek's `modeling_deepseek.py`: MoE when routed experts
/// exist, `i >= first_k_dense_replace` and `i % moe_layer_freq == 0`; dense otherwise.
fn mlp_rule(cx: &Cx, raw: &RawDeepseek, layers: u64) -> Result<impl Fn(u64) -> Mlp, ModelError> {
    let dense = Mlp::Dense {
        intermediate: cx.required("intermediate_size", raw.common.intermediate_size, MAX_WIDTH)?,
        gated: true,
        bias: false,
    };
    let first_moe = match raw.first_k_dense_replace {
        None => 0,
        Some(k) if k <= layers => k,
        Some(k) => {
            return Err(cx.invalid(
                "first_k_dense_replace",
                k,
                format!("exceeds num_hidden_layers = {layers}"),
            ))
        }
    };
    let freq = cx.or_default("moe_layer_freq", raw.moe_layer_freq, 1, MAX_LAYERS)?;
    let moe = match raw.n_routed_experts {
        None => None,
        Some(_) => Some(fields::deepseek_style_moe(
            cx,
            raw.n_routed_experts,
            raw.n_shared_experts,
            raw.num_experts_per_tok,
            raw.moe_intermediate_size,
        )?),
    };
    Ok(move |i: u64| match &moe {
        Some(m) if i >= first_moe && fields::divides(freq, i) => m.clone(),
        _ => dense.clone(),
    })
}
