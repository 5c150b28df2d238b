//! `servemath.model/1` and `servemath.models/1`: a model's architecture, parameters, weight
//! bytes and KV-cache bytes.

use crate::Schema;
use serde::Serialize;
use servemath_model::{
    Attention, AttentionSpan, LayerGroup, Mlp, ModelSpec, ParamBreakdown, Precision,
    WeightPrecisions,
};

/// Formats whose weight bytes a model report lists next to the checkpoint's own.
pub const WEIGHT_FORMATS: [Precision; 4] = [
    Precision::Bf16,
    Precision::Fp8,
    Precision::Mxfp4,
    Precision::Nvfp4,
];

/// The KV-cache format a model report prices `kv_bytes_per_token` at when the checkpoint
/// prescribes none.
pub const KV_FORMAT: Precision = Precision::Bf16;

/// One model, resolved from its config.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelReport {
    /// Built-in short name or config file stem.
    pub name: String,
    /// Hugging Face `model_type` (the text model's in a multimodal wrapper).
    pub model_type: String,
    /// Decoder layers of the main stack (MTP layers excluded).
    pub layers: u64,
    /// Width of the residual stream (`hidden_size` in the config).
    pub hidden_size: u64,
    /// Tokens in the vocabulary.
    pub vocab_size: u64,
    /// Longest context the config allows (`max_position_embeddings` or its equivalent).
    pub max_context_tokens: u64,
    /// Whether the output head shares the embedding table.
    pub tie_word_embeddings: bool,
    /// Whether any layer has routed experts.
    pub is_moe: bool,
    /// The stack as runs of identical layers, in order.
    pub groups: Vec<LayerGroupReport>,
    /// Multi-token-prediction layers, counted apart from the main stack (0: none).
    pub mtp_layers: u64,
    /// Parameters of the MTP layers, counted apart from `total_params` (0: none).
    pub mtp_params: u64,
    /// Parameters of the main stack, embeddings included.
    pub total_params: u64,
    /// Parameters one token touches: everything but the routed experts it does not pick.
    pub active_params: u64,
    /// Parameter counts by part.
    pub params: ParamsReport,
    /// Storage format of each part of the checkpoint.
    pub checkpoint: WeightPrecisionsReport,
    /// Bytes of the main stack's weights as stored in the checkpoint, block scales included.
    pub weight_bytes: f64,
    /// Weight bytes with the linear layers (attention, MLP, experts) in each listed format and
    /// the embeddings as in the checkpoint, as `estimate --weights FORMAT` deploys them.
    pub weight_bytes_by_format: Vec<WeightBytesReport>,
    /// The format the KV figures are priced at.
    pub kv_format: &'static str,
    /// KV-cache bytes per token at long context (windowed and chunked layers have stopped growing).
    pub kv_bytes_per_token: f64,
    /// KV-cache bytes per token while the context is shorter than every window (all layers grow).
    pub kv_bytes_per_token_short_context: f64,
    /// A multimodal wrapper's vision tower and projector, counted apart (0: none).
    pub vision_params: u64,
    /// Recurrent state one sequence holds over all linear-attention layers, constant in
    /// context (0 for attention-only models).
    pub state_bytes_per_sequence: f64,
    /// How the config was read when not plainly (alias, wrapper, `architectures`).
    pub notes: Vec<String>,
}

impl Schema for ModelReport {
    const SCHEMA_VERSION: &'static str = "servemath.model/1";
}

/// A run of `count` identical layers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerGroupReport {
    /// Layers in the run (at least 1).
    pub count: u64,
    /// The layers' token mixer.
    pub attention: AttentionReport,
    /// The layers' feed-forward block.
    pub mlp: MlpReport,
    /// KV-cache elements one token adds to one layer of this group.
    pub kv_elements_per_token_per_layer: u64,
}

