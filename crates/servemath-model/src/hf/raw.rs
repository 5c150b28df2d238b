//! Serde mirrors of Hugging Face `config.json`, one per family: every field optional, unknown
//! fields ignored, no interpretation. Resolution into [`crate::ModelSpec`] happens once, in
//! the family modules. Field names and meanings follow the `transformers` configuration
//! classes (`LlamaConfig`, `Qwen3MoeConfig`, `DeepseekV3Config`, `GptOssConfig`,
//! `Llama4TextConfig`, `GPTJConfig`).

use serde::Deserialize;
use serde_json::Value;

/// Fields every decoder family shares (llama-style names).
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawCommon {
    pub hidden_size: Option<u64>,
    pub num_hidden_layers: Option<u64>,
    pub num_attention_heads: Option<u64>,
    /// Absent: equal to `num_attention_heads` (multi-head attention).
    pub num_key_value_heads: Option<u64>,
    /// Absent: `hidden_size / num_attention_heads`.
    pub head_dim: Option<u64>,
    pub intermediate_size: Option<u64>,
    pub vocab_size: Option<u64>,
    pub tie_word_embeddings: Option<bool>,
    pub max_position_embeddings: Option<u64>,
    pub torch_dtype: Option<String>,
    /// Newer `transformers` write `dtype` instead of `torch_dtype`.
    pub dtype: Option<String>,
    pub attention_bias: Option<bool>,
    pub quantization_config: Option<Value>,
    /// Per-layer attention kind (`full_attention`, `sliding_attention`, `chunked_attention`).
    pub layer_types: Option<Vec<String>>,
    pub sliding_window: Option<u64>,
}

/// The sizes every decoder states: hidden width, layer count, query heads.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sizes {
    pub hidden: u64,
    pub layers: u64,
    pub heads: u64,
}

impl RawCommon {
    /// `hidden_size`, `num_hidden_layers` and `num_attention_heads`, required and bounded.
    pub fn sizes(&self, cx: &super::fields::Cx) -> Result<Sizes, crate::ModelError> {
        use super::fields::{MAX_COUNT, MAX_LAYERS, MAX_WIDTH};
        Ok(Sizes {
            hidden: cx.required("hidden_size", self.hidden_size, MAX_WIDTH)?,
            layers: cx.required("num_hidden_layers", self.num_hidden_layers, MAX_LAYERS)?,
            heads: cx.required("num_attention_heads", self.num_attention_heads, MAX_COUNT)?,
        })
    }

    /// `torch_dtype`, else `dtype`, with the field name it came from.
    pub fn dtype(&self) -> Option<(&'static str, &str)> {
        match (&self.torch_dtype, &self.dtype) {
            (Some(t), _) => Some(("torch_dtype", t.as_str())),
            (None, Some(t)) => Some(("dtype", t.as_str())),
            (None, None) => None,
        }
    }
}

/// `llama`, `mistral`, `qwen2`, `qwen3`, and the MoE variants `mixtral`, `qwen2_moe`,
/// `qwen3_moe` (whose extra fields are absent in the dense configs).
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawDecoder {
    #[serde(flatten)]
    pub common: RawCommon,
    /// Llama: biases in gate/up/down.
    pub mlp_bias: Option<bool>,
    /// Qwen: sliding window on layers `>= max_window_layers` when `use_sliding_window`.
    pub use_sliding_window: Option<bool>,
    pub max_window_layers: Option<u64>,
    /// Mixtral's expert count.
    pub num_local_experts: Option<u64>,
    /// Qwen-MoE's expert count.
    pub num_experts: Option<u64>,
    pub num_experts_per_tok: Option<u64>,
    pub moe_intermediate_size: Option<u64>,
    /// Qwen-MoE: layer `i` is sparse when `(i + 1) % decoder_sparse_step == 0`.
    pub decoder_sparse_step: Option<u64>,
    /// Qwen-MoE: layers that stay dense regardless of `decoder_sparse_step`.
    pub mlp_only_layers: Option<Vec<u64>>,
    /// Qwen2-MoE: one shared expert of this size on every MoE layer.
    pub shared_expert_intermediate_size: Option<u64>,
    /// MiMo: multi-token-prediction layers beside the stack.
    pub num_nextn_predict_layers: Option<u64>,
    /// MiniMax-M2: `use_mtp` with `num_mtp_modules` modules of `mtp_transformer_layers` layers.
    pub use_mtp: Option<bool>,
    pub num_mtp_modules: Option<u64>,
    pub mtp_transformer_layers: Option<u64>,
    /// MiniMax: per-layer attention kind, 1 = softmax attention, 0 = lightning (linear).
    pub attn_type_list: Option<Vec<u64>>,
    /// MiniMax-M2: a shared expert of this width (0: none).
    pub shared_intermediate_size: Option<u64>,
    /// GLM-4.5 (`glm4_moe`): DeepSeek-style expert fields on a GQA decoder.
    pub n_routed_experts: Option<u64>,
    pub n_shared_experts: Option<u64>,
    pub first_k_dense_replace: Option<u64>,
    /// GLM-4.5: RMSNorm on each head's queries and keys.
    pub use_qk_norm: Option<bool>,
}

