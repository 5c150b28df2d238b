//! Hugging Face `config.json` → [`ModelSpec`]. The text is parsed into a raw serde mirror of
//! its family ([`raw`]), then resolved once into the validated domain type (as candle's
//! `LlamaConfig::into_config`). Anything the resolver cannot honour is an error naming the
//! origin, the field and the value; nothing is guessed.

mod decoder;
mod deepseek;
mod fields;
mod gpt_oss;
mod gptj;
mod layers;
mod llama4;
mod quant;
mod raw;
#[cfg(test)]
mod tests;

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
    "deepseek_v2",
    "deepseek_v3",
    "gpt_oss",
    "llama4",
    "llama4_text",
    "gptj",
];

/// Parses a Hugging Face `config.json` into a validated [`ModelSpec`].
///
/// `origin` is the file path or built-in name: it appears in every error, and its file stem
/// (`.json` removed; the directory name for a file called `config.json`) becomes
/// [`ModelSpec::name`].
pub fn parse_config(json: &str, origin: &str) -> Result<ModelSpec, ModelError> {
    let cx = Cx::new(origin);
    let value: Value = serde_json::from_str(json).map_err(|e| fields::json_error(origin, &e))?;
    let Value::Object(obj) = value else {
        return Err(cx.invalid("(document)", fields::show(&value), "expected a json object"));
    };
    let model_type = match obj.get("model_type") {
        Some(Value::String(s)) => s.as_str(),
        None | Some(Value::Null) => return Err(cx.missing("model_type")),
        Some(other) => {
            return Err(cx.invalid("model_type", fields::show(other), "expected a string"))
        }
    };
    let name = fields::name_stem(origin);
    let family = match model_type {
        "llama" => Family::Llama,
        "mistral" => Family::Mistral,
        "qwen2" => Family::Qwen2,
        "qwen3" => Family::Qwen3,
        "mixtral" => Family::Mixtral,
        "qwen2_moe" => Family::Qwen2Moe,
        "qwen3_moe" => Family::Qwen3Moe,
        "deepseek_v2" | "deepseek_v3" => {
            return deepseek::resolve(&cx, name, model_type, &cx.mirror(&obj)?)
        }
        "gpt_oss" => return gpt_oss::resolve(&cx, name, model_type, &cx.mirror(&obj)?),
        "llama4" | "llama4_text" => return llama4::resolve(&cx, name, model_type, &obj),
        "gptj" => return gptj::resolve(&cx, name, model_type, &cx.mirror(&obj)?),
        other => {
            return Err(ModelError::UnsupportedModelType {
                origin: origin.to_string(),
                model_type: other.to_string(),
                suggestion: crate::nearest(other, SUPPORTED_MODEL_TYPES).map(str::to_string),
                supported: SUPPORTED_MODEL_TYPES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            })
        }
    };
    decoder::resolve(&cx, name, model_type, family, &cx.mirror(&obj)?)
}