/// A layer's token mixer, tagged by `kind` in JSON (`gqa`, `none`, `compressed`, `mamba2`,
/// `linear`, `mla`). Widths are in elements.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttentionReport {
    /// Multi-head, grouped-query or multi-query attention.
    Gqa {
        /// Query heads.
        heads: u64,
        /// Key and value heads (= `heads`: MHA; 1: MQA).
        kv_heads: u64,
        /// Width of one head.
        head_dim: u64,
        /// How far back the layer attends.
        span: SpanReport,
        /// Learned per-head attention sinks (gpt-oss).
        sinks: bool,
        /// Biases on the query, key and value projections.
        qkv_bias: bool,
        /// A bias on the output projection.
        o_bias: bool,
        /// Per-head RMSNorm weights on queries and keys (Qwen3).
        qk_norm: bool,
        /// A sigmoid output gate from a doubled query projection (Qwen3.5).
        output_gate: bool,
    },
    /// No mixer (a heterogeneous stack's no-op attention).
    None,
    /// DeepSeek-V4's compressed attention: a raw window plus pooled entries every `ratio`
    /// tokens (0: window only), the top-k of them by an indexer where it has one.
    Compressed {
        /// Query heads.
        heads: u64,
        /// Width of one head and of the shared key-value entry.
        head_dim: u64,
        /// Rank of the query latent the heads are projected from.
        q_lora_rank: u64,
        /// Groups of the grouped low-rank output projection.
        o_groups: u64,
        /// Rank of each output group's projection.
        o_lora_rank: u64,
        /// Tokens of the raw sliding window every layer keeps.
        window: u64,
        /// Tokens pooled into one cached entry (0: the window alone).
        ratio: u64,
        /// The indexer picking the top-k pooled entries; `null`: all are attended.
        indexer: Option<IndexerReport>,
        /// Residual streams of the block's hyper-connections.
        hc_mult: u64,
    },
    /// A Mamba-2 state-space mixer: a fixed-size state per sequence, no KV cache.
    Mamba2 {
        /// SSM heads.
        heads: u64,
        /// Width of one head (`d_inner = heads · head_dim`).
        head_dim: u64,
        /// Width of the state per head (`ssm_state_size`).
        state_size: u64,
        /// Groups of heads sharing the B and C projections.
        groups: u64,
        /// Taps of the depthwise causal convolution.
        conv_kernel: u64,
        /// SSM state and convolution inputs one sequence holds in this layer.
        state_bytes_per_sequence: f64,
    },
    /// Gated DeltaNet linear attention: a fixed-size state per sequence, no KV cache.
    Linear {
        /// Query and key heads.
        key_heads: u64,
        /// Value heads.
        value_heads: u64,
        /// Width of one key head.
        key_head_dim: u64,
        /// Width of one value head.
        value_head_dim: u64,
        /// Taps of the depthwise causal convolution over q, k and v.
        conv_kernel: u64,
        /// Recurrent state and convolution inputs one sequence holds in this layer.
        state_bytes_per_sequence: f64,
    },
    /// Multi-head latent attention (DeepSeek).
    Mla {
        /// Query heads.
        heads: u64,
        /// Rank of the query latent; `null`: queries projected directly from the hidden state.
        q_lora_rank: Option<u64>,
        /// Rank of the compressed key-value latent (what the cache holds, with the RoPE key).
        kv_lora_rank: u64,
        /// Per-head query and key width without rotary embedding.
        qk_nope_head_dim: u64,
        /// Width of the rotary part of each query head and of the one rotary key all heads share.
        qk_rope_head_dim: u64,
        /// Per-head value width.
        v_head_dim: u64,
        /// DeepSeek Sparse Attention's lightning indexer; `null`: dense attention.
        indexer: Option<IndexerReport>,
    },
}

/// How far back a layer attends, tagged by `kind` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpanReport {
    /// Every earlier token.
    Full,
    /// The last `window_tokens` tokens (sliding window).
    Sliding {
        /// Tokens in the window.
        window_tokens: u64,
    },
    /// Tokens of the same fixed-size chunk (Llama-4 chunked attention).
    Chunked {
        /// Tokens per chunk.
        chunk_tokens: u64,
    },
    /// The indexer's `top_k` keys per query; the cache keeps every token.
    Sparse {
        /// Keys each query attends.
        top_k_tokens: u64,
    },
    /// A fixed-size recurrent state instead of attended tokens.
    Recurrent,
    /// A raw window plus one pooled entry per `ratio` tokens, the `top_k` of them or all.
    Compressed {
        /// Tokens of the raw window.
        window_tokens: u64,
        /// Tokens per pooled entry (0: the window alone).
        ratio: u64,
        /// Pooled entries each query attends; `null`: all of them.
        top_k: Option<u64>,
    },
}

