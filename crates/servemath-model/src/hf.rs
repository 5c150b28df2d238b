//! Hugging Face `config.json` → [`ModelSpec`]. The text is parsed into a raw serde mirror of
//! its family ([`raw`]), then resolved once into the validated domain type (as candle's
//! `LlamaConfig::into_config`). Anything the resolver cannot honour is an error naming the
//! origin, the field and the value; nothing is guessed.

mod deci;
mod decoder;
mod deepseek;
mod deepseek_v4;
mod fields;
mod gemma4;
mod gpt_oss;
mod gptj;
mod layers;
mod llama4;
mod nemotron_h;
mod quant;
mod qwen35;
mod raw;
#[cfg(test)]
mod tests;
mod unknown;
mod vision;

use crate::{ModelError, ModelSpec};
use decoder::Family;
use fields::Cx;
use serde_json::Value;

/// The `model_type` values [`parse_config`] accepts.
pub const SUPPORTED_MODEL_TYPES: &[&str] = &[
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "mixtral",
    "qwen2_moe",
    "qwen3_moe",
    "glm4_moe",
    "deepseek_v2",
    "deepseek_v3",
    "deepseek_v32",
    "glm_moe_dsa",
    "gpt_oss",
    "llama4",
    "llama4_text",
    "gptj",
    "gemma3_text",
    "gemma4_text",
    "qwen3_5_moe_text",
    "qwen3_5_text",
    "qwen3_next",
    "nemotron_h",
    "nemotron-nas",
    "deci",
    "deepseek_v4",
];

/// Parses a Hugging Face `config.json` into a validated [`ModelSpec`].
///
/// `origin` is the file path or built-in name: it appears in every error, and its file stem
/// (`.json` removed; the directory name for a file called `config.json`) becomes
/// [`ModelSpec::name`].
///
/// Fails with a [`ModelError`] when the text is not JSON, a needed field is missing or out of
/// range, a name-valued field or the `model_type` is not supported, or the sizes together
/// describe more than 1e15 parameters ([`ModelError::TooLarge`]).
pub fn parse_config(json: &str, origin: &str) -> Result<ModelSpec, ModelError> {
    let cx = Cx::new(origin);
    let json = python_literals(json);
    let value: Value = serde_json::from_str(&json).map_err(|e| fields::json_error(origin, &e))?;
    let Value::Object(obj) = value else {
        return Err(cx.invalid("(document)", fields::show(&value), "expected a json object"));
    };
    let mut spec = resolve(&cx, &obj)?;
    // The KV-cache format a quantization config prescribes, top level or the text model's.
    let nested = obj
        .get("text_config")
        .and_then(|t| t.get("quantization_config"));
    spec.kv_cache = match (obj.get("quantization_config"), nested) {
        (Some(q), _) => quant::kv_cache(&cx, Some(q))?,
        (None, Some(q)) => quant::kv_cache(&cx.nested("text_config."), Some(q))?,
        (None, None) => None,
    };
    Ok(spec)
}

/// Parses a downloaded snapshot: its `config.json` text and, when the folder has one, the
/// `hf_quant_config.json` NVIDIA ModelOpt writes beside it (`quantization.quant_algo`,
/// `exclude_modules`, `kv_cache_quant_algo`). The ModelOpt file stands for the
/// `quantization_config` the config lacks; a config that has its own keeps it.
/// `origin` names the folder; the quant file's errors name it too.
///
/// Fails as [`parse_config`] does, and when the quant file is not JSON or lacks its
/// `quantization` object.
pub fn parse_snapshot(
    config_json: &str,
    hf_quant_config: Option<&str>,
    origin: &str,
) -> Result<ModelSpec, ModelError> {
    let config_origin = format!("{origin}/config.json");
    let Some(quant_text) = hf_quant_config else {
        return parse_config(config_json, &config_origin);
    };
    let quant_origin = format!("{origin}/hf_quant_config.json");
    let qcx = Cx::new(&quant_origin);
    let quant: Value = serde_json::from_str(&python_literals(quant_text))
        .map_err(|e| fields::json_error(&quant_origin, &e))?;
    let section = match quant.get("quantization") {
        Some(Value::Object(q)) => q.clone(),
        Some(other) => {
            return Err(qcx.invalid("quantization", fields::show(other), "expected an object"))
        }
        None => return Err(qcx.missing("quantization")),
    };
    let mut config: Value = serde_json::from_str(&python_literals(config_json))
        .map_err(|e| fields::json_error(&config_origin, &e))?;
    let Some(obj) = config.as_object_mut() else {
        return parse_config(config_json, &config_origin);
    };
    let has_own = obj.contains_key("quantization_config")
        || obj
            .get("text_config")
            .is_some_and(|t| t.get("quantization_config").is_some());
    if !has_own {
        let mut q = section;
        q.insert("quant_method".into(), Value::String("modelopt".into()));
        obj.insert("quantization_config".into(), Value::Object(q));
    }
    parse_config(&config.to_string(), &config_origin)
}

