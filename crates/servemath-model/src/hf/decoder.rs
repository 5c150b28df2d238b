//! The llama-shaped families: dense `llama`, `mistral`, `qwen2`, `qwen3` and their MoE
//! variants `mixtral`, `qwen2_moe`, `qwen3_moe`. All use GQA with RoPE, a gated (SwiGLU) MLP
//! and two RMSNorms per layer; they differ in biases, q/k norms, sliding-window rules and
//! which layers are sparse.

use super::fields::{self, Cx, MAX_COUNT, MAX_LAYERS, MAX_WIDTH};
use super::layers::{self, Resolved, Stack};
use super::quant::MissingDtype;
use super::raw::RawDecoder;
use crate::{Attention, AttentionSpan, Mlp, ModelError, ModelSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    Llama,
    Mistral,
    Qwen2,
    Qwen3,
    Mixtral,
    Qwen2Moe,
    Qwen3Moe,
    /// GLM-4.5 / 4.6 / 4.7: GQA (q, k, v biases; optional q/k norms) with DeepSeek-style
    /// routed and shared experts after `first_k_dense_replace` dense layers.
    Glm4Moe,
}

impl Family {
    fn is_qwen(self) -> bool {
        matches!(
            self,
            Family::Qwen2 | Family::Qwen3 | Family::Qwen2Moe | Family::Qwen3Moe
        )
    }

    fn is_moe(self) -> bool {
        matches!(
            self,
            Family::Mixtral | Family::Qwen2Moe | Family::Qwen3Moe | Family::Glm4Moe
        )
    }
}

/// Sizes shared by every layer.
struct Shape {
    hidden: u64,
    layers: u64,
    heads: u64,
    kv_heads: u64,
    head_dim: u64,
}

pub(super) fn resolve(
    cx: &Cx,
    name: String,
    model_type: &str,
    family: Family,
    raw: &RawDecoder,
) -> Result<ModelSpec, ModelError> {
    let c = &raw.common;
    let hidden = cx.required("hidden_size", c.hidden_size, MAX_WIDTH)?;
    let heads = cx.required("num_attention_heads", c.num_attention_heads, MAX_COUNT)?;
    let shape = Shape {
        hidden,
        layers: cx.required("num_hidden_layers", c.num_hidden_layers, MAX_LAYERS)?,
        heads,
        kv_heads: fields::kv_heads(cx, c.num_key_value_heads, heads)?,
        head_dim: fields::head_dim(cx, c.head_dim, hidden, heads)?,
    };
    if let Some(types) = &raw.attn_type_list {
        if let Some(i) = types.iter().position(|&t| t != 1) {
            return Err(cx.invalid(
                &format!("attn_type_list[{i}]"),
                types[i],
                "only softmax attention layers (1) are supported; 0 is MiniMax's lightning attention",
            ));
        }
    }
    if let Some(w) = raw.shared_intermediate_size.filter(|&w| w > 0) {
        return Err(cx.invalid(
            "shared_intermediate_size",
            w,
            "a MiniMax shared expert is not supported (0: none)",
        ));
    }
    let spans = spans(cx, family, raw, shape.layers)?;
    let mlps = mlps(cx, family, raw, shape.layers)?;
    let attention_bias = c.attention_bias.unwrap_or(false);
    // Qwen2 hard-codes biases on q, k, v (not o); llama and qwen3 put `attention_bias` on all
    // four projections; Mistral and Mixtral have none.
    let (qkv_bias, o_bias) = match family {
        Family::Qwen2 | Family::Qwen2Moe => (true, false),
        Family::Llama | Family::Qwen3 | Family::Qwen3Moe => (attention_bias, attention_bias),
        Family::Mistral | Family::Mixtral => (false, false),
        // transformers' Glm4MoeAttention: `attention_bias` on q, k, v; o without.
        Family::Glm4Moe => (attention_bias, false),
    };
    let qk_norm = match family {
        Family::Qwen3 | Family::Qwen3Moe => true,
        Family::Glm4Moe => raw.use_qk_norm.unwrap_or(false),
        _ => false,
    };
    let layers: Vec<(Attention, Mlp)> = spans
        .into_iter()
        .zip(mlps)
        .map(|(span, mlp)| {
            let attention = Attention::Gqa {
                heads: shape.heads,
                kv_heads: shape.kv_heads,
                head_dim: shape.head_dim,
                span,
                sinks: false,
                qkv_bias,
                o_bias,
                qk_norm,
                output_gate: false,
            };
            (attention, mlp)
        })
        .collect();
    let mtp = mtp_layers(cx, raw, &layers)?;
    let stack = Stack {
        name,
        model_type: model_type.to_string(),
        hidden_size: shape.hidden,
        layers,
        mtp,
    };
    let resolved = Resolved::from_common(cx, c, MissingDtype::Refuse, stack)?;
    layers::assemble(cx, resolved)
}