/// A sparse-attention indexer: query heads, head width, keys kept per query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IndexerReport {
    /// The indexer's query heads.
    pub heads: u64,
    /// Width of each indexer head and of the cached key.
    pub head_dim: u64,
    /// Keys (or pooled entries) kept per query.
    pub top_k: u64,
    /// Its FP8 key cache per token per layer, scales included.
    pub key_bytes_per_token: f64,
}

/// A layer's feed-forward block, tagged by `kind` in JSON (`dense`, `moe`, `none`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MlpReport {
    /// One dense MLP every token passes through.
    Dense {
        /// Width of the hidden layer.
        intermediate: u64,
        /// SwiGLU-style: three matrices (gate, up, down) instead of two.
        gated: bool,
        /// Biases on the projections.
        bias: bool,
    },
    /// Routed experts, `top_k` of `experts` per token, plus any shared experts.
    Moe {
        /// Routed experts in the layer.
        experts: u64,
        /// Routed experts each token picks.
        top_k: u64,
        /// Width of one routed expert's hidden layer.
        expert_intermediate: u64,
        /// Sum of the shared experts' intermediate sizes (0: none).
        shared_intermediate: u64,
        /// SwiGLU-style experts: three matrices instead of two.
        gated: bool,
        /// Biases inside the experts (gpt-oss).
        bias: bool,
        /// LatentMoE: the width the routed experts work at (0: the hidden size).
        latent: u64,
    },
    /// No feed-forward block after this layer's mixer (a hybrid's lone mixer).
    None,
}

/// Parameter counts by part (elements).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ParamsReport {
    /// The input embedding table.
    pub embedding: u64,
    /// The output head (0 when tied to the embedding).
    pub lm_head: u64,
    /// Token mixers: attention, linear-attention and state-space layers.
    pub attention: u64,
    /// Dense MLPs.
    pub dense_mlp: u64,
    /// Every routed expert.
    pub routed_experts: u64,
    /// Shared experts.
    pub shared_experts: u64,
    /// MoE routers (gates).
    pub router: u64,
    /// Normalization weights.
    pub norms: u64,
    /// Sum of the parts above: the main stack.
    pub total: u64,
    /// Routed-expert parameters one token uses (`k/E` of each MoE layer's experts).
    pub active_routed_experts: u64,
    /// Parameters one token touches: `total` less the routed experts it does not pick.
    pub active: u64,
}

/// Storage format of each part of the weights (precision names as in `docs/json-schema.md`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightPrecisionsReport {
    /// Embedding table and output head.
    pub embeddings: &'static str,
    /// Attention (token-mixer) projections.
    pub attention: &'static str,
    /// Dense MLPs and shared experts.
    pub dense_mlp: &'static str,
    /// Routed experts.
    pub experts: &'static str,
}

/// A model's weight bytes with its linear layers in one format.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightBytesReport {
    /// The linear layers' format (`bf16`, `fp8`, `mxfp4`, `nvfp4`).
    pub format: &'static str,
    /// Bytes of the main stack's weights, block scales included.
    pub bytes: f64,
}

/// The built-in models, one row each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelListReport {
    /// One row per built-in model, in the built-in list's order.
    pub models: Vec<ModelListRow>,
}

impl Schema for ModelListReport {
    const SCHEMA_VERSION: &'static str = "servemath.models/1";
}

/// One built-in model in brief.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelListRow {
    /// Built-in short name (`llama-3.1-8b`).
    pub name: String,
    /// Hugging Face repository id; `null` for a model not on Hugging Face.
    pub hf_id: Option<String>,
    /// One line on what the model is.
    pub description: String,
    /// Hugging Face `model_type`.
    pub model_type: String,
    /// Decoder layers of the main stack.
    pub layers: u64,
    /// Parameters of the main stack, embeddings included.
    pub total_params: u64,
    /// Parameters one token touches.
    pub active_params: u64,
    /// Bytes of the weights as stored in the checkpoint.
    pub weight_bytes: f64,
}

