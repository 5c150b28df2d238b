//! `llama4` (the multimodal wrapper, language model under `text_config`) and `llama4_text`:
//! MoE on every `interleave_moe_layer_step`-th layer with one shared expert, dense layers of
//! `intermediate_size_mlp`, and chunked attention on the RoPE layers while every
//! `no_rope_layer_interval`-th (NoPE) layer attends globally. Only the language model is
//! described; the vision tower and projector are not counted.

use super::fields::{self, Cx, MAX_CONTEXT, MAX_COUNT, MAX_LAYERS, MAX_VOCAB, MAX_WIDTH};
use super::layers::{self, Resolved};
use super::quant::{self, MissingDtype};
use super::raw::{RawLlama4, RawLlama4Text};
use crate::{Attention, AttentionSpan, Mlp, ModelError, ModelSpec};
use serde_json::{Map, Value};

/// `transformers`' `Llama4TextConfig.attention_chunk_size` default, used when the key is
/// absent (an explicit `null` means no chunking is configured).
const DEFAULT_CHUNK: u64 = 8192;

pub(super) fn resolve(
    cx: &Cx,
    name: String,
    model_type: &str,
    obj: &Map<String, Value>,
) -> Result<ModelSpec, ModelError> {
    if model_type == "llama4_text" {
        let text: RawLlama4Text = cx.mirror(obj)?;
        return resolve_text(cx, name, obj, &text, &RawLlama4::default());
    }
    let outer: RawLlama4 = cx.mirror(obj)?;
    let text_obj = outer
        .text_config
        .as_ref()
        .ok_or_else(|| cx.missing("text_config"))?;
    let tcx = cx.nested("text_config.");
    let text: RawLlama4Text = tcx.mirror(text_obj)?;
    resolve_text(&tcx, name, text_obj, &text, &outer)
}

fn resolve_text(
    cx: &Cx,
    name: String,
    obj: &Map<String, Value>,
    raw: &RawLlama4Text,
    outer: &RawLlama4,
) -> Result<ModelSpec, ModelError> {
    let c = &raw.common;
    let super::raw::Sizes {
        hidden,
        layers,
        heads,
    } = c.sizes(cx)?;
    let kv_heads = fields::kv_heads(cx, c.num_key_value_heads, heads)?;
    let head_dim = fields::head_dim(cx, c.head_dim, hidden, heads)?;
    let spans = spans(cx, obj, raw, layers)?;
    let moe_layers = moe_layers(cx, raw, layers)?;
    let bias = c.attention_bias.unwrap_or(false);
    let moe = moe(cx, raw)?;
    let mut resolved_layers = Vec::with_capacity(spans.len());
    for (i, span) in (0..layers).zip(spans) {
        let mlp = if moe_layers.get(i as usize).copied().unwrap_or(false) {
            moe.clone()
        } else {
            Mlp::Dense {
                intermediate: cx.required(
                    "intermediate_size_mlp",
                    raw.intermediate_size_mlp,
                    MAX_WIDTH,
                )?,
                gated: true,
                bias: false,
            }
        };
        // Llama-4's q/k norm is a weightless L2 norm: no parameters.
        let attention = Attention::Gqa {
            heads,
            kv_heads,
            head_dim,
            span,
            sinks: false,
            qkv_bias: bias,
            o_bias: bias,
            qk_norm: false,
            output_gate: false,
        };
        resolved_layers.push((attention, mlp));
    }
    let (dtype, quant_config, qcx) = precision_source(cx, raw, outer);
    let resolved = Resolved {
        name,
        model_type: obj
            .get("model_type")
            .and_then(Value::as_str)
            .unwrap_or("llama4_text")
            .to_string(),
        hidden_size: hidden,
        vocab_size: cx.required("vocab_size", c.vocab_size, MAX_VOCAB)?,
        tie_word_embeddings: c
            .tie_word_embeddings
            .or(outer.tie_word_embeddings)
            .unwrap_or(false),
        layers: resolved_layers,
        mtp: Vec::new(),
        checkpoint: quant::checkpoint(
            &qcx,
            dtype,
            quant_config,
            MissingDtype::Refuse,
            c.num_hidden_layers,
        )?,
        max_context: cx.required(
            "max_position_embeddings",
            c.max_position_embeddings,
            MAX_CONTEXT,
        )?,
    };
    layers::assemble(cx, resolved)
}

