//! `gemma4_text`: Gemma 4's decoder, alone or as the `text_config` of the `gemma4` multimodal
//! wrapper (whose vision tower is counted apart by [`super::vision`]); and `gemma3_text`, Gemma
//! 3's decoder, the same blocks with Gemma 3's defaults (see [`Generation`]).
//!
//! After `transformers`' `Gemma4TextAttention` / `Gemma4TextDecoderLayer`
//! (`models/gemma4/modeling_gemma4.py`) and vLLM's `models/gemma4.py`:
//! - `layer_types` interleaves `sliding_attention` (window `sliding_window`, `head_dim`,
//!   `num_key_value_heads`) and `full_attention` layers (`global_head_dim`); absent, every
//!   sixth layer is full, and the last layer is always made full (as `Gemma4TextConfig` does);
//! - every layer has q and k RMSNorms with a weight of one head (`qk_norm`) and a weightless v
//!   norm; a gated GeLU MLP without biases (gate, up, down);
//! - `attention_k_eq_v`: the full layers use `num_global_key_value_heads` and have no `v_proj`;
//!   V is `v_norm(k_proj(x))` while K is `rope(k_norm(k_proj(x)))`, so the two differ and the
//!   KV cache holds both (`DynamicCache.update(key_states, value_states)`; vLLM's `Attention`
//!   caches K and V alike). vLLM loads the K weights into both the K and the V slot of its fused
//!   `qkv_proj`, so these layers are described as ordinary GQA with a V projection: the KV cache
//!   and the served weights are right, and the checkpoint's unique parameters are overcounted by
//!   the missing `v_proj`s (a note gives the figure);
//! - four RMSNorms per layer (input, post-attention, pre- and post-feedforward): the spec counts
//!   two per layer, and a note gives the other two's small total;
//! - logit soft-capping and the per-layer `layer_scalar` buffer carry no weights to speak of.
//!
//! What would change the weights and is not modelled is refused by name: per-layer input
//! embeddings (`hidden_size_per_layer_input`, whose `transformers` default 256 applies when the
//! key is absent) and KV sharing across layers
//! (`num_kv_shared_layers`, which also governs `use_double_wide_mlp`).

use super::fields::{self, Cx, MAX_CONTEXT, MAX_COUNT, MAX_LAYERS, MAX_VOCAB, MAX_WIDTH};
use super::layers::{self, Resolved};
use super::quant::{self, MissingDtype};
use super::raw::RawCommon;
use crate::{Attention, AttentionSpan, Mlp, ModelError, ModelSpec};
use serde::Deserialize;
use serde_json::{Map, Value};

/// `Gemma4TextConfig` defaults used when the key is absent.
const DEFAULT_WINDOW: u64 = 512;
const DEFAULT_GLOBAL_HEAD_DIM: u64 = 512;
const DEFAULT_PER_LAYER_INPUT: u64 = 256;
/// Without `layer_types`, layer `i` is full when `(i + 1) % 6 == 0` (5 sliding : 1 full).
const DEFAULT_PATTERN: u64 = 6;

/// One decoder layer.
type Layer = (Attention, Mlp);

/// Which Gemma: the blocks are the same, the defaults and extensions differ.
/// Gemma 3 (`Gemma3TextConfig`, `models/gemma3/configuration_gemma3.py`): window 4096 when the
/// key is absent, layer `i` full when `(i + 1) % sliding_window_pattern == 0` (default 6), one
/// head dimension for every layer, no last-layer override, none of Gemma 4's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Generation {
    Gemma3,
    Gemma4,
}

/// `Gemma3TextConfig` defaults, which the 4B/12B/27B wrappers' `text_config`s rely on (they
/// state neither the vocabulary nor the context).
const GEMMA3_DEFAULT_WINDOW: u64 = 4096;
const GEMMA3_DEFAULT_VOCAB: u64 = 262_208;
const GEMMA3_DEFAULT_CONTEXT: u64 = 131_072;

const LAYER_TYPES: &[&str] = &["sliding_attention", "full_attention"];
const BIDIRECTIONAL: &[&str] = &["vision", "all"];

