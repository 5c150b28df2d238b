//! Reading and validating raw fields: every error names the origin, the dotted field path and
//! the value. Also the size limits that keep all later arithmetic far from overflow.

use crate::ModelError;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Largest accepted hidden size, intermediate size, head dimension or latent rank. The widest
/// real model (PaLM, 18,432 hidden; 73,728 MLP) is far below; anything above is a typo.
pub(super) const MAX_WIDTH: u64 = 1 << 20;
/// Largest accepted vocabulary (real ones are ≤ 262,144).
pub(super) const MAX_VOCAB: u64 = 1 << 24;
/// Largest accepted layer count (real ones are ≤ 128).
pub(super) const MAX_LAYERS: u64 = 10_000;
/// Largest accepted number of attention heads or experts.
pub(super) const MAX_COUNT: u64 = 1 << 16;
/// Largest accepted context length, sliding window or attention chunk (2^40 tokens).
pub(super) const MAX_CONTEXT: u64 = 1 << 40;
/// Largest accepted parameter count (see [`crate::ModelSpec::magnitude_bound`]); real models
/// are ≤ 2e12, and below this bound no `u64` formula in `spec.rs` can overflow.
pub(super) const MAX_PARAMS: f64 = 1e15;

/// Where a value came from: the file (or built-in) and the path prefix inside it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cx<'a> {
    pub origin: &'a str,
    /// `""` at the top level, `"text_config."` inside Llama-4's nested text config.
    pub prefix: &'static str,
}

impl<'a> Cx<'a> {
    pub fn new(origin: &'a str) -> Self {
        Cx { origin, prefix: "" }
    }

    pub fn nested(self, prefix: &'static str) -> Self {
        Cx { prefix, ..self }
    }

    pub fn path(&self, field: &str) -> String {
        format!("{}{}", self.prefix, field)
    }

    pub fn missing(&self, field: &str) -> ModelError {
        ModelError::MissingField {
            origin: self.origin.to_string(),
            field: self.path(field),
        }
    }