/// Attention span per layer. An explicit `layer_types` wins. Otherwise: Llama attends fully;
/// Mistral and Mixtral slide on every layer when `sliding_window` is set; Qwen slides on
/// layers `>= max_window_layers` when `use_sliding_window` is true and a window is set
/// (the `transformers` Qwen2/Qwen3 `layer_types` default).
fn spans(
    cx: &Cx,
    family: Family,
    raw: &RawDecoder,
    layers: u64,
) -> Result<Vec<AttentionSpan>, ModelError> {
    let c = &raw.common;
    if let Some(types) = &c.layer_types {
        return layers::spans_from_types(cx, types, layers, c.sliding_window, None);
    }
    let full = vec![AttentionSpan::Full; layers as usize];
    match family {
        Family::Llama => Ok(full),
        Family::Mistral | Family::Mixtral => match c.sliding_window {
            None => Ok(full),
            Some(w) => {
                let window = layers::sliding_window(cx, Some(w))?;
                Ok(vec![AttentionSpan::Sliding { window }; layers as usize])
            }
        },
        _ if family.is_qwen() => {
            if !raw.use_sliding_window.unwrap_or(false) || c.sliding_window.is_none() {
                return Ok(full);
            }
            let window = layers::sliding_window(cx, c.sliding_window)?;
            let first = raw
                .max_window_layers
                .ok_or_else(|| cx.missing("max_window_layers"))?;
            Ok((0..layers)
                .map(|i| {
                    if i >= first {
                        AttentionSpan::Sliding { window }
                    } else {
                        AttentionSpan::Full
                    }
                })
                .collect())
        }
        _ => Ok(full),
    }
}

/// MLP per layer: dense families use `intermediate_size` everywhere; Mixtral is MoE on every
/// layer; Qwen-MoE layer `i` is sparse when it is not in `mlp_only_layers`, there are experts,
/// and `(i + 1) % decoder_sparse_step == 0` (as in `transformers`' `Qwen3MoeDecoderLayer`).
fn mlps(cx: &Cx, family: Family, raw: &RawDecoder, layers: u64) -> Result<Vec<Mlp>, ModelError> {
    let c = &raw.common;
    let dense = || -> Result<Mlp, ModelError> {
        Ok(Mlp::Dense {
            intermediate: cx.required("intermediate_size", c.intermediate_size, MAX_WIDTH)?,
            gated: true,
            bias: family == Family::Llama && raw.mlp_bias.unwrap_or(false),
        })
    };
    if !family.is_moe() {
        return Ok(vec![dense()?; layers as usize]);
    }
    if family == Family::Glm4Moe {
        return glm4_moe_mlps(cx, raw, layers, dense()?);
    }
    let experts = expert_count(cx, family, raw)?;
    if experts == 0 {
        // Qwen-MoE with `num_experts: 0` is a dense model in `transformers`.
        return Ok(vec![dense()?; layers as usize]);
    }
    let top_k = fields::top_k(cx, "num_experts_per_tok", raw.num_experts_per_tok, experts)?;
    let moe = Mlp::Moe {
        experts,
        top_k,
        expert_intermediate: match family {
            // Mixtral's experts are full-size MLPs.
            Family::Mixtral => cx.required("intermediate_size", c.intermediate_size, MAX_WIDTH)?,
            _ => cx.required(
                "moe_intermediate_size",
                raw.moe_intermediate_size,
                MAX_WIDTH,
            )?,
        },
        shared_intermediate: match family {
            Family::Qwen2Moe => cx.required(
                "shared_expert_intermediate_size",
                raw.shared_expert_intermediate_size,
                MAX_WIDTH,
            )?,
            _ => 0,
        },
        gated: true,
        bias: false,
        latent: 0,
    };
    if family == Family::Mixtral {
        return Ok(vec![moe; layers as usize]);
    }
    let step = cx.or_default(
        "decoder_sparse_step",
        raw.decoder_sparse_step,
        1,
        MAX_LAYERS,
    )?;
    let dense_only = raw.mlp_only_layers.as_deref().unwrap_or(&[]);
    cx.layer_indices("mlp_only_layers", dense_only, layers)?;
    let mut forced_dense = vec![false; layers as usize];
    for &i in dense_only {
        if let Some(f) = forced_dense.get_mut(i as usize) {
            *f = true;
        }
    }
    (0..layers)
        .zip(forced_dense)
        .map(|(i, forced)| {
            if !forced && fields::divides(step, i + 1) {
                Ok(moe.clone())
            } else {
                dense()
            }
        })
        .collect()
}