/// `model_type` values read as another family whose building blocks they share, with why.
const ALIASES: &[(&str, &str, &str)] = &[
    ("qwen3_vl_text", "qwen3", "Qwen3-VL's decoder is a Qwen3 decoder"),
    ("qwen3_vl_moe_text", "qwen3_moe", "Qwen3-VL-MoE's decoder is a Qwen3-MoE decoder"),
    ("kimi_k2", "deepseek_v3", "Kimi-K2 is a DeepSeek-V3 decoder (MLA, routed + shared experts)"),
    ("mimo", "qwen2", "MiMo is a Qwen2 decoder with multi-token-prediction layers"),
    (
        "minimax_m2",
        "mixtral",
        "MiniMax-M2 is a Mixtral-shaped MoE decoder (GQA, routed experts, no shared expert; its q/k norms, under 0.01 % of the weights, are left out)",
    ),
];

/// `architectures` entries and the `model_type` they are read as, for configs whose
/// `model_type` is unknown.
const ARCHITECTURES: &[(&str, &str)] = &[
    ("LlamaForCausalLM", "llama"),
    ("MistralForCausalLM", "mistral"),
    ("Qwen2ForCausalLM", "qwen2"),
    ("Qwen3ForCausalLM", "qwen3"),
    ("MixtralForCausalLM", "mixtral"),
    ("Qwen2MoeForCausalLM", "qwen2_moe"),
    ("Qwen3MoeForCausalLM", "qwen3_moe"),
    ("Glm4MoeForCausalLM", "glm4_moe"),
    ("DeepseekV2ForCausalLM", "deepseek_v2"),
    ("DeepseekV3ForCausalLM", "deepseek_v3"),
    ("DeepseekV32ForCausalLM", "deepseek_v32"),
    ("GlmMoeDsaForCausalLM", "glm_moe_dsa"),
    ("NemotronHForCausalLM", "nemotron_h"),
    ("DeciLMForCausalLM", "nemotron-nas"),
    ("DeepseekV4ForCausalLM", "deepseek_v4"),
    ("GptOssForCausalLM", "gpt_oss"),
    ("Gemma3ForCausalLM", "gemma3_text"),
    ("MiMoForCausalLM", "mimo"),
    ("MiniMaxM2ForCausalLM", "minimax_m2"),
];

/// Keys a multimodal wrapper may hold for its decoder at the top level; the decoder's own win.
const INHERITED: &[&str] = &[
    "tie_word_embeddings",
    "torch_dtype",
    "dtype",
    "quantization_config",
];

/// Dispatches on `model_type` to the family's resolver: directly, through an alias, through
/// `architectures`, or into a multimodal wrapper's `text_config`.
fn resolve(cx: &Cx, obj: &serde_json::Map<String, Value>) -> Result<ModelSpec, ModelError> {
    let model_type = match obj.get("model_type") {
        Some(Value::String(s)) => s.as_str(),
        None | Some(Value::Null) => return Err(cx.missing("model_type")),
        Some(other) => {
            return Err(cx.invalid("model_type", fields::show(other), "expected a string"))
        }
    };
    if SUPPORTED_MODEL_TYPES.contains(&model_type) {
        return family(cx, obj, model_type, model_type);
    }
    if let Some((_, target, why)) = ALIASES.iter().find(|(a, _, _)| *a == model_type) {
        let mut spec = family(cx, obj, model_type, target)?;
        spec.notes
            .push(format!("`{model_type}` read as `{target}`: {why}"));
        return Ok(spec);
    }
    // A multimodal wrapper: the decoder is under `text_config`.
    if let Some(Value::Object(text)) = obj.get("text_config") {
        if cx.prefix.is_empty() {
            let mut t = text.clone();
            for key in INHERITED {
                if let (false, Some(v)) = (t.contains_key(*key), obj.get(*key)) {
                    t.insert((*key).to_string(), v.clone());
                }
            }
            let mut spec = resolve(&cx.nested("text_config."), &t)?;
            spec.name = fields::name_stem(cx.origin);
            let (vision, note) = vision::params(cx, obj)?;
            spec.vision_params = vision;
            spec.notes.insert(
                0,
                format!(
                    "`{model_type}` is a multimodal wrapper: the decoder is read from text_config (`{}`)",
                    spec.model_type
                ),
            );
            spec.notes.extend(note);
            return Ok(spec);
        }
    }
    // An unknown type whose `architectures` names a known decoder.
    let arch = obj
        .get("architectures")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str);
    let known_arch = arch.and_then(|a| ARCHITECTURES.iter().find(|(n, _)| *n == a));
    let arch_known = known_arch.is_some();
    let read_as = match known_arch {
        Some((a, target)) => {
            let target = ALIASES
                .iter()
                .find(|(al, _, _)| al == target)
                .map_or(*target, |(_, t, _)| *t);
            Some((target, format!("from architectures `{a}`")))
        }
        // No known architecture either: the building blocks its fields name.
        None => unknown::infer(obj).map(|(t, why)| (t, format!("from its fields: {why}"))),
    };
    if let Some((target, why)) = read_as {
        let ignored = unknown::check_fields(cx, obj, target, arch_known)?;
        let mut spec = family(cx, obj, model_type, target)?;
        spec.notes.push(format!(
            "unknown model_type `{model_type}` read as `{target}` {why}; every field that could change the cost is one `{target}` configs carry"
        ));
        if !ignored.is_empty() {
            spec.notes.push(format!(
                "fields not read (none describes structure): {}",
                ignored.join(", ")
            ));
        }
        return Ok(spec);
    }
    let mut supported: Vec<&str> = SUPPORTED_MODEL_TYPES.to_vec();
    supported.extend(ALIASES.iter().map(|(a, _, _)| *a));
    Err(ModelError::UnsupportedModelType {
        origin: cx.origin.to_string(),
        model_type: model_type.to_string(),
        suggestion: crate::nearest(model_type, &supported).map(str::to_string),
        supported: supported.iter().map(|s| s.to_string()).collect(),
    })
}

