//! `nemotron_h` (NVIDIA Nemotron-H, Nemotron 3): a stack of single blocks given by
//! `hybrid_override_pattern`, one character per block: `M` a Mamba-2 mixer, `*` attention
//! (GQA, no positional encoding), `-` a dense MLP, `E` an MoE block. After `transformers`'
//! `NemotronHForCausalLM`.
//!
//! The crate's layer is a mixer followed by a feed-forward block, so each mixer is read together
//! with the FFN block right after it (two blocks, two norms: exact), and a mixer that no FFN
//! block follows gets [`Mlp::None`]. An FFN block with no mixer before it is refused by
//! position. A note says how many blocks became how many layers.

use super::fields::{self, Cx, MAX_COUNT, MAX_LAYERS, MAX_WIDTH};
use super::layers::{self, Resolved, Stack};
use super::quant::MissingDtype;
use super::raw::RawCommon;
use crate::{Attention, AttentionSpan, Mlp, ModelError, ModelSpec};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct RawNemotronH {
    #[serde(flatten)]
    common: RawCommon,
    hybrid_override_pattern: Option<String>,
    mamba_num_heads: Option<u64>,
    mamba_head_dim: Option<u64>,
    ssm_state_size: Option<u64>,
    n_groups: Option<u64>,
    conv_kernel: Option<u64>,
    use_conv_bias: Option<bool>,
    mamba_proj_bias: Option<bool>,
    mamba_ssm_cache_dtype: Option<String>,
    mlp_bias: Option<bool>,
    mlp_hidden_act: Option<String>,
    n_routed_experts: Option<u64>,
    num_experts_per_tok: Option<u64>,
    moe_intermediate_size: Option<u64>,
    moe_shared_expert_intermediate_size: Option<u64>,
    n_shared_experts: Option<u64>,
    /// LatentMoE (Nemotron 3 Super): the routed experts' width, with a projection into it and
    /// one back out around them.
    moe_latent_size: Option<u64>,
    /// Multi-token prediction: `num_nextn_predict_layers` copies of the blocks of
    /// `mtp_hybrid_override_pattern`, counted apart.
    num_nextn_predict_layers: Option<u64>,
    mtp_hybrid_override_pattern: Option<String>,
    /// Newer `NemotronHConfig`s spell the pattern as a list of block names (`mamba`,
    /// `attention`, `moe`, `mlp`) and derive `num_hidden_layers` from its length.
    layers_block_type: Option<Vec<String>>,
    mtp_layers_block_type: Option<Vec<String>>,
}

/// A `layers_block_type` list as the one-character pattern.
fn pattern_of(cx: &Cx, field: &str, blocks: &[String]) -> Result<String, ModelError> {
    blocks
        .iter()
        .enumerate()
        .map(|(i, b)| match b.as_str() {
            "mamba" => Ok('M'),
            "attention" => Ok('*'),
            "moe" => Ok('E'),
            "mlp" => Ok('-'),
            other => Err(cx.unsupported(
                &format!("{field}[{i}]"),
                other,
                &["mamba", "attention", "moe", "mlp"],
            )),
        })
        .collect()
}