/// The text config's dtype and quantization, else the wrapper's (with the context that names
/// where they were read).
fn precision_source<'a>(
    cx: &Cx<'a>,
    raw: &'a RawLlama4Text,
    outer: &'a RawLlama4,
) -> (Option<(&'static str, &'a str)>, Option<&'a Value>, Cx<'a>) {
    let outer_dtype = match (&outer.torch_dtype, &outer.dtype) {
        (Some(t), _) => Some(("torch_dtype", t.as_str())),
        (None, Some(t)) => Some(("dtype", t.as_str())),
        (None, None) => None,
    };
    let dtype = raw.common.dtype().or(outer_dtype);
    match (&raw.common.quantization_config, &outer.quantization_config) {
        (Some(q), _) => (dtype, Some(q), *cx),
        (None, Some(q)) => (dtype, Some(q), Cx::new(cx.origin)),
        (None, None) => (dtype, None, *cx),
    }
}

/// Chunked (RoPE) or full (NoPE) attention per layer, from `layer_types` or `no_rope_layers`
/// (default: layer `i` uses RoPE unless `(i + 1) % no_rope_layer_interval == 0`), as in
/// `Llama4TextConfig`.
fn spans(
    cx: &Cx,
    obj: &Map<String, Value>,
    raw: &RawLlama4Text,
    layers: u64,
) -> Result<Vec<AttentionSpan>, ModelError> {
    let c = &raw.common;
    let chunk = if obj.contains_key("attention_chunk_size") {
        raw.attention_chunk_size
    } else {
        Some(DEFAULT_CHUNK)
    };
    if let Some(types) = &c.layer_types {
        return layers::spans_from_types(cx, types, layers, c.sliding_window, chunk);
    }
    let rope = match raw.no_rope_layers.as_deref() {
        Some(flags) if !flags.is_empty() => {
            if flags.len() as u64 != layers {
                return Err(cx.invalid(
                    "no_rope_layers",
                    format!("[{} entries]", flags.len()),
                    format!("needs one entry per layer, num_hidden_layers = {layers}"),
                ));
            }
            if let Some(bad) = flags.iter().find(|&&f| f > 1) {
                return Err(cx.invalid("no_rope_layers", bad, "entries must be 0 or 1"));
            }
            flags.iter().map(|&f| f == 1).collect()
        }
        _ => {
            let interval = cx.or_default(
                "no_rope_layer_interval",
                raw.no_rope_layer_interval,
                4,
                MAX_LAYERS,
            )?;
            (0..layers)
                .map(|i| !fields::divides(interval, i + 1))
                .collect::<Vec<_>>()
        }
    };
    rope.into_iter()
        .map(|uses_rope| {
            if uses_rope {
                Ok(AttentionSpan::Chunked {
                    chunk: layers::chunk_size(cx, chunk)?,
                })
            } else {
                Ok(AttentionSpan::Full)
            }
        })
        .collect()
}

/// Per layer, whether it is MoE: `moe_layers` if given, else every
/// `interleave_moe_layer_step`-th layer starting at `step - 1`.
fn moe_layers(cx: &Cx, raw: &RawLlama4Text, layers: u64) -> Result<Vec<bool>, ModelError> {
    if let Some(list) = &raw.moe_layers {
        cx.layer_indices("moe_layers", list, layers)?;
        let mut mask = vec![false; layers as usize];
        for &i in list {
            if let Some(m) = mask.get_mut(i as usize) {
                *m = true;
            }
        }
        return Ok(mask);
    }
    let step = cx.or_default(
        "interleave_moe_layer_step",
        raw.interleave_moe_layer_step,
        1,
        MAX_LAYERS,
    )?;
    Ok((0..layers).map(|i| fields::divides(step, i + 1)).collect())
}

/// Routed experts of `intermediate_size` plus one shared expert of the same size.
fn moe(cx: &Cx, raw: &RawLlama4Text) -> Result<Mlp, ModelError> {
    let experts = cx.required("num_local_experts", raw.num_local_experts, MAX_COUNT)?;
    let ff = cx.required("intermediate_size", raw.common.intermediate_size, MAX_WIDTH)?;
    Ok(Mlp::Moe {
        experts,
        top_k: fields::top_k(cx, "num_experts_per_tok", raw.num_experts_per_tok, experts)?,
        expert_intermediate: ff,
        shared_intermediate: ff,
        gated: true,
        bias: false,
        latent: 0,
    })
}