/// Resolves `obj` with the resolver of `family_type`, keeping `model_type` as read.
fn family(
    cx: &Cx,
    obj: &serde_json::Map<String, Value>,
    model_type: &str,
    family_type: &str,
) -> Result<ModelSpec, ModelError> {
    let cx = *cx;
    let name = fields::name_stem(cx.origin);
    let family = match family_type {
        "llama" => Family::Llama,
        "mistral" => Family::Mistral,
        "qwen2" => Family::Qwen2,
        "qwen3" => Family::Qwen3,
        "mixtral" => Family::Mixtral,
        "qwen2_moe" => Family::Qwen2Moe,
        "qwen3_moe" => Family::Qwen3Moe,
        "glm4_moe" => Family::Glm4Moe,
        "deepseek_v2" | "deepseek_v3" | "deepseek_v32" | "glm_moe_dsa" => {
            return deepseek::resolve(&cx, name, model_type, &cx.mirror(obj)?)
        }
        "gpt_oss" => return gpt_oss::resolve(&cx, name, model_type, &cx.mirror(obj)?),
        "llama4" | "llama4_text" => return llama4::resolve(&cx, name, model_type, obj),
        "gptj" => return gptj::resolve(&cx, name, model_type, &cx.mirror(obj)?),
        "gemma4_text" => {
            return gemma4::resolve(&cx, name, model_type, obj, gemma4::Generation::Gemma4)
        }
        "gemma3_text" => {
            return gemma4::resolve(&cx, name, model_type, obj, gemma4::Generation::Gemma3)
        }
        "qwen3_5_moe_text" | "qwen3_5_text" | "qwen3_next" => {
            return qwen35::resolve(&cx, name, model_type, obj)
        }
        "nemotron_h" => return nemotron_h::resolve(&cx, name, model_type, obj),
        "nemotron-nas" | "deci" => return deci::resolve(&cx, name, model_type, obj),
        "deepseek_v4" => return deepseek_v4::resolve(&cx, name, model_type, obj),
        other => return Err(cx.unsupported("model_type", other, SUPPORTED_MODEL_TYPES)),
    };
    decoder::resolve(&cx, name, model_type, family, &cx.mirror(obj)?)
}

/// JSON as Python's `json` module writes it: the bare literals `NaN`, `Infinity` and
/// `-Infinity` (which some Hugging Face configs carry) become the strings `"NaN"`,
/// `"Infinity"` and `"-Infinity"`. A field the model does not read is then ignored as before;
/// a field it reads as a number is refused with its name and value, never read as a default.
/// Text inside strings is left alone.
pub(crate) fn python_literals(json: &str) -> std::borrow::Cow<'_, str> {
    if !json.contains("NaN") && !json.contains("Infinity") {
        return std::borrow::Cow::Borrowed(json);
    }
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len() + 16);
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    let mut start = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        let literal = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|lit| bytes[i..].starts_with(lit.as_bytes()));
        if let Some(lit) = literal {
            out.push_str(&json[start..i]);
            out.push('"');
            out.push_str(lit);
            out.push('"');
            i += lit.len();
            start = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&json[start..]);
    std::borrow::Cow::Owned(out)
}