    pub fn invalid(
        &self,
        field: &str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> ModelError {
        ModelError::InvalidField {
            origin: self.origin.to_string(),
            field: self.path(field),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// An unknown name in a name-valued field, with the nearest supported name.
    pub fn unsupported(&self, field: &str, value: &str, supported: &[&str]) -> ModelError {
        ModelError::UnsupportedValue {
            origin: self.origin.to_string(),
            field: self.path(field),
            value: value.to_string(),
            suggestion: crate::nearest(value, supported).map(str::to_string),
            supported: supported.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A required size: present, at least 1, at most `max`.
    pub fn required(&self, field: &str, v: Option<u64>, max: u64) -> Result<u64, ModelError> {
        let v = v.ok_or_else(|| self.missing(field))?;
        self.in_range(field, v, max)
    }

    /// An optional size with a default; a present value must still be in range.
    pub fn or_default(
        &self,
        field: &str,
        v: Option<u64>,
        default: u64,
        max: u64,
    ) -> Result<u64, ModelError> {
        match v {
            Some(v) => self.in_range(field, v, max),
            None => Ok(default),
        }
    }

    /// `1 ≤ v ≤ max`.
    pub fn in_range(&self, field: &str, v: u64, max: u64) -> Result<u64, ModelError> {
        if v == 0 {
            Err(self.invalid(field, v, "must be at least 1"))
        } else if v > max {
            Err(self.invalid(field, v, format!("absurdly large (limit {max})")))
        } else {
            Ok(v)
        }
    }

    /// Layer indices (e.g. `mlp_only_layers`) must name existing layers.
    pub fn layer_indices(
        &self,
        field: &str,
        indices: &[u64],
        layers: u64,
    ) -> Result<(), ModelError> {
        match indices.iter().find(|&&i| i >= layers) {
            Some(i) => Err(self.invalid(
                field,
                i,
                format!("layer index out of range for num_hidden_layers = {layers}"),
            )),
            None => Ok(()),
        }
    }

    /// Deserializes a raw mirror from a JSON object. On a type error, finds the offending
    /// field by deserializing each key alone (every mirror field is optional and unknown keys
    /// are ignored, so only a badly typed key fails on its own).
    pub fn mirror<T: DeserializeOwned>(&self, obj: &Map<String, Value>) -> Result<T, ModelError> {
        let whole = T::deserialize(&Value::Object(obj.clone()));
        let err = match whole {
            Ok(t) => return Ok(t),
            Err(e) => e,
        };
        for (key, value) in obj {
            let single = Map::from_iter([(key.clone(), value.clone())]);
            if let Err(e) = T::deserialize(&Value::Object(single)) {
                return Err(self.invalid(key, show(value), plain(&e.to_string())));
            }
        }
        Err(self.invalid("(object)", "…", plain(&err.to_string())))
    }
}

/// serde's type names in words: `expected u64` → `expected a non-negative integer`.
fn plain(serde_message: &str) -> String {
    serde_message
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected a sequence", "expected a list")
        .replace("expected a map", "expected an object")
}

/// A JSON value as shown in an error: compact, cut at 60 characters.
pub(super) fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let head: String = s.chars().take(57).collect();
        format!("{head}...")
    } else {
        s
    }
}

/// A `serde_json` parse failure with its 1-based position.
pub(super) fn json_error(origin: &str, e: &serde_json::Error) -> ModelError {
    let full = e.to_string();
    // serde_json appends " at line L column C"; the position is reported separately.
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    ModelError::Json {
        origin: origin.to_string(),
        line: e.line(),
        column: e.column(),
        message,
    }
}

/// `hidden_size / num_attention_heads` when `head_dim` is absent, which must divide exactly.
pub(super) fn head_dim(
    cx: &Cx,
    head_dim: Option<u64>,
    hidden: u64,
    heads: u64,
) -> Result<u64, ModelError> {
    match head_dim {
        Some(hd) => cx.in_range("head_dim", hd, MAX_WIDTH),
        None if divides(heads, hidden) => Ok(hidden / heads),
        None => Err(cx.invalid(
            "num_attention_heads",
            heads,
            format!("does not divide hidden_size = {hidden} and head_dim is absent"),
        )),
    }
}

/// Key/value heads default to the query heads (multi-head attention) and must divide them.
pub(super) fn kv_heads(cx: &Cx, kv: Option<u64>, heads: u64) -> Result<u64, ModelError> {
    let kv = cx.or_default("num_key_value_heads", kv, heads, MAX_COUNT)?;
    if divides(kv, heads) {
        Ok(kv)
    } else {
        Err(cx.invalid(
            "num_key_value_heads",
            kv,
            format!("does not divide num_attention_heads = {heads}"),
        ))
    }
}

/// Experts per token: at least 1 and at most the number of experts.
/// The DeepSeek-style expert fields (DeepSeek-V2/V3/V4, Kimi, GLM-4.5): `n_routed_experts`
/// routed experts and `n_shared_experts` shared ones, all `moe_intermediate_size` wide and
/// gated, `num_experts_per_tok` picked per token.
pub(super) fn deepseek_style_moe(
    cx: &Cx,
    n_routed: Option<u64>,
    n_shared: Option<u64>,
    per_token: Option<u64>,
    width: Option<u64>,
) -> Result<crate::Mlp, ModelError> {
    let experts = cx.required("n_routed_experts", n_routed, MAX_COUNT)?;
    let expert_intermediate = cx.required("moe_intermediate_size", width, MAX_WIDTH)?;
    let shared = cx.or_default("n_shared_experts", n_shared, 0, MAX_COUNT)?;
    Ok(crate::Mlp::Moe {
        experts,
        top_k: top_k(cx, "num_experts_per_tok", per_token, experts)?,
        expert_intermediate,
        shared_intermediate: shared * expert_intermediate,
        gated: true,
        bias: false,
        latent: 0,
    })
}

pub(super) fn top_k(cx: &Cx, field: &str, k: Option<u64>, experts: u64) -> Result<u64, ModelError> {
    let k = cx.required(field, k, MAX_COUNT)?;
    if k > experts {
        Err(cx.invalid(
            field,
            k,
            format!("exceeds the number of experts, {experts}"),
        ))
    } else {
        Ok(k)
    }
}

/// `d` divides `n` (`false` for `d = 0`). Spelt out rather than `n.is_multiple_of(d)`, which
/// needs Rust 1.87 while the workspace declares 1.85.
pub(super) fn divides(d: u64, n: u64) -> bool {
    n.checked_rem(d) == Some(0)
}

/// The file stem used as `ModelSpec::name`: the last path component without `.json`, or the
/// directory name when the file is the conventional `config.json`.
pub(super) fn name_stem(origin: &str) -> String {
    let parts: Vec<&str> = origin
        .split(['/', '\\'])
        .filter(|p| !p.is_empty())
        .collect();
    let last = parts.last().copied().unwrap_or(origin);
    let stem = last.strip_suffix(".json").unwrap_or(last);
    if stem == "config" && parts.len() >= 2 {
        parts[parts.len() - 2].to_string()
    } else {
        stem.to_string()
    }
}
