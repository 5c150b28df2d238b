//! `nemotron-nas` / `deci` (NVIDIA's Llama-Nemotron Super and Ultra, DeciLM): a heterogeneous
//! Llama stack whose `block_configs` give each layer its own attention (`n_heads_in_group`, or
//! `no_op`) and its own feed-forward width (`ffn_mult`, or `no_op`). After the models'
//! `modeling_decilm.py`: the MLP width is `ffn_mult · 2d/3` rounded up to a multiple of 256.

use super::fields::{self, show, Cx, MAX_COUNT, MAX_LAYERS, MAX_WIDTH};
use super::layers::{self, Resolved, Stack};
use super::quant::MissingDtype;
use super::raw::RawCommon;
use crate::{Attention, AttentionSpan, Mlp, ModelError, ModelSpec};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Default, Deserialize)]
struct RawDeci {
    #[serde(flatten)]
    common: RawCommon,
    block_configs: Option<Vec<Value>>,
}

/// `_ffn_mult_to_intermediate_size`: `int(2·ffn_mult·d/3)` rounded up to a multiple of 256.
pub(super) fn ffn_width(ffn_mult: f64, hidden: u64) -> u64 {
    let raw = (2.0 * ffn_mult * hidden as f64 / 3.0) as u64;
    raw.div_ceil(256) * 256
}