impl ModelListRow {
    /// The row of built-in `name` (Hugging Face `hf_id`, one-line `description`) resolved to
    /// `spec`.
    pub fn new(
        name: &str,
        hf_id: Option<&str>,
        description: &str,
        spec: &ModelSpec,
    ) -> ModelListRow {
        ModelListRow {
            name: name.to_string(),
            hf_id: hf_id.map(str::to_string),
            description: description.to_string(),
            model_type: spec.model_type.clone(),
            layers: spec.num_layers(),
            total_params: spec.params().total(),
            active_params: spec.active_params(),
            weight_bytes: spec.weight_bytes(&spec.checkpoint),
        }
    }
}

impl WeightPrecisionsReport {
    /// The format names of `w`.
    pub fn new(w: &WeightPrecisions) -> WeightPrecisionsReport {
        WeightPrecisionsReport {
            embeddings: w.embeddings.name(),
            attention: w.attention.name(),
            dense_mlp: w.dense_mlp.name(),
            experts: w.experts.name(),
        }
    }
}

impl ModelReport {
    /// The report of a resolved model; KV figures at the checkpoint's KV format, else
    /// [`KV_FORMAT`].
    pub fn new(spec: &ModelSpec) -> ModelReport {
        let p = spec.params();
        let total = p.total();
        let active = spec.active_params();
        let weight_bytes_by_format = WEIGHT_FORMATS
            .iter()
            .map(|&f| WeightBytesReport {
                format: f.name(),
                bytes: spec.weight_bytes(&linear_in(spec.checkpoint, f)),
            })
            .collect();
        ModelReport {
            name: spec.name.clone(),
            model_type: spec.model_type.clone(),
            layers: spec.num_layers(),
            hidden_size: spec.hidden_size,
            vocab_size: spec.vocab_size,
            max_context_tokens: spec.max_context,
            tie_word_embeddings: spec.tie_word_embeddings,
            is_moe: spec.is_moe(),
            groups: spec.groups.iter().map(LayerGroupReport::new).collect(),
            mtp_layers: spec.mtp.as_ref().map_or(0, |g| g.count),
            mtp_params: spec.mtp_params(),
            total_params: total,
            active_params: active,
            params: ParamsReport::new(&p, spec.active_routed_params(), active),
            checkpoint: WeightPrecisionsReport::new(&spec.checkpoint),
            weight_bytes: spec.weight_bytes(&spec.checkpoint),
            weight_bytes_by_format,
            kv_format: spec.kv_cache.unwrap_or(KV_FORMAT).name(),
            kv_bytes_per_token: spec.kv_bytes_per_token(spec.kv_cache.unwrap_or(KV_FORMAT)),
            kv_bytes_per_token_short_context: spec
                .kv_bytes_per_token_short(spec.kv_cache.unwrap_or(KV_FORMAT)),
            vision_params: spec.vision_params,
            state_bytes_per_sequence: spec
                .groups
                .iter()
                .map(|g| g.count as f64 * g.attention.state_bytes_per_sequence())
                .sum(),
            notes: spec.notes.clone(),
        }
    }
}

/// The checkpoint with its linear layers re-stored in `f` (embeddings unchanged).
fn linear_in(checkpoint: WeightPrecisions, f: Precision) -> WeightPrecisions {
    WeightPrecisions {
        embeddings: checkpoint.embeddings,
        attention: f,
        dense_mlp: f,
        experts: f,
    }
}

impl ParamsReport {
    fn new(p: &ParamBreakdown, active_routed: u64, active: u64) -> ParamsReport {
        ParamsReport {
            embedding: p.embedding,
            lm_head: p.lm_head,
            attention: p.attention,
            dense_mlp: p.dense_mlp,
            routed_experts: p.routed_experts,
            shared_experts: p.shared_experts,
            router: p.router,
            norms: p.norms,
            total: p.total(),
            active_routed_experts: active_routed,
            active,
        }
    }
}

