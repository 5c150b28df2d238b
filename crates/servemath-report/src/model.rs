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
    pub name: String,
    pub model_type: String,
    /// Decoder layers of the main stack (MTP layers excluded).
    pub layers: u64,
    pub hidden_size: u64,
    pub vocab_size: u64,
    pub max_context_tokens: u64,
    pub tie_word_embeddings: bool,
    pub is_moe: bool,
    /// The stack as runs of identical layers, in order.
    pub groups: Vec<LayerGroupReport>,
    /// Multi-token-prediction layers, counted apart from the main stack (0: none).
    pub mtp_layers: u64,
    pub mtp_params: u64,
    /// Parameters of the main stack, embeddings included.
    pub total_params: u64,
    /// Parameters one token touches: everything but the routed experts it does not pick.
    pub active_params: u64,
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
    pub count: u64,
    pub attention: AttentionReport,
    pub mlp: MlpReport,
    /// KV-cache elements one token adds to one layer of this group.
    pub kv_elements_per_token_per_layer: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttentionReport {
    /// Multi-head, grouped-query or multi-query attention.
    Gqa {
        heads: u64,
        kv_heads: u64,
        head_dim: u64,
        span: SpanReport,
        sinks: bool,
        qkv_bias: bool,
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
        heads: u64,
        head_dim: u64,
        q_lora_rank: u64,
        o_groups: u64,
        o_lora_rank: u64,
        window: u64,
        ratio: u64,
        indexer: Option<IndexerReport>,
        hc_mult: u64,
    },
    /// A Mamba-2 state-space mixer: a fixed-size state per sequence, no KV cache.
    Mamba2 {
        heads: u64,
        head_dim: u64,
        state_size: u64,
        groups: u64,
        conv_kernel: u64,
        /// SSM state and convolution inputs one sequence holds in this layer.
        state_bytes_per_sequence: f64,
    },
    /// Gated DeltaNet linear attention: a fixed-size state per sequence, no KV cache.
    Linear {
        key_heads: u64,
        value_heads: u64,
        key_head_dim: u64,
        value_head_dim: u64,
        conv_kernel: u64,
        /// Recurrent state and convolution inputs one sequence holds in this layer.
        state_bytes_per_sequence: f64,
    },
    /// Multi-head latent attention (DeepSeek).
    Mla {
        heads: u64,
        /// `null`: queries projected directly from the hidden state.
        q_lora_rank: Option<u64>,
        kv_lora_rank: u64,
        qk_nope_head_dim: u64,
        qk_rope_head_dim: u64,
        v_head_dim: u64,
        /// DeepSeek Sparse Attention's lightning indexer; `null`: dense attention.
        indexer: Option<IndexerReport>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpanReport {
    Full,
    Sliding {
        window_tokens: u64,
    },
    Chunked {
        chunk_tokens: u64,
    },
    /// The indexer's `top_k` keys per query; the cache keeps every token.
    Sparse {
        top_k_tokens: u64,
    },
    /// A fixed-size recurrent state instead of attended tokens.
    Recurrent,
    /// A raw window plus one pooled entry per `ratio` tokens, the `top_k` of them or all.
    Compressed {
        window_tokens: u64,
        ratio: u64,
        top_k: Option<u64>,
    },
}

/// A sparse-attention indexer: query heads, head width, keys kept per query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IndexerReport {
    pub heads: u64,
    pub head_dim: u64,
    pub top_k: u64,
    /// Its FP8 key cache per token per layer, scales included.
    pub key_bytes_per_token: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MlpReport {
    Dense {
        intermediate: u64,
        gated: bool,
        bias: bool,
    },
    Moe {
        experts: u64,
        top_k: u64,
        expert_intermediate: u64,
        /// Sum of the shared experts' intermediate sizes (0: none).
        shared_intermediate: u64,
        gated: bool,
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
    pub embedding: u64,
    pub lm_head: u64,
    pub attention: u64,
    pub dense_mlp: u64,
    pub routed_experts: u64,
    pub shared_experts: u64,
    pub router: u64,
    pub norms: u64,
    pub total: u64,
    /// Routed-expert parameters one token uses (`k/E` of each MoE layer's experts).
    pub active_routed_experts: u64,
    pub active: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightPrecisionsReport {
    pub embeddings: &'static str,
    pub attention: &'static str,
    pub dense_mlp: &'static str,
    pub experts: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightBytesReport {
    pub format: &'static str,
    pub bytes: f64,
}

/// The built-in models, one row each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelListReport {
    pub models: Vec<ModelListRow>,
}

impl Schema for ModelListReport {
    const SCHEMA_VERSION: &'static str = "servemath.models/1";
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelListRow {
    pub name: String,
    /// Hugging Face repository id; `null` for a model not on Hugging Face.
    pub hf_id: Option<String>,
    pub description: String,
    pub model_type: String,
    pub layers: u64,
    pub total_params: u64,
    pub active_params: u64,
    pub weight_bytes: f64,
}

impl ModelListRow {
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
