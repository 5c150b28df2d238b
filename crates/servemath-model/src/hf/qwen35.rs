//! `qwen3_5_moe_text` (Qwen3.5's decoder, under the `qwen3_5_moe` wrapper) and `qwen3_next`:
//! a hybrid of Gated DeltaNet linear-attention layers and gated full-attention layers, placed by
//! `layer_types` (or every `full_attention_interval`-th layer), each followed by a Qwen-MoE
//! block (routed experts, one gated shared expert), and multi-token-prediction layers counted
//! apart. `qwen3_5_text` (the dense Qwen3.5, e.g. 27B, under `qwen3_5`) is the same hybrid with
//! a gated dense MLP of `intermediate_size` on every layer. After `transformers`' `Qwen3NextGatedDeltaNet` / `Qwen3NextAttention`.

use super::fields::{self, Cx, MAX_COUNT, MAX_LAYERS, MAX_WIDTH};
use super::layers::{self, Resolved, Stack};
use super::quant::MissingDtype;
use super::raw::RawCommon;
use crate::{Attention, AttentionSpan, Mlp, ModelError, ModelSpec};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct RawQwen35 {
    #[serde(flatten)]
    common: RawCommon,
    attn_output_gate: Option<bool>,
    full_attention_interval: Option<u64>,
    linear_num_key_heads: Option<u64>,
    linear_num_value_heads: Option<u64>,
    linear_key_head_dim: Option<u64>,
    linear_value_head_dim: Option<u64>,
    linear_conv_kernel_dim: Option<u64>,
    /// The recurrent state's element type (`float32`).
    mamba_ssm_dtype: Option<String>,
    num_experts: Option<u64>,
    num_experts_per_tok: Option<u64>,
    moe_intermediate_size: Option<u64>,
    shared_expert_intermediate_size: Option<u64>,
    decoder_sparse_step: Option<u64>,
    mlp_only_layers: Option<Vec<u64>>,
    mtp_num_hidden_layers: Option<u64>,
    mtp_use_dedicated_embeddings: Option<bool>,
}