/// GLM-4.5's MLPs, as `transformers`' `Glm4MoeDecoderLayer` builds them: dense for the first
/// `first_k_dense_replace` layers, then `n_routed_experts` routed experts of
/// `moe_intermediate_size` and `n_shared_experts` shared ones of the same width.
fn glm4_moe_mlps(
    cx: &Cx,
    raw: &RawDecoder,
    layers: u64,
    dense: Mlp,
) -> Result<Vec<Mlp>, ModelError> {
    let moe = fields::deepseek_style_moe(
        cx,
        raw.n_routed_experts,
        raw.n_shared_experts,
        raw.num_experts_per_tok,
        raw.moe_intermediate_size,
    )?;
    let first_moe = cx.or_default(
        "first_k_dense_replace",
        raw.first_k_dense_replace,
        0,
        layers,
    )?;
    Ok((0..layers)
        .map(|i| {
            if i < first_moe {
                dense.clone()
            } else {
                moe.clone()
            }
        })
        .collect())
}

/// Mixtral says `num_local_experts`, Qwen `num_experts`; either is accepted, both must agree.
fn expert_count(cx: &Cx, family: Family, raw: &RawDecoder) -> Result<u64, ModelError> {
    let (field, n) = match (raw.num_experts, raw.num_local_experts) {
        (Some(a), Some(b)) if a != b => {
            return Err(cx.invalid(
                "num_local_experts",
                b,
                format!("disagrees with num_experts = {a}"),
            ))
        }
        (Some(a), _) => ("num_experts", a),
        (None, Some(b)) => ("num_local_experts", b),
        (None, None) if family == Family::Mixtral => return Err(cx.missing("num_local_experts")),
        (None, None) => return Err(cx.missing("num_experts")),
    };
    if n == 0 && family != Family::Mixtral {
        return Ok(0);
    }
    cx.in_range(field, n, MAX_COUNT)
}

/// Multi-token-prediction layers beside the stack, each shaped like the last decoder layer:
/// MiMo's `num_nextn_predict_layers`, MiniMax-M2's `num_mtp_modules` x `mtp_transformer_layers`
/// when `use_mtp`.
fn mtp_layers(
    cx: &Cx,
    raw: &RawDecoder,
    layers: &[(Attention, Mlp)],
) -> Result<Vec<(Attention, Mlp)>, ModelError> {
    let n = match (raw.num_nextn_predict_layers, raw.use_mtp) {
        (Some(n), _) => cx.in_range("num_nextn_predict_layers", n, MAX_LAYERS)?,
        (None, Some(true)) => {
            let modules = cx.required("num_mtp_modules", raw.num_mtp_modules, MAX_LAYERS)?;
            let each = raw.mtp_transformer_layers.unwrap_or(1);
            modules * cx.in_range("mtp_transformer_layers", each, MAX_LAYERS)?
        }
        _ => 0,
    };
    let Some(last) = layers.last() else {
        return Ok(Vec::new());
    };
    Ok(vec![last.clone(); n as usize])
}