impl LayerGroupReport {
    fn new(g: &LayerGroup) -> LayerGroupReport {
        LayerGroupReport {
            count: g.count,
            attention: AttentionReport::new(&g.attention),
            mlp: MlpReport::new(&g.mlp),
            kv_elements_per_token_per_layer: g.attention.kv_elements_per_token(),
        }
    }
}

impl AttentionReport {
    fn new(a: &Attention) -> AttentionReport {
        match *a {
            Attention::Gqa {
                heads,
                kv_heads,
                head_dim,
                span,
                sinks,
                qkv_bias,
                o_bias,
                qk_norm,
                output_gate,
            } => AttentionReport::Gqa {
                heads,
                kv_heads,
                head_dim,
                span: SpanReport::new(span),
                sinks,
                qkv_bias,
                o_bias,
                qk_norm,
                output_gate,
            },
            Attention::None => AttentionReport::None,
            Attention::Compressed {
                heads,
                head_dim,
                q_lora_rank,
                o_groups,
                o_lora_rank,
                window,
                ratio,
                indexer,
                hc_mult,
                ..
            } => AttentionReport::Compressed {
                heads,
                head_dim,
                q_lora_rank,
                o_groups,
                o_lora_rank,
                window,
                ratio,
                indexer: indexer.map(|i| IndexerReport {
                    heads: i.heads,
                    head_dim: i.head_dim,
                    top_k: i.top_k,
                    key_bytes_per_token: i.key_bytes_per_token(),
                }),
                hc_mult,
            },
            Attention::Mamba2 {
                heads,
                head_dim,
                state_size,
                groups,
                conv_kernel,
                ..
            } => AttentionReport::Mamba2 {
                heads,
                head_dim,
                state_size,
                groups,
                conv_kernel,
                state_bytes_per_sequence: a.state_bytes_per_sequence(),
            },
            Attention::Linear {
                key_heads,
                value_heads,
                key_head_dim,
                value_head_dim,
                conv_kernel,
                ..
            } => AttentionReport::Linear {
                key_heads,
                value_heads,
                key_head_dim,
                value_head_dim,
                conv_kernel,
                state_bytes_per_sequence: a.state_bytes_per_sequence(),
            },
            Attention::Mla {
                heads,
                q_lora_rank,
                kv_lora_rank,
                qk_nope_head_dim,
                qk_rope_head_dim,
                v_head_dim,
                indexer,
            } => AttentionReport::Mla {
                heads,
                q_lora_rank,
                kv_lora_rank,
                qk_nope_head_dim,
                qk_rope_head_dim,
                v_head_dim,
                indexer: indexer.map(|i| IndexerReport {
                    heads: i.heads,
                    head_dim: i.head_dim,
                    top_k: i.top_k,
                    key_bytes_per_token: i.key_bytes_per_token(),
                }),
            },
        }
    }
}

impl SpanReport {
    fn new(s: AttentionSpan) -> SpanReport {
        match s {
            AttentionSpan::Full => SpanReport::Full,
            AttentionSpan::Sliding { window } => SpanReport::Sliding {
                window_tokens: window,
            },
            AttentionSpan::Chunked { chunk } => SpanReport::Chunked {
                chunk_tokens: chunk,
            },
            AttentionSpan::Sparse { top_k } => SpanReport::Sparse {
                top_k_tokens: top_k,
            },
            AttentionSpan::Recurrent => SpanReport::Recurrent,
            AttentionSpan::Compressed {
                window,
                ratio,
                top_k,
            } => SpanReport::Compressed {
                window_tokens: window,
                ratio,
                top_k,
            },
        }
    }
}

impl MlpReport {
    fn new(m: &Mlp) -> MlpReport {
        match *m {
            Mlp::Dense {
                intermediate,
                gated,
                bias,
            } => MlpReport::Dense {
                intermediate,
                gated,
                bias,
            },
            Mlp::Moe {
                experts,
                top_k,
                expert_intermediate,
                shared_intermediate,
                gated,
                bias,
                latent,
            } => MlpReport::Moe {
                experts,
                top_k,
                expert_intermediate,
                shared_intermediate,
                gated,
                bias,
                latent,
            },
            Mlp::None => MlpReport::None,
        }
    }
}