/// Raw mirror of `Gemma4TextConfig`: every field optional, unknown fields ignored.
#[derive(Debug, Default, Deserialize)]
struct RawGemma4Text {
    #[serde(flatten)]
    common: RawCommon,
    /// Head dimension of the full layers; `null` or 0: `head_dim`.
    global_head_dim: Option<u64>,
    /// KV heads of the full layers when `attention_k_eq_v`; `null`: `num_key_value_heads`.
    num_global_key_value_heads: Option<u64>,
    /// Full layers without `v_proj` (V from the key projection).
    attention_k_eq_v: Option<bool>,
    /// Per-layer input embeddings (Gemma-3n-style PLE); 0 or `null`: none.
    hidden_size_per_layer_input: Option<u64>,
    /// The last `n` layers reuse earlier layers' K and V (no k/v projections of their own).
    num_kv_shared_layers: Option<u64>,
    /// A routed-expert block beside the dense MLP on every layer (Gemma 4 26B-A4B): the dense
    /// MLP then acts as a shared expert.
    enable_moe_block: Option<bool>,
    num_experts: Option<u64>,
    top_k_experts: Option<u64>,
    moe_intermediate_size: Option<u64>,
    /// `"all"` halves the sliding window (`window / 2 + 1`), as `Gemma4TextConfig` does.
    use_bidirectional_attention: Option<String>,
    /// Gemma 3 without `layer_types`: every `n`-th layer is full.
    sliding_window_pattern: Option<u64>,
}

pub(super) fn resolve(
    cx: &Cx,
    name: String,
    model_type: &str,
    obj: &Map<String, Value>,
    generation: Generation,
) -> Result<ModelSpec, ModelError> {
    let raw: RawGemma4Text = cx.mirror(obj)?;
    let c = &raw.common;
    let hidden = cx.required("hidden_size", c.hidden_size, MAX_WIDTH)?;
    let (stack, notes) = stack(cx, obj, &raw, hidden, generation)?;
    let resolved = Resolved {
        name,
        model_type: model_type.to_string(),
        hidden_size: hidden,
        vocab_size: match generation {
            Generation::Gemma3 => {
                cx.or_default("vocab_size", c.vocab_size, GEMMA3_DEFAULT_VOCAB, MAX_VOCAB)?
            }
            Generation::Gemma4 => cx.required("vocab_size", c.vocab_size, MAX_VOCAB)?,
        },
        // `Gemma{3,4}TextConfig` and their wrappers default to tied embeddings.
        tie_word_embeddings: c.tie_word_embeddings.unwrap_or(true),
        layers: stack,
        mtp: Vec::new(),
        checkpoint: quant::checkpoint(
            cx,
            c.dtype(),
            c.quantization_config.as_ref(),
            MissingDtype::Refuse,
            c.num_hidden_layers,
        )?,
        max_context: match generation {
            Generation::Gemma3 => cx.or_default(
                "max_position_embeddings",
                c.max_position_embeddings,
                GEMMA3_DEFAULT_CONTEXT,
                MAX_CONTEXT,
            )?,
            Generation::Gemma4 => cx.required(
                "max_position_embeddings",
                c.max_position_embeddings,
                MAX_CONTEXT,
            )?,
        },
    };
    let mut spec = layers::assemble(cx, resolved)?;
    spec.notes.extend(notes);
    Ok(spec)
}

