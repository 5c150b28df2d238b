//! Checkpoint storage precision from `torch_dtype` and `quantization_config`.
//!
//! Quantization applies to linear layers (attention, dense MLP, experts) and never to the
//! embedding table or output head, which `transformers` always keeps at the base dtype.
//! Norm and router weights are billed with attention (see [`crate::ModelSpec::weight_bytes`]);
//! they are under 0.1 % of any supported model.

use super::fields::{show, Cx};
use crate::{ModelError, Precision, WeightPrecisions};
use serde_json::{Map, Value};

/// What to assume when neither `torch_dtype` nor `dtype` is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MissingDtype {
    /// Refuse: the checkpoint precision is unknown.
    Refuse,
    /// OpenAI's gpt-oss configs carry no dtype; their non-expert weights are bf16 and the
    /// experts' format comes from `quantization_config` (MXFP4).
    Bf16ExceptExperts,
}

const DTYPES: &[&str] = &["bfloat16", "float16", "float32"];
const QUANT_METHODS: &[&str] = &[
    "fp8",
    "fbgemm_fp8",
    "mxfp4",
    "modelopt",
    "compressed-tensors",
    "awq",
    "gptq",
];

/// Which linear layers a quantization method converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    AllLinear,
    /// `transformers`' MXFP4 integration replaces only the MoE expert modules.
    ExpertsOnly,
}

/// Parts kept at the base dtype by `modules_to_not_convert` (or `ignore`, `exclude_modules`).
#[derive(Debug, Default, Clone, Copy)]
struct Excluded {
    attention: bool,
    dense_mlp: bool,
    experts: bool,
}

struct Quant {
    linear: Precision,
    scope: Scope,
    excluded: Excluded,
}

/// The checkpoint's storage precision per part.
pub(super) fn checkpoint(
    cx: &Cx,
    dtype: Option<(&str, &str)>,
    quantization_config: Option<&Value>,
    missing: MissingDtype,
    main_layers: Option<u64>,
) -> Result<WeightPrecisions, ModelError> {
    let base = dtype
        .map(|(field, v)| parse_dtype(cx, field, v))
        .transpose()?;
    let quant = match quantization_config {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_quant(cx, v, main_layers)?),
    };
    let mut w = match (base, missing) {
        (Some(p), _) => WeightPrecisions::uniform(p),
        (None, MissingDtype::Bf16ExceptExperts) => WeightPrecisions::uniform(Precision::Bf16),
        (None, MissingDtype::Refuse) => return Err(cx.missing("torch_dtype")),
    };
    let Some(q) = quant else {
        return match (base, missing) {
            // Without a dtype the experts' format must come from the quantization config.
            (None, MissingDtype::Bf16ExceptExperts) => Err(cx.missing("torch_dtype")),
            _ => Ok(w),
        };
    };
    if q.scope == Scope::AllLinear && !q.excluded.attention {
        w.attention = q.linear;
    }
    if q.scope == Scope::AllLinear && !q.excluded.dense_mlp {
        w.dense_mlp = q.linear;
    }
    if !q.excluded.experts {
        w.experts = q.linear;
    }
    Ok(w)
}

fn parse_dtype(cx: &Cx, field: &str, v: &str) -> Result<Precision, ModelError> {
    match v {
        "bfloat16" | "bf16" => Ok(Precision::Bf16),
        "float16" | "fp16" | "half" => Ok(Precision::Fp16),
        "float32" | "fp32" | "float" => Ok(Precision::Fp32),
        other => Err(cx.unsupported(field, other, DTYPES)),
    }
}

fn parse_quant(cx: &Cx, v: &Value, main_layers: Option<u64>) -> Result<Quant, ModelError> {
    let Value::Object(q) = v else {
        return Err(cx.invalid("quantization_config", show(v), "expected an object"));
    };
    let qcx = cx.nested(if cx.prefix.is_empty() {
        "quantization_config."
    } else {
        "text_config.quantization_config."
    });
    let method = str_field(&qcx, q, "quant_method")?.ok_or_else(|| qcx.missing("quant_method"))?;
    let (linear, scope, exclusions_key) = match method {
        "fp8" => (
            fp8_block(&qcx, q)?,
            Scope::AllLinear,
            "modules_to_not_convert",
        ),
        "fbgemm_fp8" => (Precision::Fp8, Scope::AllLinear, "modules_to_not_convert"),
        "mxfp4" => (
            Precision::Mxfp4,
            Scope::ExpertsOnly,
            "modules_to_not_convert",
        ),
        "modelopt" => (modelopt(&qcx, q)?, Scope::AllLinear, "exclude_modules"),
        "compressed-tensors" => (compressed_tensors(&qcx, q)?, Scope::AllLinear, "ignore"),
        "awq" | "gptq" => (
            int4_g128(&qcx, q)?,
            Scope::AllLinear,
            "modules_to_not_convert",
        ),
        other => return Err(qcx.unsupported("quant_method", other, QUANT_METHODS)),
    };
    // A ModelOpt section written into config.json (ModelOpt 0.37) names its list `ignore`
    // where `hf_quant_config.json` says `exclude_modules`.
    let exclusions_key = if method == "modelopt" && !q.contains_key(exclusions_key) {
        "ignore"
    } else {
        exclusions_key
    };
    let excluded = exclusions(&qcx, q, exclusions_key, main_layers)?;
    Ok(Quant {
        linear,
        scope,
        excluded,
    })
}