pub(super) fn resolve(
    cx: &Cx,
    name: String,
    model_type: &str,
    obj: &serde_json::Map<String, Value>,
) -> Result<ModelSpec, ModelError> {
    let raw: RawDeci = cx.mirror(obj)?;
    let c = &raw.common;
    let hidden = cx.required("hidden_size", c.hidden_size, MAX_WIDTH)?;
    let heads = cx.required("num_attention_heads", c.num_attention_heads, MAX_COUNT)?;
    let layers = cx.required("num_hidden_layers", c.num_hidden_layers, MAX_LAYERS)?;
    let head_dim = fields::head_dim(cx, c.head_dim, hidden, heads)?;
    let blocks = raw
        .block_configs
        .as_ref()
        .ok_or_else(|| cx.missing("block_configs"))?;
    if blocks.len() as u64 != layers {
        return Err(cx.invalid(
            "block_configs",
            format!("[{} entries]", blocks.len()),
            format!("needs one entry per layer, num_hidden_layers = {layers}"),
        ));
    }
    let mut stack = Vec::with_capacity(blocks.len());
    for (i, block) in blocks.iter().enumerate() {
        let part = |key: &str| -> Result<&serde_json::Map<String, Value>, ModelError> {
            match block.get(key) {
                Some(Value::Object(m)) => Ok(m),
                other => Err(cx.invalid(
                    &format!("block_configs[{i}].{key}"),
                    other.map_or_else(|| "null".to_string(), show),
                    "expected an object",
                )),
            }
        };
        let flag = |m: &serde_json::Map<String, Value>, part: &str, key: &str| match m.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(cx.invalid(
                &format!("block_configs[{i}].{part}.{key}"),
                show(other),
                "expected true or false",
            )),
        };
        let attn = part("attention")?;
        let ffn = part("ffn")?;
        for (m, p) in [(attn, "attention"), (ffn, "ffn")] {
            if flag(m, p, "replace_with_linear")? {
                return Err(cx.invalid(
                    &format!("block_configs[{i}].{p}.replace_with_linear"),
                    true,
                    "a block replaced by a single linear layer is not modelled",
                ));
            }
        }
        let attention = if flag(attn, "attention", "no_op")? {
            Attention::None
        } else {
            let group = match attn.get("n_heads_in_group") {
                Some(v) => v
                    .as_u64()
                    .filter(|&g| g > 0 && heads % g == 0)
                    .ok_or_else(|| {
                        cx.invalid(
                            &format!("block_configs[{i}].attention.n_heads_in_group"),
                            show(v),
                            format!("must be a positive divisor of num_attention_heads = {heads}"),
                        )
                    })?,
                None => {
                    return Err(
                        cx.missing(&format!("block_configs[{i}].attention.n_heads_in_group"))
                    )
                }
            };
            Attention::Gqa {
                heads,
                kv_heads: heads / group,
                head_dim,
                span: AttentionSpan::Full,
                sinks: false,
                qkv_bias: false,
                o_bias: false,
                qk_norm: false,
                output_gate: false,
            }
        };
        let mlp = if flag(ffn, "ffn", "no_op")? {
            Mlp::None
        } else {
            let mult = ffn
                .get("ffn_mult")
                .and_then(Value::as_f64)
                .filter(|m| m.is_finite() && *m > 0.0 && *m < 1e3);
            let Some(mult) = mult else {
                return Err(cx.invalid(
                    &format!("block_configs[{i}].ffn.ffn_mult"),
                    ffn.get("ffn_mult").map_or_else(|| "null".to_string(), show),
                    "expected a positive multiplier",
                ));
            };
            Mlp::Dense {
                intermediate: ffn_width(mult, hidden),
                gated: true,
                bias: false,
            }
        };
        stack.push((attention, mlp));
    }
    let resolved = Resolved::from_common(
        cx,
        c,
        MissingDtype::Refuse,
        Stack {
            name,
            model_type: model_type.to_string(),
            hidden_size: hidden,
            layers: stack,
            mtp: Vec::new(),
        },
    )?;
    layers::assemble(cx, resolved)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::ffn_width;
    use crate::{parse_config, Attention, Mlp};
    use serde_json::json;

    #[test]
    fn heterogeneous_blocks_by_hand() {
        // A three-layer DeciLM stack, d 1024, 16 heads of 64, vocab 1000, untied:
        // layer 0: GQA with groups of 4 (4 KV heads), ffn_mult 2.625 → int(2·2.625·1024/3) = 1792
        //          → 1792 (a multiple of 256);
        // layer 1: attention no-op, ffn_mult 1.3 → int(887.46) = 887 → 1024;
        // layer 2: GQA with groups of 8 (2 KV heads), ffn no-op.
        assert_eq!(ffn_width(2.625, 1024), 1792);
        assert_eq!(ffn_width(1.3, 1024), 1024);
        let cfg = json!({
            "model_type": "nemotron-nas", "hidden_size": 1024, "num_attention_heads": 16,
            "num_hidden_layers": 3, "vocab_size": 1000, "max_position_embeddings": 4096,
            "torch_dtype": "bfloat16",
            "block_configs": [
                {"attention": {"n_heads_in_group": 4, "no_op": false, "replace_with_linear": false},
                 "ffn": {"ffn_mult": 2.625, "no_op": false, "replace_with_linear": false}},
                {"attention": {"n_heads_in_group": null, "no_op": true, "replace_with_linear": false},
                 "ffn": {"ffn_mult": 1.3, "no_op": false, "replace_with_linear": false}},
                {"attention": {"n_heads_in_group": 8, "no_op": false, "replace_with_linear": false},
                 "ffn": {"ffn_mult": null, "no_op": true, "replace_with_linear": false}}
            ]
        });
        let s = parse_config(&cfg.to_string(), "deci.json").unwrap();
        // attention: layer 0 2·1024·1024 + 2·1024·256 = 2,621,440; layer 2 2·1024·1024
        // + 2·1024·128 = 2,359,296; MLP: 3·1024·1792 = 5,505,024 and 3·1024·1024 = 3,145,728;
        // norms: one before each mixer and each FFN that exists, (2 + 1 + 1)·1024, and the
        // final 1024 = 5,120; embedding and head 2·1000·1024 = 2,048,000: 15,684,608.
        assert_eq!(s.params().total(), 15_684_608);
        assert_eq!(s.num_layers(), 3);
        assert!(s.groups.iter().any(|g| g.attention == Attention::None));
        assert!(s.groups.iter().any(|g| g.mlp == Mlp::None));
        // Only the two attention layers hold KV: 2·(4 + 2)·64 = 768 elements per token.
        let kv: u64 = s
            .groups
            .iter()
            .map(|g| g.count * g.attention.kv_elements_per_token())
            .sum();
        assert_eq!(kv, 768);
        // A linear replacement is refused by name.
        let mut bad = cfg.clone();
        bad["block_configs"][0]["attention"]["replace_with_linear"] = json!(true);
        let e = parse_config(&bad.to_string(), "deci.json")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("block_configs[0].attention.replace_with_linear"),
            "{e}"
        );
    }
}