pub(super) fn resolve(
    cx: &Cx,
    name: String,
    model_type: &str,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<ModelSpec, ModelError> {
    let raw: RawNemotronH = cx.mirror(obj)?;
    let c = &raw.common;
    let hidden = cx.required("hidden_size", c.hidden_size, MAX_WIDTH)?;
    let pattern = match (&raw.hybrid_override_pattern, &raw.layers_block_type) {
        (Some(p), _) => p.clone(),
        (None, Some(list)) => pattern_of(cx, "layers_block_type", list)?,
        (None, None) => return Err(cx.missing("hybrid_override_pattern")),
    };
    let blocks = match (c.num_hidden_layers, &raw.layers_block_type) {
        (None, Some(list)) => cx.in_range("layers_block_type", list.len() as u64, MAX_LAYERS)?,
        _ => cx.required("num_hidden_layers", c.num_hidden_layers, MAX_LAYERS)?,
    };
    if pattern.chars().count() as u64 != blocks {
        return Err(cx.invalid(
            "hybrid_override_pattern",
            format!("{:?}", pattern),
            format!("needs one character per block, num_hidden_layers = {blocks}"),
        ));
    }
    for (flag, value, why) in [
        (
            "mamba_proj_bias",
            raw.mamba_proj_bias,
            "biases in the Mamba projections",
        ),
        ("mlp_bias", raw.mlp_bias, "biases in the MLP"),
        ("attention_bias", c.attention_bias, "biases in attention"),
    ] {
        if value == Some(true) {
            return Err(cx.invalid(flag, true, format!("{why} are not modelled")));
        }
    }
    // Nemotron-H's feed-forward blocks are not gated (squared ReLU by default).
    let gated = match raw.mlp_hidden_act.as_deref() {
        None | Some("relu2") | Some("gelu") | Some("relu") => false,
        Some(other) => {
            return Err(cx.unsupported("mlp_hidden_act", other, &["relu2", "relu", "gelu"]))
        }
    };
    let heads = cx.required("num_attention_heads", c.num_attention_heads, MAX_COUNT)?;
    let attention = Attention::Gqa {
        heads,
        kv_heads: fields::kv_heads(cx, c.num_key_value_heads, heads)?,
        head_dim: fields::head_dim(cx, c.head_dim, hidden, heads)?,
        span: AttentionSpan::Full,
        sinks: false,
        qkv_bias: false,
        o_bias: false,
        qk_norm: false,
        output_gate: false,
    };
    let state_element_bytes = match raw.mamba_ssm_cache_dtype.as_deref() {
        None | Some("float32") => 4,
        Some("bfloat16") | Some("float16") => 2,
        Some(other) => {
            return Err(cx.unsupported(
                "mamba_ssm_cache_dtype",
                other,
                &["float32", "bfloat16", "float16"],
            ))
        }
    };
    if raw.use_conv_bias == Some(false) {
        return Err(cx.invalid(
            "use_conv_bias",
            false,
            "a Mamba convolution without bias is not modelled",
        ));
    }
    let mamba = || -> Result<Attention, ModelError> {
        let heads = cx.required("mamba_num_heads", raw.mamba_num_heads, MAX_COUNT)?;
        let groups = cx.required("n_groups", raw.n_groups, MAX_COUNT)?;
        if heads % groups != 0 {
            return Err(cx.invalid(
                "n_groups",
                groups,
                format!("must divide mamba_num_heads = {heads}"),
            ));
        }
        Ok(Attention::Mamba2 {
            heads,
            head_dim: cx.required("mamba_head_dim", raw.mamba_head_dim, MAX_WIDTH)?,
            state_size: cx.required("ssm_state_size", raw.ssm_state_size, MAX_WIDTH)?,
            groups,
            conv_kernel: cx.required("conv_kernel", raw.conv_kernel, 64)?,
            state_element_bytes,
        })
    };
    let dense = || -> Result<Mlp, ModelError> {
        Ok(Mlp::Dense {
            intermediate: cx.required("intermediate_size", c.intermediate_size, MAX_WIDTH)?,
            gated,
            bias: false,
        })
    };
    let moe = || -> Result<Mlp, ModelError> {
        let experts = cx.required("n_routed_experts", raw.n_routed_experts, MAX_COUNT)?;
        let shared = raw.n_shared_experts.unwrap_or(0);
        let shared_width = if shared > 0 {
            cx.required(
                "moe_shared_expert_intermediate_size",
                raw.moe_shared_expert_intermediate_size,
                MAX_WIDTH,
            )?
        } else {
            0
        };
        if shared > MAX_COUNT {
            return Err(cx.invalid("n_shared_experts", shared, "absurdly large"));
        }
        let latent = match raw.moe_latent_size {
            None => 0,
            Some(l) => cx.in_range("moe_latent_size", l, MAX_WIDTH)?,
        };
        Ok(Mlp::Moe {
            experts,
            top_k: fields::top_k(cx, "num_experts_per_tok", raw.num_experts_per_tok, experts)?,
            expert_intermediate: cx.required(
                "moe_intermediate_size",
                raw.moe_intermediate_size,
                MAX_WIDTH,
            )?,
            shared_intermediate: shared * shared_width,
            gated,
            bias: false,
            latent,
        })
    };
    // Each mixer with the FFN block right after it, if any.
    let read = |field: &str, pattern: &str| -> Result<Vec<(Attention, Mlp)>, ModelError> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut stack = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let mixer = match chars[i] {
                'M' => mamba()?,
                '*' => attention.clone(),
                '-' | 'E' => {
                    return Err(cx.invalid(
                        &format!("{field}[{i}]"),
                        chars[i],
                        "a feed-forward block with no mixer before it is not modelled",
                    ))
                }
                other => {
                    return Err(cx.invalid(
                        &format!("{field}[{i}]"),
                        other,
                        "expected M (Mamba-2), * (attention), - (MLP) or E (MoE)",
                    ))
                }
            };
            let ffn = match chars.get(i + 1) {
                Some('-') => Some(dense()?),
                Some('E') => Some(moe()?),
                _ => None,
            };
            i += if ffn.is_some() { 2 } else { 1 };
            stack.push((mixer, ffn.unwrap_or(Mlp::None)));
        }
        Ok(stack)
    };
    let stack = read("hybrid_override_pattern", &pattern)?;
    let mtp_count = match raw.num_nextn_predict_layers {
        None => 0,
        Some(n) => cx.in_range("num_nextn_predict_layers", n, MAX_LAYERS)?,
    };
    let mut mtp = Vec::new();
    if mtp_count > 0 {
        let p = match (&raw.mtp_hybrid_override_pattern, &raw.mtp_layers_block_type) {
            (Some(p), _) => p.clone(),
            (None, Some(list)) => pattern_of(cx, "mtp_layers_block_type", list)?,
            (None, None) => return Err(cx.missing("mtp_hybrid_override_pattern")),
        };
        let p = p.as_str();
        if p.chars().count() > 64 {
            return Err(cx.invalid(
                "mtp_hybrid_override_pattern",
                p.chars().take(60).collect::<String>(),
                "longer than 64 blocks",
            ));
        }
        let blocks = read("mtp_hybrid_override_pattern", p)?;
        for _ in 0..mtp_count {
            mtp.extend(blocks.iter().cloned());
        }
    }
    let layer_count = stack.len();
    let resolved = Resolved::from_common(
        cx,
        c,
        MissingDtype::Refuse,
        Stack {
            name,
            model_type: model_type.to_string(),
            hidden_size: hidden,
            layers: stack,
            mtp,
        },
    )?;
    let mut spec = layers::assemble(cx, resolved)?;
    spec.notes.push(format!(
        "the {blocks} blocks of hybrid_override_pattern read as {layer_count} layers: each mixer with the feed-forward block after it"
    ));
    Ok(spec)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use crate::{parse_config, Attention, AttentionSpan, Mlp};

    #[test]
    fn mamba2_by_hand() {
        // Nemotron-3-Nano's mixer: d 2688, 64 heads of 64 (d_inner 4096), state 128 in 8 groups,
        // conv 4 with bias.
        // in_proj 2688·(4096 + (4096 + 2·8·128) + 64) = 2688·10,304 = 27,697,152;
        // conv (4096 + 2048)·(4 + 1) = 30,720; dt_bias, A_log, D 3·64 = 192; norm 4096;
        // out_proj 4096·2688 = 11,010,048: 38,742,208.
        // State: 64·64·128·4 = 2,097,152 B, conv inputs 6144·3·2 = 36,864 B: 2,134,016 B.
        let a = Attention::Mamba2 {
            heads: 64,
            head_dim: 64,
            state_size: 128,
            groups: 8,
            conv_kernel: 4,
            state_element_bytes: 4,
        };
        assert_eq!(a.params(2688), 38_742_208);
        assert!((a.state_bytes_per_sequence() - 2_134_016.0).abs() < 1e-9);
        assert_eq!(a.span(), AttentionSpan::Recurrent);
    }

    #[test]
    fn the_shared_nemotron_3_nano_config() {
        // Nemotron 3 Nano tech report (https://arxiv.org/abs/2512.20848): "Nemotron 3 Nano totals
        // 31.6B parameters out of which only 3.2B are activated per forward pass (3.6B including
        // embeddings)" (the card's "30B" and "3.5B" are rounder).
        let text = crate::builtin::builtin_config_text("nemotron-3-nano");
        let s = parse_config(text, "nemotron.json").unwrap();
        let total = s.params().total() as f64;
        assert!((total / 31.6e9 - 1.0).abs() < 0.02, "{total}");
        let active = s.active_params() as f64;
        assert!((active / 3.6e9 - 1.0).abs() < 0.02, "{active}");
        // 23 Mamba mixers and 6 attention mixers; 23 MoE blocks follow a mixer, 6 mixers stand
        // alone. Only the 6 attention layers hold a KV cache: 6·2·2·128 elements per token.
        let layers: u64 = s.groups.iter().map(|g| g.count).sum();
        assert_eq!(layers, 29);
        let lone = s
            .groups
            .iter()
            .filter(|g| g.mlp == Mlp::None)
            .map(|g| g.count)
            .sum::<u64>();
        assert_eq!(lone, 6);
        let kv: u64 = s
            .groups
            .iter()
            .map(|g| g.count * g.attention.kv_elements_per_token())
            .sum();
        assert_eq!(kv, 6 * 2 * 2 * 128);
    }

    #[test]
    fn a_lone_ffn_block_is_refused_by_position() {
        let text = crate::builtin::builtin_config_text("nemotron-3-nano");
        let bad = text.replace("\"MEMEM*E", "\"EEMEM*E");
        let e = parse_config(&bad, "n.json").err().unwrap().to_string();
        assert!(e.contains("hybrid_override_pattern[0]"), "{e}");
    }

    #[test]
    fn layers_block_type_lists_read_as_the_pattern() {
        // Newer configs (Nemotron 3 Ultra) list block names and leave num_hidden_layers out:
        // the Nano config rewritten that way gives the same model, and a bad name is refused
        // by position.
        let text = crate::builtin::builtin_config_text("nemotron-3-nano");
        let mut v: serde_json::Value =
            serde_json::from_str(&crate::hf::python_literals(text)).unwrap();
        let o = v.as_object_mut().unwrap();
        let pattern = o.remove("hybrid_override_pattern").unwrap();
        o.remove("num_hidden_layers");
        let names: Vec<&str> = pattern
            .as_str()
            .unwrap()
            .chars()
            .map(|c| match c {
                'M' => "mamba",
                '*' => "attention",
                'E' => "moe",
                _ => "mlp",
            })
            .collect();
        o.insert("layers_block_type".into(), serde_json::json!(names));
        let listed = parse_config(&v.to_string(), "n.json").unwrap();
        let original = parse_config(text, "n.json").unwrap();
        assert_eq!(listed.params(), original.params());
        assert_eq!(listed.groups, original.groups);
        v["layers_block_type"][3] = serde_json::json!("conv");
        let e = parse_config(&v.to_string(), "n.json")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("layers_block_type[3]"), "{e}");
    }
}