/// The decoder layers in order, and the notes on what they leave out.
fn stack(
    cx: &Cx,
    obj: &Map<String, Value>,
    raw: &RawGemma4Text,
    hidden: u64,
    generation: Generation,
) -> Result<(Vec<Layer>, Vec<String>), ModelError> {
    if generation == Generation::Gemma4 {
        refuse_unmodelled(cx, obj, raw)?;
    }
    let c = &raw.common;
    let layers = cx.required("num_hidden_layers", c.num_hidden_layers, MAX_LAYERS)?;
    let heads = cx.required("num_attention_heads", c.num_attention_heads, MAX_COUNT)?;
    // Gemma's head_dim is not hidden / heads (5376 / 32 = 168, head_dim 256): required.
    let head_dim = cx.required("head_dim", c.head_dim, MAX_WIDTH)?;
    let kv_heads = cx.required("num_key_value_heads", c.num_key_value_heads, MAX_COUNT)?;
    let kv_heads = divisor_of_heads(cx, "num_key_value_heads", kv_heads, heads)?;
    let global_head_dim = match obj.get("global_head_dim") {
        None if generation == Generation::Gemma3 => head_dim,
        None => DEFAULT_GLOBAL_HEAD_DIM,
        Some(_) => match raw.global_head_dim {
            None | Some(0) => head_dim,
            Some(g) => cx.in_range("global_head_dim", g, MAX_WIDTH)?,
        },
    };
    let k_eq_v = generation == Generation::Gemma4 && raw.attention_k_eq_v.unwrap_or(false);
    let global_kv_heads = match (k_eq_v, raw.num_global_key_value_heads) {
        (true, Some(g)) => {
            let g = cx.in_range("num_global_key_value_heads", g, MAX_COUNT)?;
            divisor_of_heads(cx, "num_global_key_value_heads", g, heads)?
        }
        _ => kv_heads,
    };
    let (spans, forced_last) = spans(cx, obj, raw, layers, generation)?;
    let bias = c.attention_bias.unwrap_or(false);
    let intermediate = cx.required("intermediate_size", c.intermediate_size, MAX_WIDTH)?;
    let mlp = if generation == Generation::Gemma4 && raw.enable_moe_block == Some(true) {
        // Every layer: the dense MLP beside a routed block, summed (transformers'
        // `Gemma4TextDecoderLayer`): a shared expert of the dense width next to the experts.
        let experts = cx.required("num_experts", raw.num_experts, MAX_COUNT)?;
        Mlp::Moe {
            experts,
            top_k: fields::top_k(cx, "top_k_experts", raw.top_k_experts, experts)?,
            expert_intermediate: cx.required(
                "moe_intermediate_size",
                raw.moe_intermediate_size,
                MAX_WIDTH,
            )?,
            shared_intermediate: intermediate,
            gated: true,
            bias: false,
            latent: 0,
        }
    } else {
        Mlp::Dense {
            intermediate,
            gated: true,
            bias: false,
        }
    };
    let stack: Vec<Layer> = spans
        .into_iter()
        .map(|span| {
            let (kv, hd) = match span {
                AttentionSpan::Full => (global_kv_heads, global_head_dim),
                _ => (kv_heads, head_dim),
            };
            let attention = Attention::Gqa {
                heads,
                kv_heads: kv,
                head_dim: hd,
                span,
                sinks: false,
                qkv_bias: bias,
                o_bias: bias,
                qk_norm: true,
                output_gate: false,
            };
            (attention, mlp.clone())
        })
        .collect();
    let full = stack
        .iter()
        .filter(|(a, _)| a.span() == AttentionSpan::Full)
        .count() as u64;
    let mut notes = Vec::new();
    if forced_last {
        notes.push(
            "the last layer is made `full_attention`, as Gemma4TextConfig does whatever layer_types says"
                .to_string(),
        );
    }
    if k_eq_v && full > 0 {
        let v_proj = global_kv_heads * global_head_dim * (hidden + u64::from(bias));
        notes.push(format!(
            "attention_k_eq_v: the {full} full-attention layers have no v_proj (V = v_norm(k_proj(x)), \
             cached beside K); they are counted with one, as vLLM loads them (K weights copied into \
             the V slot), {} parameters above the checkpoint's",
            full * v_proj
        ));
    }
    notes.push(format!(
        "Gemma's post-attention and post-feedforward RMSNorms ({} parameters) are not counted",
        layers * 2 * hidden
    ));
    Ok((stack, notes))
}

/// Refuses, by name, the Gemma 4 features that add weights this crate does not describe.
fn refuse_unmodelled(
    cx: &Cx,
    obj: &Map<String, Value>,
    raw: &RawGemma4Text,
) -> Result<(), ModelError> {
    match (
        obj.contains_key("hidden_size_per_layer_input"),
        raw.hidden_size_per_layer_input,
    ) {
        (false, _) => {
            return Err(cx.invalid(
                "hidden_size_per_layer_input",
                format!("absent (transformers' default {DEFAULT_PER_LAYER_INPUT})"),
                "per-layer input embeddings are not modelled; only 0 is supported",
            ))
        }
        (true, Some(n)) if n > 0 => {
            return Err(cx.invalid(
                "hidden_size_per_layer_input",
                n,
                "per-layer input embeddings are not modelled; only 0 is supported",
            ))
        }
        _ => {}
    }
    if let Some(n) = raw.num_kv_shared_layers.filter(|&n| n > 0) {
        return Err(cx.invalid(
            "num_kv_shared_layers",
            n,
            "layers sharing another layer's K and V are not modelled; only 0 is supported",
        ));
    }
    Ok(())
}