fn str_field<'v>(
    cx: &Cx,
    q: &'v Map<String, Value>,
    key: &str,
) -> Result<Option<&'v str>, ModelError> {
    match q.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(cx.invalid(key, show(other), "expected a string")),
    }
}

fn uint_field(cx: &Cx, q: &Map<String, Value>, key: &str) -> Result<Option<u64>, ModelError> {
    match q.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| cx.invalid(key, show(v), "expected a non-negative integer")),
    }
}

/// `weight_block_size` absent: per-tensor scales; `[128, 128]`: DeepSeek-style block scales.
fn fp8_block(cx: &Cx, q: &Map<String, Value>) -> Result<Precision, ModelError> {
    match q.get("weight_block_size") {
        None | Some(Value::Null) => Ok(Precision::Fp8),
        Some(v) => {
            let block: Option<Vec<u64>> = v
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_u64).collect());
            match block.as_deref() {
                Some([128, 128]) => Ok(Precision::Fp8Block128),
                _ => Err(cx.invalid(
                    "weight_block_size",
                    show(v),
                    "only [128, 128] blocks (or none) are supported",
                )),
            }
        }
    }
}

/// NVIDIA ModelOpt: `quant_algo` `FP8` or `NVFP4`.
fn modelopt(cx: &Cx, q: &Map<String, Value>) -> Result<Precision, ModelError> {
    let algo = str_field(cx, q, "quant_algo")?.ok_or_else(|| cx.missing("quant_algo"))?;
    match algo {
        "FP8" => Ok(Precision::Fp8),
        "NVFP4" => Ok(Precision::Nvfp4),
        other => Err(cx.unsupported("quant_algo", other, &["FP8", "NVFP4"])),
    }
}

/// AWQ / GPTQ: only 4-bit weights in groups of 128 have a [`Precision`].
fn int4_g128(cx: &Cx, q: &Map<String, Value>) -> Result<Precision, ModelError> {
    let bits = uint_field(cx, q, "bits")?.ok_or_else(|| cx.missing("bits"))?;
    let group = uint_field(cx, q, "group_size")?.ok_or_else(|| cx.missing("group_size"))?;
    match (bits, group) {
        (4, 128) => Ok(Precision::Int4),
        (4, g) => Err(cx.invalid("group_size", g, "only groups of 128 are supported")),
        (b, _) => Err(cx.invalid("bits", b, "only 4-bit weights are supported")),
    }
}

/// llm-compressor's format: every `config_groups.*.weights` must agree on one format.
fn compressed_tensors(cx: &Cx, q: &Map<String, Value>) -> Result<Precision, ModelError> {
    let groups = match q.get("config_groups") {
        Some(Value::Object(g)) if !g.is_empty() => g,
        Some(other) => {
            return Err(cx.invalid("config_groups", show(other), "expected a non-empty object"))
        }
        None => return Err(cx.missing("config_groups")),
    };
    let mut found: Option<Precision> = None;
    for (name, group) in groups {
        let field = format!("config_groups.{name}.weights");
        let w = match group.get("weights") {
            Some(Value::Object(w)) => w,
            other => {
                let shown = other.map(show).unwrap_or_else(|| "null".into());
                return Err(cx.invalid(&field, shown, "expected an object"));
            }
        };
        let bits = w.get("num_bits").and_then(Value::as_u64);
        let kind = w.get("type").and_then(Value::as_str);
        let group_size = w.get("group_size").and_then(Value::as_u64);
        let p = match (bits, kind, group_size) {
            (Some(8), Some("float"), _) => Precision::Fp8,
            (Some(8), Some("int"), _) => Precision::Int8,
            (Some(4), Some("float"), Some(16)) => Precision::Nvfp4,
            (Some(4), Some("int"), Some(128)) => Precision::Int4,
            (Some(4), Some("int"), Some(32)) => Precision::Int4G32,
            _ => {
                return Err(cx.invalid(
                    &field,
                    show(&Value::Object(w.clone())),
                    "supported weights: 8-bit float or int, 4-bit float in groups of 16, \
                     4-bit int in groups of 32 or 128",
                ))
            }
        };
        if found.is_some_and(|f| f != p) {
            return Err(cx.invalid(
                "config_groups",
                "…",
                "groups with different weight formats are not supported",
            ));
        }
        found = Some(p);
    }
    found.ok_or_else(|| cx.missing("config_groups"))
}