/// `deepseek_v2`, `deepseek_v3` (and R1, which is `deepseek_v3`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawDeepseek {
    #[serde(flatten)]
    pub common: RawCommon,
    /// `null`: queries are projected straight from the hidden state (DeepSeek-V2-Lite).
    pub q_lora_rank: Option<u64>,
    pub kv_lora_rank: Option<u64>,
    pub qk_nope_head_dim: Option<u64>,
    pub qk_rope_head_dim: Option<u64>,
    pub v_head_dim: Option<u64>,
    /// `null`: every layer dense.
    pub n_routed_experts: Option<u64>,
    pub n_shared_experts: Option<u64>,
    pub num_experts_per_tok: Option<u64>,
    pub moe_intermediate_size: Option<u64>,
    /// The first `k` layers are dense.
    pub first_k_dense_replace: Option<u64>,
    /// Layer `i ≥ k` is MoE when `i % moe_layer_freq == 0`.
    pub moe_layer_freq: Option<u64>,
    /// Multi-token-prediction modules after the main stack.
    pub num_nextn_predict_layers: Option<u64>,
    /// DeepSeek Sparse Attention's lightning indexer (DeepSeek-V3.2, GLM-5).
    pub index_n_heads: Option<u64>,
    pub index_head_dim: Option<u64>,
    pub index_topk: Option<u64>,
    /// GLM-5: `qk_nope_head_dim + qk_rope_head_dim`, stated again.
    pub qk_head_dim: Option<u64>,
}

/// `gpt_oss`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawGptOss {
    #[serde(flatten)]
    pub common: RawCommon,
    pub num_local_experts: Option<u64>,
    pub num_experts_per_tok: Option<u64>,
    /// Older name of `num_experts_per_tok`, still written alongside it.
    pub experts_per_token: Option<u64>,
}

/// `llama4`: the multimodal wrapper. The language model sits in `text_config`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawLlama4 {
    pub text_config: Option<serde_json::Map<String, Value>>,
    pub tie_word_embeddings: Option<bool>,
    pub torch_dtype: Option<String>,
    pub dtype: Option<String>,
    pub quantization_config: Option<Value>,
}

/// `llama4_text` (also `llama4`'s `text_config`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawLlama4Text {
    #[serde(flatten)]
    pub common: RawCommon,
    /// Intermediate size of the dense (non-MoE) layers; `intermediate_size` is the experts'.
    pub intermediate_size_mlp: Option<u64>,
    pub num_local_experts: Option<u64>,
    pub num_experts_per_tok: Option<u64>,
    /// Explicit MoE layer indices; absent: every `interleave_moe_layer_step`-th layer.
    pub moe_layers: Option<Vec<u64>>,
    pub interleave_moe_layer_step: Option<u64>,
    /// Per layer: 1 = uses RoPE (chunked attention), 0 = NoPE (global attention).
    pub no_rope_layers: Option<Vec<u64>>,
    pub no_rope_layer_interval: Option<u64>,
    pub attention_chunk_size: Option<u64>,
}

/// `gptj` (GPT-J-6B): GPT-2 field names.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawGptj {
    pub n_embd: Option<u64>,
    pub n_layer: Option<u64>,
    pub n_head: Option<u64>,
    /// Absent or `null`: `4 · n_embd`.
    pub n_inner: Option<u64>,
    pub rotary_dim: Option<u64>,
    pub vocab_size: Option<u64>,
    pub n_positions: Option<u64>,
    pub tie_word_embeddings: Option<bool>,
    pub torch_dtype: Option<String>,
    pub dtype: Option<String>,
    pub quantization_config: Option<Value>,
}