pub(super) fn resolve(
    cx: &Cx,
    name: String,
    model_type: &str,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<ModelSpec, ModelError> {
    let raw: RawQwen35 = cx.mirror(obj)?;
    let c = &raw.common;
    let super::raw::Sizes {
        hidden,
        layers,
        heads,
    } = c.sizes(cx)?;
    if raw.mtp_use_dedicated_embeddings == Some(true) {
        return Err(cx.invalid(
            "mtp_use_dedicated_embeddings",
            true,
            "MTP layers with their own embedding table are not modelled",
        ));
    }
    let full = Attention::Gqa {
        heads,
        kv_heads: fields::kv_heads(cx, c.num_key_value_heads, heads)?,
        head_dim: fields::head_dim(cx, c.head_dim, hidden, heads)?,
        span: AttentionSpan::Full,
        sinks: false,
        qkv_bias: c.attention_bias.unwrap_or(false),
        o_bias: c.attention_bias.unwrap_or(false),
        qk_norm: true,
        output_gate: raw.attn_output_gate.unwrap_or(true),
    };
    let state_element_bytes = match raw.mamba_ssm_dtype.as_deref() {
        None | Some("float32") => 4,
        Some("bfloat16") | Some("float16") => 2,
        Some(other) => {
            return Err(cx.unsupported(
                "mamba_ssm_dtype",
                other,
                &["float32", "bfloat16", "float16"],
            ))
        }
    };
    let linear = Attention::Linear {
        key_heads: cx.required("linear_num_key_heads", raw.linear_num_key_heads, MAX_COUNT)?,
        value_heads: cx.required(
            "linear_num_value_heads",
            raw.linear_num_value_heads,
            MAX_COUNT,
        )?,
        key_head_dim: cx.required("linear_key_head_dim", raw.linear_key_head_dim, MAX_WIDTH)?,
        value_head_dim: cx.required(
            "linear_value_head_dim",
            raw.linear_value_head_dim,
            MAX_WIDTH,
        )?,
        conv_kernel: cx.required("linear_conv_kernel_dim", raw.linear_conv_kernel_dim, 64)?,
        state_element_bytes,
    };
    let kinds = layer_kinds(cx, &raw, layers)?;
    let dense_model = model_type == "qwen3_5_text";
    let mlp_for = mlp_rule(cx, &raw, dense_model)?;
    let build = |(i, full_attention): (u64, bool)| {
        let attention = if full_attention {
            full.clone()
        } else {
            linear.clone()
        };
        (attention, mlp_for(i))
    };
    let stack_layers: Vec<(Attention, Mlp)> = (0..layers).zip(kinds).map(build).collect();
    // An MTP layer is a full-attention layer with the MoE block (Qwen3-Next's `mtp` module).
    let mtp_count = match raw.mtp_num_hidden_layers {
        None => 0,
        Some(n) => cx.in_range("mtp_num_hidden_layers", n, MAX_LAYERS)?,
    };
    let mtp = (0..mtp_count)
        .map(|_| (full.clone(), mlp_for(layers)))
        .collect();
    let stack = Stack {
        name,
        model_type: model_type.to_string(),
        hidden_size: hidden,
        layers: stack_layers,
        mtp,
    };
    let resolved = Resolved::from_common(cx, c, MissingDtype::Refuse, stack)?;
    layers::assemble(cx, resolved)
}

/// Per layer, whether it is full attention: `layer_types` (`linear_attention`,
/// `full_attention`) when given, else every `full_attention_interval`-th layer.
fn layer_kinds(cx: &Cx, raw: &RawQwen35, layers: u64) -> Result<Vec<bool>, ModelError> {
    if let Some(types) = &raw.common.layer_types {
        if types.len() as u64 != layers {
            return Err(cx.invalid(
                "layer_types",
                format!("[{} entries]", types.len()),
                format!("needs one entry per layer, num_hidden_layers = {layers}"),
            ));
        }
        return types
            .iter()
            .map(|t| match t.as_str() {
                "full_attention" => Ok(true),
                "linear_attention" => Ok(false),
                other => Err(cx.unsupported(
                    "layer_types entry",
                    other,
                    &["full_attention", "linear_attention"],
                )),
            })
            .collect();
    }
    let every = cx.required(
        "full_attention_interval",
        raw.full_attention_interval,
        MAX_LAYERS,
    )?;
    Ok((0..layers).map(|i| (i + 1).is_multiple_of(every)).collect())
}

/// The Qwen-MoE block of layer `i`: routed experts plus one shared expert (its sigmoid gate,
/// `d` weights, is billed with the router), dense where `mlp_only_layers` says so.
fn mlp_rule(
    cx: &Cx,
    raw: &RawQwen35,
    dense_model: bool,
) -> Result<Box<dyn Fn(u64) -> Mlp>, ModelError> {
    if dense_model {
        let dense = Mlp::Dense {
            intermediate: cx.required(
                "intermediate_size",
                raw.common.intermediate_size,
                MAX_WIDTH,
            )?,
            gated: true,
            bias: false,
        };
        return Ok(Box::new(move |_| dense.clone()));
    }
    let experts = cx.required("num_experts", raw.num_experts, MAX_COUNT)?;
    let moe = Mlp::Moe {
        experts,
        top_k: fields::top_k(cx, "num_experts_per_tok", raw.num_experts_per_tok, experts)?,
        expert_intermediate: cx.required(
            "moe_intermediate_size",
            raw.moe_intermediate_size,
            MAX_WIDTH,
        )?,
        shared_intermediate: raw
            .shared_expert_intermediate_size
            .map(|s| cx.in_range("shared_expert_intermediate_size", s, MAX_WIDTH))
            .transpose()?
            .unwrap_or(0),
        gated: true,
        bias: false,
        latent: 0,
    };
    let step = cx.or_default(
        "decoder_sparse_step",
        raw.decoder_sparse_step,
        1,
        MAX_LAYERS,
    )?;
    let dense_layers = raw.mlp_only_layers.clone().unwrap_or_default();
    let dense = match (dense_layers.is_empty(), raw.common.intermediate_size) {
        (true, _) => None,
        (false, Some(ff)) => Some(Mlp::Dense {
            intermediate: cx.in_range("intermediate_size", ff, MAX_WIDTH)?,
            gated: true,
            bias: false,
        }),
        (false, None) => return Err(cx.missing("intermediate_size")),
    };
    if step != 1 && dense.is_none() {
        return Err(cx.invalid(
            "decoder_sparse_step",
            step,
            "dense layers between sparse ones need intermediate_size",
        ));
    }
    Ok(Box::new(move |i: u64| {
        let sparse = !dense_layers.contains(&i) && (i + 1).is_multiple_of(step);
        match (&dense, sparse) {
            (Some(d), false) => d.clone(),
            _ => moe.clone(),
        }
    }))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use crate::{parse_config, Attention, AttentionSpan};

    #[test]
    fn gated_delta_net_by_hand() {
        // One Gated DeltaNet layer of Qwen3.5-35B-A3B: d 2048, 16 key heads and 32 value heads of
        // 128, conv kernel 4, float32 state.
        // in_proj_qkvz 2048·(2·2048 + 2·4096) = 25,165,824; in_proj_ba 2048·64 = 131,072;
        // conv (2·2048 + 4096)·4 = 32,768; dt_bias + A_log 64; gated norm 128;
        // out_proj 4096·2048 = 8,388,608: 33,718,464.
        // State: 32·128·128·4 = 2,097,152 B, conv inputs 8192·3·2 = 49,152 B: 2,146,304 B.
        let a = Attention::Linear {
            key_heads: 16,
            value_heads: 32,
            key_head_dim: 128,
            value_head_dim: 128,
            conv_kernel: 4,
            state_element_bytes: 4,
        };
        assert_eq!(a.params(2048), 33_718_464);
        assert!((a.state_bytes_per_sequence() - 2_146_304.0).abs() < 1e-9);
        assert_eq!(a.kv_elements_per_token(), 0);
        assert_eq!(a.span(), AttentionSpan::Recurrent);
        // 7·dk·dv per value head per token: 7·32·128·128 = 3,670,016 FLOPs.
        assert!((a.recurrent_flops_per_token() - 3_670_016.0).abs() < 1e-9);
    }

    #[test]
    fn the_shared_qwen3_5_config() {
        // Qwen3.5-35B-A3B: "35B total/3B active" (transformers' qwen3_5_moe docs,
        // https://huggingface.co/docs/transformers/model_doc/qwen3_5_moe; the sister Qwen3.6
        // card lists "Number of Parameters: 35B in total and 3B activated" for the language
        // model). The decoder counts 34.66 B with both embedding tables; active 3.45 B with the
        // input embedding, 2.94 B without: Qwen's "3B".
        let text = crate::builtin::builtin_config_text("qwen3.5-35b-a3b");
        let s = parse_config(text, "Qwen--Qwen3.5-35B-A3B.json").unwrap();
        let total = s.params().total() as f64;
        assert!((total / 35e9 - 1.0).abs() < 0.02, "{total}");
        let active = s.active_matmul_params() as f64;
        assert!((active / 3e9 - 1.0).abs() < 0.02, "{active}");
        // 30 linear-attention layers, 10 full: the KV cache grows in 10 layers only,
        // 10·2·2·256 = 10,240 elements per token, and each sequence holds 30 states.
        let linear = s
            .groups
            .iter()
            .filter(|g| g.attention.span() == AttentionSpan::Recurrent)
            .map(|g| g.count)
            .sum::<u64>();
        assert_eq!(linear, 30);
        let kv: u64 = s
            .groups
            .iter()
            .map(|g| g.count * g.attention.kv_elements_per_token())
            .sum();
        assert_eq!(kv, 10_240);
        assert!(s.mtp.is_some_and(|g| g.count == 1));
        assert!(s.vision_params > 0);
    }

    #[test]
    fn the_dense_qwen35_27b() {
        // Qwen3.5-27B's text_config (https://huggingface.co/Qwen/Qwen3.5-27B, via the
        // aiconfigurator model_configs copy), every fourth layer full attention: 48 Gated DeltaNet
        // and 16 gated full-attention layers, each with a dense 17,408-wide MLP. The card's
        // "27B" counts the 0.46 B vision tower beside the 26.9 B decoder.
        let text = serde_json::json!({
            "attention_bias": false,
            "attention_dropout": 0.0,
            "attn_output_gate": true,
            "dtype": "bfloat16",
            "eos_token_id": 248044,
            "full_attention_interval": 4,
            "head_dim": 256,
            "hidden_act": "silu",
            "hidden_size": 5120,
            "initializer_range": 0.02,
            "intermediate_size": 17408,
            "linear_conv_kernel_dim": 4,
            "linear_key_head_dim": 128,
            "linear_num_key_heads": 16,
            "linear_num_value_heads": 48,
            "linear_value_head_dim": 128,
            "max_position_embeddings": 262144,
            "mlp_only_layers": [],
            "model_type": "qwen3_5_text",
            "mtp_num_hidden_layers": 1,
            "mtp_use_dedicated_embeddings": false,
            "num_attention_heads": 24,
            "num_hidden_layers": 64,
            "num_key_value_heads": 4,
            "rms_norm_eps": 1e-06,
            "use_cache": true,
            "vocab_size": 248320,
            "mamba_ssm_dtype": "float32",
            "rope_parameters": {
                "mrope_interleaved": true,
                "mrope_section": [
                    11,
                    11,
                    10
                ],
                "rope_type": "default",
                "rope_theta": 10000000,
                "partial_rotary_factor": 0.25
            }
        })
        .to_string();
        let s = parse_config(&text, "qwen3.5-27b.json").unwrap();
        let total = s.params().total() as f64;
        assert!((total / 26.9e9 - 1.0).abs() < 0.005, "{total}");
        assert!(((total + 0.46e9) / 27e9 - 1.0).abs() < 0.02, "{total}");
        assert!(!s.is_moe());
        // MLP by hand: 64 · 3 · 5120 · 17,408 = 17,112,760,320.
        assert_eq!(s.params().dense_mlp, 17_112_760_320);
        // The cache grows only in the 16 full layers: 16 · 2 · 4 · 256 · 2 B = 65,536 B per token.
        assert!((s.kv_bytes_per_token(crate::Precision::Bf16) - 65_536.0).abs() < 1e-9);
    }
}