/// Reads the exclusion list and maps each module pattern to the part it keeps at the base
/// dtype. A pattern that names attention in any layer keeps all attention at the base dtype
/// (precision is per part, not per layer). Patterns for the vision tower, the embedding,
/// the head or the router change nothing here; anything else unrecognised is refused.
fn exclusions(
    cx: &Cx,
    q: &Map<String, Value>,
    key: &str,
    main_layers: Option<u64>,
) -> Result<Excluded, ModelError> {
    let list = match q.get(key) {
        None | Some(Value::Null) => return Ok(Excluded::default()),
        Some(Value::Array(a)) => a,
        Some(other) => return Err(cx.invalid(key, show(other), "expected a list of module names")),
    };
    let mut ex = Excluded::default();
    for entry in list {
        let Some(name) = entry.as_str() else {
            return Err(cx.invalid(key, show(entry), "expected a module name"));
        };
        let n = name
            .strip_prefix("re:")
            .unwrap_or(name)
            .to_ascii_lowercase();
        let n = n.trim_end_matches('$');
        let n: &str = n;
        let has = |s: &str| n.contains(s);
        let router = has("router")
            || n == "gate"
            || n.ends_with(".gate")
            || n.ends_with("_expert_gate")
            || has("e_score_correction");
        let vision = has("vision") || has("visual") || has("multi_modal") || has("mm_projector");
        // A whole layer beyond the main stack is a multi-token-prediction layer (DeepSeek's
        // `model.layers.61*`), counted apart: its format does not change the stack's. A whole
        // layer inside it (NVIDIA keeps GLM-5's and Kimi's first layers at BF16:
        // `model.layers.0*`) cannot change a per-part format either: its parts are counted at
        // the stack's formats, under 1 % of the weight bytes in the checkpoints seen.
        let rest = [
            "model.layers.",
            "language_model.model.layers.",
            "backbone.layers.",
        ]
        .iter()
        .find_map(|p| n.strip_prefix(p));
        if let (Some(rest), Some(layers)) = (rest, main_layers) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(index) = digits.parse::<u64>() {
                let whole = rest.trim_end_matches(['*', '.']) == digits;
                if index >= layers || whole {
                    continue;
                }
            }
        }
        let embedding = has("embed") || has("lm_head") || has("wte");
        // Norms are never quantized; MTP layers are counted apart.
        let untouched = has("norm") || n.starts_with("mtp") || has(".mtp");
        if vision || embedding || router || untouched {
            continue;
        } else if has("attn") || has("attention") || has("mixer") {
            ex.attention = true;
        } else if has("shared_expert") {
            ex.dense_mlp = true;
        } else if has("expert") {
            ex.experts = true;
        } else if (has("mlp") || has("feed_forward")) && has("_proj") {
            // `mlp.gate_proj` (or a pattern over `mlp.(gate|up|down)_proj`) names the dense
            // MLP's own projections; experts sit under `mlp.experts.*`.
            ex.dense_mlp = true;
        } else if has("mlp") || has("feed_forward") || has("ffn") {
            ex.dense_mlp = true;
            ex.experts = true;
        } else {
            return Err(cx.invalid(
                key,
                show(entry),
                "cannot tell which part of the model this module is",
            ));
        }
    }
    Ok(ex)
}

/// The KV-cache format a quantization config prescribes: ModelOpt's `kv_cache_quant_algo`
/// (`FP8`, `NVFP4`) or compressed-tensors' `kv_cache_scheme` (8-bit float or int). `None` when
/// the config states none; an unknown format is refused by name.
pub(super) fn kv_cache(
    cx: &Cx,
    quantization_config: Option<&Value>,
) -> Result<Option<Precision>, ModelError> {
    let Some(Value::Object(q)) = quantization_config else {
        return Ok(None);
    };
    let qcx = cx.nested(if cx.prefix.is_empty() {
        "quantization_config."
    } else {
        "text_config.quantization_config."
    });
    if let Some(algo) = str_field(&qcx, q, "kv_cache_quant_algo")? {
        return match algo {
            "FP8" => Ok(Some(Precision::Fp8)),
            "NVFP4" => Ok(Some(Precision::Nvfp4)),
            other => Err(qcx.unsupported("kv_cache_quant_algo", other, &["FP8", "NVFP4"])),
        };
    }
    match q.get("kv_cache_scheme") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(k)) => {
            let bits = k.get("num_bits").and_then(Value::as_u64);
            let kind = k.get("type").and_then(Value::as_str);
            match (bits, kind) {
                (Some(8), Some("float")) => Ok(Some(Precision::Fp8)),
                (Some(8), Some("int")) => Ok(Some(Precision::Int8)),
                _ => Err(qcx.invalid(
                    "kv_cache_scheme",
                    show(&Value::Object(k.clone())),
                    "supported KV caches: 8-bit float or int",
                )),
            }
        }
        Some(other) => Err(qcx.invalid("kv_cache_scheme", show(other), "expected an object")),
    }
}