/// `n` KV heads must divide the query heads.
fn divisor_of_heads(cx: &Cx, field: &str, n: u64, heads: u64) -> Result<u64, ModelError> {
    if fields::divides(n, heads) {
        Ok(n)
    } else {
        Err(cx.invalid(
            field,
            n,
            format!("does not divide num_attention_heads = {heads}"),
        ))
    }
}

/// Spans per layer, and whether the last layer was forced to full attention.
fn spans(
    cx: &Cx,
    obj: &Map<String, Value>,
    raw: &RawGemma4Text,
    layers: u64,
    generation: Generation,
) -> Result<(Vec<AttentionSpan>, bool), ModelError> {
    let pattern = match generation {
        Generation::Gemma3 => cx.or_default(
            "sliding_window_pattern",
            raw.sliding_window_pattern,
            DEFAULT_PATTERN,
            MAX_LAYERS,
        )?,
        Generation::Gemma4 => DEFAULT_PATTERN,
    };
    let c = &raw.common;
    let types: Vec<String> = match &c.layer_types {
        Some(types) => {
            if let Some(bad) = types.iter().find(|t| !LAYER_TYPES.contains(&t.as_str())) {
                return Err(cx.unsupported("layer_types entry", bad, LAYER_TYPES));
            }
            types.clone()
        }
        None => (0..layers)
            .map(|i| {
                let full = fields::divides(pattern, i + 1);
                LAYER_TYPES[usize::from(full)].to_string()
            })
            .collect(),
    };
    let window = if obj.contains_key("sliding_window") {
        c.sliding_window
            .map(|w| cx.in_range("sliding_window", w, MAX_CONTEXT))
            .transpose()?
    } else {
        Some(match generation {
            Generation::Gemma3 => GEMMA3_DEFAULT_WINDOW,
            Generation::Gemma4 => DEFAULT_WINDOW,
        })
    };
    let window = match raw.use_bidirectional_attention.as_deref() {
        None | Some("vision") => window,
        Some("all") => window.map(|w| w / 2 + 1),
        Some(other) => {
            return Err(cx.unsupported("use_bidirectional_attention", other, BIDIRECTIONAL))
        }
    };
    let mut spans = layers::spans_from_types(cx, &types, layers, window, None)?;
    if generation == Generation::Gemma3 {
        return Ok((spans, false));
    }
    let forced = match spans.last_mut() {
        Some(last) if *last != AttentionSpan::Full => {
            *last = AttentionSpan::Full;
            true
        }
        _ => false,
    };
    Ok((spans, forced))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use crate::{parse_config, parse_snapshot, Precision};
    use serde_json::json;

    const SNAPSHOT: &str = "../../../shared/models/nvidia--Gemma-4-31B-IT-NVFP4";

    fn snapshot() -> (String, String, String) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT);
        let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
        let quant = std::fs::read_to_string(dir.join("hf_quant_config.json")).unwrap();
        (config, quant, dir.to_string_lossy().into_owned())
    }

    fn sliding() -> Attention {
        Attention::Gqa {
            heads: 32,
            kv_heads: 16,
            head_dim: 256,
            span: AttentionSpan::Sliding { window: 1024 },
            sinks: false,
            qkv_bias: false,
            o_bias: false,
            qk_norm: true,
            output_gate: false,
        }
    }

    fn global() -> Attention {
        Attention::Gqa {
            heads: 32,
            kv_heads: 4,
            head_dim: 512,
            span: AttentionSpan::Full,
            sinks: false,
            qkv_bias: false,
            o_bias: false,
            qk_norm: true,
            output_gate: false,
        }
    }

    const MLP: Mlp = Mlp::Dense {
        intermediate: 21504,
        gated: true,
        bias: false,
    };

    /// A small text-only Gemma 4: 6 layers (5 sliding, 1 full), d 64, 4 heads.
    fn small() -> Value {
        json!({
            "model_type": "gemma4_text",
            "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 6,
            "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
            "global_head_dim": 32, "num_global_key_value_heads": 1, "attention_k_eq_v": true,
            "sliding_window": 8, "hidden_size_per_layer_input": 0, "enable_moe_block": false,
            "num_kv_shared_layers": 0, "vocab_size": 100, "max_position_embeddings": 1024,
            "dtype": "bfloat16"
        })
    }

    fn with(mut v: Value, key: &str, val: Value) -> Value {
        v.as_object_mut().unwrap().insert(key.to_string(), val);
        v
    }

    fn err(v: &Value) -> String {
        parse_config(&v.to_string(), "t.json")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn the_shared_gemma4_31b_nvfp4_snapshot() {
        // nvidia/Gemma-4-31B-IT-NVFP4 (https://huggingface.co/nvidia/Gemma-4-31B-IT-NVFP4):
        // "Number of model parameters: 30.7B". By hand (d 5376, vocab 262,144, tied):
        //   embedding 262,144·5376                                    = 1,409,286,144
        //   sliding attention: q, o 2·5376·32·256 + k, v 2·5376·16·256 = 132,120,576
        //   full attention:    q, o 2·5376·32·512 + k 5376·4·512       = 187,170,816
        //     (+ v 5376·4·512 = 11,010,048 as counted here: see the module doc)
        //   q/k norms 2·256 (sliding), 2·512 (full); MLP 3·5376·21504 = 346,816,512
        //   norms per layer 4·5376 = 21,504 in the checkpoint, 2·5376 counted here
        // checkpoint: 1,409,286,144 + 50·(132,120,576 + 512 + 346,816,512 + 21,504)
        //   + 10·(187,170,816 + 1,024 + 346,816,512 + 21,504) + 5376 (final norm)
        //   = 30,697,345,280 (30.7 B: the card's figure is the decoder alone)
        // counted: + 10·11,010,048 v_proj − 60·2·5376 norms = 30,806,800,640 (+0.35 %).
        let (config, quant, dir) = snapshot();
        let spec = parse_snapshot(&config, Some(&quant), &dir).unwrap();
        assert_eq!(spec.name, "nvidia--Gemma-4-31B-IT-NVFP4");
        assert_eq!(spec.model_type, "gemma4_text");
        assert!(spec.tie_word_embeddings);
        assert_eq!(spec.num_layers(), 60);
        assert_eq!(spec.groups.len(), 2);
        assert_eq!(
            (
                spec.groups[0].count,
                &spec.groups[0].attention,
                &spec.groups[0].mlp
            ),
            (50, &sliding(), &MLP)
        );
        assert_eq!(
            (
                spec.groups[1].count,
                &spec.groups[1].attention,
                &spec.groups[1].mlp
            ),
            (10, &global(), &MLP)
        );
        let total = spec.params().total();
        assert_eq!(total, 30_806_800_640);
        let unique = total - 10 * 11_010_048 + 60 * 2 * 5376;
        assert_eq!(unique, 30_697_345_280);
        assert!((total as f64 / 30.7e9 - 1.0).abs() < 0.02, "{total}");
        assert!(spec.notes.iter().any(|n| n.contains("110100480")));
        // The vision tower's layout (Gemma 4's ViT) is not one vision.rs reads: noted, not counted.
        assert_eq!(spec.vision_params, 0);
        assert!(spec.notes.iter().any(|n| n.contains("vision tower")));
        // NVFP4 linears, every self_attn kept BF16 (the `ignore` list), FP8 KV cache.
        assert_eq!(spec.checkpoint.dense_mlp, Precision::Nvfp4);
        assert_eq!(spec.checkpoint.attention, Precision::Bf16);
        assert_eq!(spec.checkpoint.embeddings, Precision::Bf16);
        assert_eq!(spec.kv_cache, Some(Precision::Fp8));
        // KV per token, FP8 (1 byte), K and V both cached:
        //   full layers 10·2·4·512 = 40,960 B (beyond the 1024-token window, only these grow);
        //   sliding 50·2·16·256 = 409,600 B more while the context is under the window.
        let exact = |bytes: f64, want: f64| (bytes - want).abs() < 1e-6;
        assert!(exact(spec.kv_bytes_per_token(Precision::Fp8), 40_960.0));
        assert!(exact(
            spec.kv_bytes_per_token_short(Precision::Fp8),
            450_560.0
        ));
        // At 131,072 tokens: 50·1024·8192 + 10·131,072·4096 = 5,788,139,520 B.
        assert!(exact(
            spec.kv_bytes_for_context(131_072, Precision::Fp8),
            5_788_139_520.0
        ));
    }

    #[test]
    fn the_snapshot_pattern_is_the_configs_order() {
        let (config, _, _) = snapshot();
        let v: Value = serde_json::from_str(&config).unwrap();
        let text = v["text_config"].as_object().unwrap();
        let cx = Cx::new("t").nested("text_config.");
        let raw: RawGemma4Text = cx.mirror(text).unwrap();
        let (layers, _) = stack(&cx, text, &raw, 5376, Generation::Gemma4).unwrap();
        assert_eq!(layers.len(), 60);
        let types = text["layer_types"].as_array().unwrap();
        for (i, ((attention, _), t)) in layers.iter().zip(types).enumerate() {
            let full = t == "full_attention";
            assert_eq!(full, (i + 1) % 6 == 0, "layer {i}");
            assert_eq!(
                attention,
                &if full { global() } else { sliding() },
                "layer {i}"
            );
        }
    }

    #[test]
    fn the_modelopt_file_alone_gives_the_same_precisions() {
        let (config, quant, dir) = snapshot();
        let mut v: Value = serde_json::from_str(&config).unwrap();
        v.as_object_mut().unwrap().remove("quantization_config");
        let spec = parse_snapshot(&v.to_string(), Some(&quant), &dir).unwrap();
        assert_eq!(spec.checkpoint.dense_mlp, Precision::Nvfp4);
        assert_eq!(spec.checkpoint.attention, Precision::Bf16);
        assert_eq!(spec.kv_cache, Some(Precision::Fp8));
        let plain = parse_snapshot(&v.to_string(), None, &dir).unwrap();
        assert_eq!(
            plain.checkpoint,
            crate::WeightPrecisions::uniform(Precision::Bf16)
        );
        assert_eq!(plain.kv_cache, None);
    }

    #[test]
    fn a_small_text_model_by_hand() {
        // d 64, 4 heads; sliding: 2 KV heads of 16; full: 1 KV head of 32 (k_eq_v).
        // sliding attention 2·64·4·16 + 2·64·2·16 = 12,288; full 2·64·4·32 + 2·64·1·32 = 20,480
        // MLP 3·64·128 = 24,576; norms 2·64 + q/k 2·16 (sliding) or 2·32 (full)
        // 5·(12,288 + 24,576 + 160) + (20,480 + 24,576 + 192) + 100·64 + 64 = 236,832
        let spec = parse_config(&small().to_string(), "t.json").unwrap();
        assert_eq!(spec.params().total(), 236_832);
        assert!(spec.tie_word_embeddings);
        assert_eq!(spec.groups[0].count, 5);
        assert_eq!(spec.groups[1].count, 1);
        assert_eq!(
            spec.groups[1].attention.kv_elements_per_token(),
            2 * 32,
            "K and V of one head"
        );
        // The v_proj counted beside k: 64·1·32 = 2048, named in the notes.
        assert!(spec.notes.iter().any(|n| n.contains("2048")));
        // Without k_eq_v the full layers keep num_key_value_heads (and a real v_proj).
        let plain = parse_config(
            &with(small(), "attention_k_eq_v", json!(false)).to_string(),
            "t.json",
        )
        .unwrap();
        assert_eq!(
            plain.groups[1].attention.kv_elements_per_token(),
            2 * 2 * 32
        );
        assert!(!plain.notes.iter().any(|n| n.contains("k_eq_v")));
    }

    #[test]
    fn defaults_follow_gemma4_text_config() {
        // No layer_types: every sixth layer full; the last layer forced full; window 512.
        let mut v = small();
        let o = v.as_object_mut().unwrap();
        o.insert("num_hidden_layers".into(), json!(8));
        o.remove("sliding_window");
        o.remove("global_head_dim");
        let spec = parse_config(&v.to_string(), "t.json").unwrap();
        let spans: Vec<(u64, AttentionSpan)> = spec
            .groups
            .iter()
            .map(|g| (g.count, g.attention.span()))
            .collect();
        assert_eq!(
            spans,
            [
                (6, AttentionSpan::Sliding { window: 512 }),
                (2, AttentionSpan::Full)
            ]
        );
        assert!(matches!(
            spec.groups[1].attention,
            Attention::Gqa { head_dim: 512, .. }
        ));
        assert!(spec.notes.iter().any(|n| n.contains("last layer")));
        // `use_bidirectional_attention: "all"` halves the window (512 / 2 + 1).
        let all = with(v, "use_bidirectional_attention", json!("all"));
        let spec = parse_config(&all.to_string(), "t.json").unwrap();
        assert_eq!(
            spec.groups[0].attention.span(),
            AttentionSpan::Sliding { window: 257 }
        );
    }

    #[test]
    fn the_moe_block_is_routed_experts_beside_a_shared_dense_mlp() {
        // The small model with the MoE block: 8 experts of 32, top 2, beside its 128-wide MLP.
        // Per layer: experts 8·3·64·32 = 49,152; the dense MLP 3·64·128 = 24,576 as a shared
        // expert; router 8·64 = 512. Six layers: 294,912 routed, 147,456 shared, 3,072 router.
        let v = with(
            with(
                with(
                    with(small(), "enable_moe_block", json!(true)),
                    "num_experts",
                    json!(8),
                ),
                "top_k_experts",
                json!(2),
            ),
            "moe_intermediate_size",
            json!(32),
        );
        let spec = parse_config(&v.to_string(), "t.json").unwrap();
        let p = spec.params();
        assert_eq!(
            (p.routed_experts, p.shared_experts, p.router),
            (294_912, 147_456, 3_072)
        );
        // Active: 2 of 8 experts, 6·2·6,144 = 73,728 in place of the routed total.
        assert_eq!(spec.active_params(), p.total() - 294_912 + 73_728);
        // Without the expert count it is refused by name.
        let e = err(&with(small(), "enable_moe_block", json!(true)));
        assert!(e.contains("`num_experts`"), "{e}");
    }

    #[test]
    fn unmodelled_features_are_refused_by_name() {
        let e = err(&with(small(), "hidden_size_per_layer_input", json!(256)));
        assert!(e.contains("`hidden_size_per_layer_input` = 256"), "{e}");
        let mut absent = small();
        absent
            .as_object_mut()
            .unwrap()
            .remove("hidden_size_per_layer_input");
        let e = err(&absent);
        assert!(e.contains("`hidden_size_per_layer_input` = absent"), "{e}");
        let e = err(&with(small(), "num_kv_shared_layers", json!(2)));
        assert!(e.contains("`num_kv_shared_layers` = 2"), "{e}");
        let e = err(&with(small(), "num_global_key_value_heads", json!(3)));
        assert!(e.contains("`num_global_key_value_heads` = 3"), "{e}");
        let e = err(&with(
            small(),
            "layer_types",
            json!(["sliding_attention", "chunked_attention"]),
        ));
        assert!(e.contains("chunked_attention"), "{e}");
        // Inside the wrapper, the path names text_config.
        let (config, _, _) = snapshot();
        let mut v: Value = serde_json::from_str(&config).unwrap();
        v["text_config"]["num_kv_shared_layers"] = json!(4);
        let e = err(&v);
        assert!(e.contains("`text_config.num_kv_shared_layers` = 4"), "{e}");
    }

    /// Gemma 3 1B's `config.json` (https://huggingface.co/google/gemma-3-1b-it/blob/main/config.json).
    fn gemma3_1b() -> serde_json::Value {
        json!({
            "architectures": [
                "Gemma3ForCausalLM"
            ],
            "attention_bias": false,
            "attention_dropout": 0.0,
            "attn_logit_softcapping": null,
            "bos_token_id": 2,
            "cache_implementation": "hybrid",
            "eos_token_id": [
                1,
                106
            ],
            "final_logit_softcapping": null,
            "head_dim": 256,
            "hidden_activation": "gelu_pytorch_tanh",
            "hidden_size": 1152,
            "initializer_range": 0.02,
            "intermediate_size": 6912,
            "max_position_embeddings": 32768,
            "model_type": "gemma3_text",
            "num_attention_heads": 4,
            "num_hidden_layers": 26,
            "num_key_value_heads": 1,
            "pad_token_id": 0,
            "query_pre_attn_scalar": 256,
            "rms_norm_eps": 1e-06,
            "rope_local_base_freq": 10000,
            "rope_scaling": null,
            "rope_theta": 1000000,
            "sliding_window": 512,
            "sliding_window_pattern": 6,
            "torch_dtype": "bfloat16",
            "transformers_version": "4.50.0.dev0",
            "use_cache": true,
            "vocab_size": 262144
        })
    }

    #[test]
    fn gemma3_1b_by_hand() {
        // Per layer: q 1152·1024 and o 1024·1152 (1,179,648 each), k and v 1152·256 (294,912
        // each), q/k norms 2·256: 2,949,632; gated MLP 3·1152·6912 = 23,887,872; two counted
        // norms 2,304: 26,839,808. 26 layers 697,835,008, final norm 1,152, tied embedding
        // 262,144·1152 = 301,989,888: 999,826,048. With the two uncounted norms per layer
        // (26·2·1152 = 59,904, noted), 999,885,952: the Gemma 3 report's 302M embedding +
        // 698M non-embedding (Table 1, https://arxiv.org/abs/2503.19786).
        let s = parse_config(&gemma3_1b().to_string(), "gemma-3-1b.json").unwrap();
        assert_eq!(s.params().total(), 999_826_048);
        assert!(s.notes.iter().any(|n| n.contains("59904")));
        // Layers 6, 12, 18 and 24 (1-based) are full; the other 22 slide over 512 tokens.
        // Long context: 4 layers · 2 · 256 · 2 B = 4,096 B per token; short: 26 · 1,024.
        assert!((s.kv_bytes_per_token(Precision::Bf16) - 4096.0).abs() < 1e-9);
        let sliding = s
            .groups
            .iter()
            .filter(|g| g.attention.span() == AttentionSpan::Sliding { window: 512 })
            .map(|g| g.count)
            .sum::<u64>();
        assert_eq!(sliding, 22);
    }

    #[test]
    fn gemma3_27b_wrapper_with_its_defaults_and_siglip_tower() {
        // The 27B wrapper's text_config states neither vocabulary nor context: Gemma3TextConfig's
        // 262,208 and 131,072 apply. The report's Table 1: 1,416M embedding + 25,600M
        // non-embedding, 417M vision encoder.
        let text = json!({
            "architectures": [
                "Gemma3ForConditionalGeneration"
            ],
            "boi_token_index": 255999,
            "eoi_token_index": 256000,
            "eos_token_id": [
                1,
                106
            ],
            "image_token_index": 262144,
            "initializer_range": 0.02,
            "mm_tokens_per_image": 256,
            "model_type": "gemma3",
            "text_config": {
                "head_dim": 128,
                "hidden_size": 5376,
                "intermediate_size": 21504,
                "model_type": "gemma3_text",
                "num_attention_heads": 32,
                "num_hidden_layers": 62,
                "num_key_value_heads": 16,
                "query_pre_attn_scalar": 168,
                "rope_scaling": {
                    "factor": 8.0,
                    "rope_type": "linear"
                },
                "sliding_window": 1024
            },
            "torch_dtype": "bfloat16",
            "transformers_version": "4.50.0.dev0",
            "vision_config": {
                "hidden_size": 1152,
                "image_size": 896,
                "intermediate_size": 4304,
                "model_type": "siglip_vision_model",
                "num_attention_heads": 16,
                "num_hidden_layers": 27,
                "patch_size": 14,
                "vision_use_head": false
            }
        })
        .to_string();
        let s = parse_config(&text, "gemma-3-27b-it.json").unwrap();
        assert_eq!(s.vocab_size, 262_208);
        let total = s.params().total() as f64;
        assert!((total / 27.016e9 - 1.0).abs() < 0.02, "{total}");
        let vision = s.vision_params as f64;
        assert!((vision / 423.1e6 - 1.0).abs() < 0.001, "{vision}");
        // No window given for the pattern: every sixth layer full, 10 of 62.
        let full = s
            .groups
            .iter()
            .filter(|g| g.attention.span() == AttentionSpan::Full)
            .map(|g| g.count)
            .sum::<u64>();
        assert_eq!(full, 10);
    }
}
