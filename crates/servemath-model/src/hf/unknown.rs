//! Configs whose `model_type` servemath does not know: read as a known family when every field
//! that could change the cost is one that family's real configs carry, refused by name when
//! one is not. A silently wrong parameter count is the one outcome ruled out.
//!
//! What a family understands is taken from the configs servemath ships: every key of a
//! built-in config of that family (all parse, and their counts match the model cards) plus
//! keys that never change the cost (token ids, dropout, rope scaling, ...). A remaining key
//! whose name reads as structure (layers, heads, experts, widths, windows, ...) is refused; any
//! other one is ignored and listed in the model's notes.

use super::fields::{show, Cx};
use super::ALIASES;
use crate::ModelError;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

/// Keys that never change the parameter count, the cache or the step cost.
const BOOKKEEPING: &[&str] = &[
    "_name_or_path",
    "architectures",
    "auto_map",
    "model_type",
    "transformers_version",
    "torch_dtype",
    "dtype",
    "use_cache",
    "bos_token_id",
    "eos_token_id",
    "pad_token_id",
    "sep_token_id",
    "decoder_start_token_id",
    "initializer_range",
    "initializer_factor",
    "rms_norm_eps",
    "layer_norm_eps",
    "layer_norm_epsilon",
    "norm_eps",
    "hidden_act",
    "hidden_activation",
    "rope_theta",
    "rope_scaling",
    "rope_parameters",
    "rope_type",
    "partial_rotary_factor",
    "attention_dropout",
    "hidden_dropout",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "embd_pdrop",
    "resid_pdrop",
    "attn_pdrop",
    "dropout",
    "pretraining_tp",
    "output_router_logits",
    "router_aux_loss_coef",
    "router_jitter_noise",
    "router_z_loss_coef",
    "aux_loss_alpha",
    "is_decoder",
    "return_dict",
    "output_attentions",
    "output_hidden_states",
    "num_labels",
    "id2label",
    "label2id",
    "logits_scaling",
    "embedding_multiplier",
    "add_classification_head",
    "no_rope_layers",
    "no_rope_layer_interval",
    "residual_multiplier",
    "attention_multiplier",
    "final_logit_softcapping",
    "attn_logit_softcapping",
    "quantization_config",
];

/// Fragments of a key name that say it may describe the model's structure.
const STRUCTURAL: &[&str] = &[
    "layer",
    "expert",
    "head",
    "hidden",
    "intermediate",
    "ffn",
    "mlp",
    "moe",
    "attn",
    "attention",
    "kv",
    "lora",
    "rank",
    "window",
    "block",
    "state",
    "ssm",
    "mamba",
    "conv",
    "group",
    "vocab",
    "embed",
    "dim",
    "size",
    "num_",
    "n_",
    "ratio",
    "topk",
    "top_k",
    "mtp",
    "nextn",
    "chunk",
    "sparse",
    "linear",
    "pattern",
    "freq",
    "interval",
    "share",
    "gate",
    "width",
    "depth",
];

/// The families whose building blocks a config of unknown type can be read as, with the
/// shipped `model_type`s that exemplify each (after aliases). Plain GQA decoders share the
/// Llama keys.
fn family_keys(target: &str) -> BTreeSet<String> {
    static KEYS: OnceLock<HashMap<String, BTreeSet<String>>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        let mut by_type: HashMap<String, BTreeSet<String>> = HashMap::new();
        for m in crate::builtin_models() {
            let Ok(Value::Object(obj)) =
                serde_json::from_str::<Value>(&super::python_literals(m.config_json))
            else {
                continue;
            };
            let decoder = match obj.get("text_config") {
                Some(Value::Object(t)) => t.clone(),
                _ => obj,
            };
            let Some(t) = decoder.get("model_type").and_then(Value::as_str) else {
                continue;
            };
            let t = ALIASES
                .iter()
                .find(|(a, _, _)| *a == t)
                .map_or(t, |(_, target, _)| target);
            let set = by_type.entry(t.to_string()).or_default();
            set.extend(decoder.keys().cloned());
        }
        by_type
    });
    let mut set: BTreeSet<String> = BOOKKEEPING.iter().map(|k| k.to_string()).collect();
    if let Some(s) = keys.get(target) {
        set.extend(s.iter().cloned());
    }
    let gqa = [
        "llama",
        "mistral",
        "qwen2",
        "qwen3",
        "mixtral",
        "qwen2_moe",
        "qwen3_moe",
    ];
    if gqa.contains(&target) {
        if let Some(s) = keys.get("llama") {
            set.extend(s.iter().cloned());
        }
        // What the GQA decoder resolver reads for every family (`hf/decoder.rs`).
        set.extend(
            [
                "layer_types",
                "sliding_window",
                "use_sliding_window",
                "max_window_layers",
                "head_dim",
                "attention_bias",
                "mlp_bias",
            ]
            .map(String::from),
        );
    }
    set
}

/// The family an unknown type reads as from its fields alone, with why; `None` when its
/// fields do not name one.
pub(super) fn infer(obj: &Map<String, Value>) -> Option<(&'static str, &'static str)> {
    let has = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
    if has("kv_lora_rank") {
        return Some((
            "deepseek_v3",
            "`kv_lora_rank` (multi-head latent attention)",
        ));
    }
    if has("num_local_experts") {
        return Some((
            "mixtral",
            "`num_local_experts` (Mixtral-style routed experts)",
        ));
    }
    if has("num_experts") && has("moe_intermediate_size") {
        return Some((
            "qwen3_moe",
            "`num_experts` with `moe_intermediate_size` (Qwen3-MoE)",
        ));
    }
    let dense = [
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "vocab_size",
    ];
    if dense.iter().all(|k| has(k)) {
        return Some(("llama", "the fields of a dense GQA decoder"));
    }
    None
}

/// Checks that `obj`, of unknown type, holds no structural field `target` does not
/// understand; returns the ignored non-structural fields for the model's notes.
pub(super) fn check_fields(
    cx: &Cx,
    obj: &Map<String, Value>,
    target: &str,
    arch_known: bool,
) -> Result<Vec<String>, ModelError> {
    // Tied embeddings change the count by a whole vocabulary table, and their default is the
    // config class's: transformers' base class ties, Llama's does not. Read through a known
    // architecture the family's default holds; read from fields alone it is unknown.
    if !arch_known && obj.get("tie_word_embeddings").is_none_or(Value::is_null) {
        return Err(cx.invalid(
            "tie_word_embeddings",
            "absent",
            format!(
                "the model_type is unknown, so is its default (transformers' base class ties the embeddings, `{target}` may not); the config must state it"
            ),
        ));
    }
    let known = family_keys(target);
    let mut ignored = Vec::new();
    for (key, value) in obj {
        if known.contains(key.as_str()) || value.is_null() {
            continue;
        }
        let lower = key.to_ascii_lowercase();
        if STRUCTURAL.iter().any(|f| lower.contains(f)) {
            return Err(cx.invalid(
                key,
                show(value),
                format!(
                    "the model_type is unknown and read as `{target}`, whose configs have no such field; it may change the parameter count or the cost, so it is refused rather than ignored"
                ),
            ));
        }
        ignored.push(key.clone());
    }
    Ok(ignored)
}
