//! The resolved, validated model description every later layer uses, and the quantities derived from it.

use crate::Precision;
use serde::Serialize;

/// A transformer decoder, resolved from a Hugging Face `config.json`. No `Option`s
/// remain: everything the cost model needs is decided here, once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSpec {
    /// Short name (built-in) or the file stem of the config it came from.
    pub name: String,
    /// `model_type` as read (the text model's, for nested multimodal configs).
    pub model_type: String,
    /// Width `d` of the residual stream (`hidden_size`), elements; at least 1.
    pub hidden_size: u64,
    /// Rows `V` of the token embedding table (`vocab_size`); at least 1.
    pub vocab_size: u64,
    /// `true`: the output head reuses the embedding matrix, so [`ParamBreakdown::lm_head`] is
    /// 0 (`tie_word_embeddings`; when absent, the family's default).
    pub tie_word_embeddings: bool,
    /// The main decoder stack as runs of identical layers, in order; counts sum to the layer count.
    pub groups: Vec<LayerGroup>,
    /// Multi-token-prediction layers (DeepSeek-V3 `num_nextn_predict_layers`): counted apart,
    /// not part of a normal forward step.
    pub mtp: Option<LayerGroup>,
    /// Storage precision of each part of the checkpoint.
    pub checkpoint: WeightPrecisions,
    /// The KV-cache format the checkpoint's quantization config prescribes (ModelOpt
    /// `kv_cache_quant_algo`, compressed-tensors `kv_cache_scheme`); `None`: not stated.
    pub kv_cache: Option<Precision>,
    /// Longest context the model accepts, tokens (`max_position_embeddings`, or the family's
    /// equivalent); at least 1.
    pub max_context: u64,
    /// Parameters of a multimodal wrapper's vision tower (and its projector), counted apart
    /// from the decoder: loaded into memory, not part of a text step. 0 for text models.
    pub vision_params: u64,
    /// How the config was read when that is not plain (an alias, a wrapper, a family
    /// recognised from `architectures`), for the reports.
    pub notes: Vec<String>,
}

/// `count` consecutive (or interleaved but identical) layers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerGroup {
    /// Number of layers in the group; at least 1.
    pub count: u64,
    /// The token mixer of each layer.
    pub attention: Attention,
    /// The feed-forward block that follows it.
    pub mlp: Mlp,
}

/// The token mixer of a layer: attention in one of its forms, or the linear-attention or
/// state-space block that takes its place in hybrids (those keep a fixed-size state per
/// sequence, not a KV cache). Widths and head sizes are element counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Attention {
    /// Multi-head / grouped-query / multi-query attention.
    Gqa {
        /// Query heads (`num_attention_heads`).
        heads: u64,
        /// Key/value heads (`num_key_value_heads`, default `heads`): `heads` for MHA, 1 for MQA.
        kv_heads: u64,
        /// Elements per head (`head_dim`, default `hidden_size / heads`).
        head_dim: u64,
        /// How far back the layer attends.
        span: AttentionSpan,
        /// Learned per-head attention sinks (gpt-oss): `heads` extra parameters per layer.
        sinks: bool,
        /// Biases on q, k, v (and o where `o_bias`).
        qkv_bias: bool,
        /// A bias on the output projection (`d` parameters).
        o_bias: bool,
        /// Per-head RMSNorm weights on queries and keys (Qwen3): `2·head_dim` parameters per
        /// layer, counted with the norms. Weightless q/k norms (Llama-4's L2 norm) are `false`.
        qk_norm: bool,
        /// A sigmoid gate on the attention output from a doubled query projection (Qwen3-Next,
        /// Qwen3.5 `attn_output_gate`): `d·heads·head_dim` more parameters.
        output_gate: bool,
    },
    /// DeepSeek-V4's attention: MQA over one shared 512-wide K=V vector per entry, queries from
    /// a `q_lora_rank` latent, a grouped low-rank output projection; every layer keeps a raw
    /// sliding window, and layers with a compression `ratio` (4 or 128) also cache one gated,
    /// pooled entry per `ratio` tokens: ratio-4 layers pick the `top_k` best with an indexer,
    /// ratio-128 layers attend all of them. Each block also carries its hyper-connection
    /// mixers (`hc_mult` residual streams).
    Compressed {
        /// Query heads (`num_attention_heads`); they share one K=V head.
        heads: u64,
        /// Width of the shared K=V entry and of each query head (`head_dim`; 512 in DeepSeek-V4).
        head_dim: u64,
        /// Width of the query latent (`q_lora_rank`).
        q_lora_rank: u64,
        /// Elements of each head that carry RoPE (`qk_rope_head_dim`).
        rope_dim: u64,
        /// Groups of the low-rank output projection (`o_groups`); divides `heads`.
        o_groups: u64,
        /// Rank of each group's output projection (`o_lora_rank`).
        o_lora_rank: u64,
        /// Raw sliding window, tokens (`sliding_window`; 128 in DeepSeek-V4).
        window: u64,
        /// Tokens pooled into one compressed entry (`compress_ratios`: 4 or 128); 0: the
        /// window alone.
        ratio: u64,
        /// The indexer that picks pooled entries: `Some` on ratio-4 layers, `None` otherwise.
        indexer: Option<Indexer>,
        /// Residual streams of the hyper-connections (`hc_mult`, default 1).
        hc_mult: u64,
    },
    /// No mixer: a heterogeneous stack's layer whose attention is a no-op (DeciLM /
    /// Nemotron-NAS `block_configs`); the layer is its feed-forward block alone.
    None,
    /// A Mamba-2 selective state-space mixer (Nemotron-H `M` blocks): `heads` of `head_dim`
    /// (`d_inner = heads·head_dim`), an `state_size`-wide state shared by `groups` groups of
    /// heads, a depthwise causal convolution with bias over x, B and C.
    Mamba2 {
        /// SSM heads (`mamba_num_heads`).
        heads: u64,
        /// Elements per head (`mamba_head_dim`).
        head_dim: u64,
        /// State width `N` per head (`ssm_state_size`).
        state_size: u64,
        /// Groups of heads, each with its own B and C (`n_groups`).
        groups: u64,
        /// Taps of the causal convolution (`conv_kernel`).
        conv_kernel: u64,
        /// Bytes per element of the SSM state (`mamba_ssm_cache_dtype`: float32 = 4).
        state_element_bytes: u64,
    },
    /// Gated DeltaNet linear attention (Qwen3-Next, Qwen3.5 `linear_attention` layers): a
    /// fixed-size recurrent state per sequence instead of a KV cache.
    Linear {
        /// Query/key heads (`linear_num_key_heads`).
        key_heads: u64,
        /// Value heads (`linear_num_value_heads`); each holds one state matrix.
        value_heads: u64,
        /// Elements per query/key head (`linear_key_head_dim`).
        key_head_dim: u64,
        /// Elements per value head (`linear_value_head_dim`).
        value_head_dim: u64,
        /// Taps of the depthwise causal convolution over q, k, v (`linear_conv_kernel_dim`).
        conv_kernel: u64,
        /// Bytes per element of the recurrent state (`mamba_ssm_dtype`: float32 = 4).
        state_element_bytes: u64,
    },
    /// DeepSeek multi-head latent attention.
    Mla {
        /// Query heads (`num_attention_heads`).
        heads: u64,
        /// Width of the query latent; `None`: queries projected directly from the hidden state.
        q_lora_rank: Option<u64>,
        /// Width `r` of the cached KV latent (`kv_lora_rank`).
        kv_lora_rank: u64,
        /// Elements per query/key head without RoPE (`qk_nope_head_dim`).
        qk_nope_head_dim: u64,
        /// Elements per query/key head that carry RoPE; the RoPE key, one per token shared by
        /// all heads, is cached beside the latent (`qk_rope_head_dim`).
        qk_rope_head_dim: u64,
        /// Elements per value head (`v_head_dim`).
        v_head_dim: u64,
        /// DeepSeek Sparse Attention (DeepSeek-V3.2, GLM-5): a lightning indexer scores every
        /// cached token and each query attends only the `top_k` best.
        indexer: Option<Indexer>,
    },
}

/// The lightning indexer of DeepSeek Sparse Attention (DeepSeek-V3.2's `Indexer`): `heads`
/// small query heads of `head_dim` from the query latent, one key of `head_dim` per token from
/// the hidden state (cached in FP8 with one FP32 scale per 128), per-head weights from the
/// hidden state; it keeps the `top_k` keys per query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Indexer {
    /// Indexer query heads (`index_n_heads`).
    pub heads: u64,
    /// Elements per indexer head and per cached indexer key (`index_head_dim`).
    pub head_dim: u64,
    /// Keys (tokens, or compressed entries) each query keeps (`index_topk`).
    pub top_k: u64,
    /// Context tokens per indexed key: 1 for DSA (every token), the compression ratio for
    /// DeepSeek-V4 (one key per compressed entry).
    pub stride: u64,
}

impl Indexer {
    /// Weights: `wq_b` (query latent `q_in` → heads·head_dim), `wk` (d → head_dim), the key's
    /// LayerNorm (weight and bias), `weights_proj` (d → heads).
    pub fn params(&self, d: u64, q_in: u64) -> u64 {
        q_in * self.heads * self.head_dim + d * self.head_dim + 2 * self.head_dim + d * self.heads
    }

    /// Cache bytes per indexed key: the FP8 key and its FP32 scales (one per 128 elements).
    pub fn key_bytes(&self) -> f64 {
        self.head_dim as f64 + 4.0 * (self.head_dim as f64 / 128.0).ceil()
    }

    /// Indexer cache bytes per context token (one key every `stride` tokens).
    pub fn key_bytes_per_token(&self) -> f64 {
        self.key_bytes() / self.stride.max(1) as f64
    }

    /// FLOPs to score the keys of one context token for one query: `2·heads·head_dim` for the
    /// head dot products plus `2·heads` to weight and sum them, per indexed key.
    pub fn flops_per_key(&self) -> f64 {
        (2 * self.heads * self.head_dim + 2 * self.heads) as f64 / self.stride.max(1) as f64
    }
}

/// How far back a layer attends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttentionSpan {
    /// Every earlier token and itself; the cache grows with the context.
    Full,
    /// The last `window` tokens (Mistral/gpt-oss sliding window).
    Sliding {
        /// Window length, tokens (at least 1); the cache holds at most this many.
        window: u64,
    },
    /// Tokens of the same fixed-size chunk (Llama-4 chunked attention).
    Chunked {
        /// Chunk length, tokens (`attention_chunk_size`); the cache holds at most this many.
        chunk: u64,
    },
    /// The `top_k` cached tokens a sparse-attention indexer selects; the cache keeps them all.
    Sparse {
        /// Tokens each query attends (`index_topk`).
        top_k: u64,
    },
    /// No tokens: a linear-attention or state-space layer keeps a fixed-size state instead.
    Recurrent,
    /// DeepSeek-V4: a raw window plus one pooled entry per `ratio` tokens (0: none), of
    /// which a query attends the `top_k` an indexer picks, or all of them.
    Compressed {
        /// Raw window, tokens.
        window: u64,
        /// Tokens per pooled entry; 0: no pooled entries.
        ratio: u64,
        /// Pooled entries an indexer keeps per query; `None`: all of them are attended.
        top_k: Option<u64>,
    },
}

/// The feed-forward block of a layer. Widths are element counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mlp {
    /// `gated`: SwiGLU-style, three matrices (gate, up, down); otherwise two (up, down).
    Dense {
        /// Intermediate width `d_ff` (`intermediate_size`).
        intermediate: u64,
        /// Three matrices (gate, up, down) rather than two.
        gated: bool,
        /// Biases on each matrix (GPT-J; Llama's `mlp_bias`).
        bias: bool,
    },
    /// Mixture of experts: a router sends each token to `top_k` of `experts` routed experts;
    /// shared experts, where present, see every token.
    Moe {
        /// Routed experts per layer, `E` (`num_local_experts`, `num_experts`,
        /// `n_routed_experts`).
        experts: u64,
        /// Routed experts each token uses, `k` (`num_experts_per_tok`); `1 ≤ k ≤ E`.
        top_k: u64,
        /// Intermediate width of each routed expert (`moe_intermediate_size`).
        expert_intermediate: u64,
        /// Sum of the shared experts' intermediate sizes (0: none); shared experts see every token.
        shared_intermediate: u64,
        /// Gated experts: three matrices each rather than two.
        gated: bool,
        /// Biases inside experts (gpt-oss).
        bias: bool,
        /// LatentMoE (Nemotron 3 Super, `moe_latent_size`): the routed experts work at this
        /// width; one projection from the hidden size into it before dispatch and one back after
        /// combine, shared by every token. 0: the experts work at the hidden size.
        latent: u64,
    },
    /// No feed-forward block: a hybrid's mixer layer that no FFN block follows (Nemotron-H).
    None,
}

/// Storage precision per part of the weights, as [`ModelSpec::weight_bytes`] applies it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightPrecisions {
    /// The embedding table and the untied output head.
    pub embeddings: Precision,
    /// Attention (or mixer) weights, and with them the norms and routers.
    pub attention: Precision,
    /// Dense feed-forward blocks, shared experts and LatentMoE projections.
    pub dense_mlp: Precision,
    /// Routed experts.
    pub experts: Precision,
}

impl WeightPrecisions {
    /// Every part stored in `p` (an unquantized checkpoint's `torch_dtype`).
    pub fn uniform(p: Precision) -> Self {
        WeightPrecisions {
            embeddings: p,
            attention: p,
            dense_mlp: p,
            experts: p,
        }
    }
}

/// Parameter counts by part (elements, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ParamBreakdown {
    /// Input token embedding table.
    pub embedding: u64,
    /// Output projection (0 when tied to the embedding).
    pub lm_head: u64,
    /// Token-mixer weights (attention projections, biases, sinks, indexers, linear-attention
    /// and Mamba blocks), less the norms inside them, which count under `norms`.
    pub attention: u64,
    /// Dense feed-forward blocks, plus LatentMoE's projections into and out of the latent.
    pub dense_mlp: u64,
    /// Every routed expert of every MoE layer (all `E`, not the `k` a token uses).
    pub routed_experts: u64,
    /// Shared experts, which every token passes through.
    pub shared_experts: u64,
    /// Router (gate) weights and biases.
    pub router: u64,
    /// Norm weights and other small vectors.
    pub norms: u64,
}

impl ParamBreakdown {
    /// Sum of every part, parameters.
    pub fn total(&self) -> u64 {
        self.embedding
            + self.lm_head
            + self.attention
            + self.dense_mlp
            + self.routed_experts
            + self.shared_experts
            + self.router
            + self.norms
    }
}

impl Attention {
    /// Weight elements of one attention layer (projections, biases, sinks, latent norms).
    pub fn params(&self, d: u64) -> u64 {
        match *self {
            Attention::None => 0,
            Attention::Compressed {
                heads,
                head_dim,
                q_lora_rank,
                o_groups,
                o_lora_rank,
                ratio,
                indexer,
                hc_mult,
                ..
            } => {
                // attn_sink, wq_a, q_norm, wq_b, wkv, kv_norm, wo_a (block-diagonal over the
                // groups), wo_b.
                let attn = heads
                    + d * q_lora_rank
                    + q_lora_rank
                    + q_lora_rank * heads * head_dim
                    + d * head_dim
                    + head_dim
                    + heads * head_dim * o_lora_rank
                    + o_groups * o_lora_rank * d;
                // The KV compressor: ape, wkv and wgate over `coff` entries (2 with the
                // overlapping ratio-4 windows), its norm.
                let compressor = |ratio: u64, width: u64| -> u64 {
                    if ratio == 0 {
                        return 0;
                    }
                    let coff = if ratio == 4 { 2 } else { 1 };
                    ratio * coff * width + 2 * d * coff * width + width
                };
                // The indexer: wq_b from the query latent, weights_proj, its own compressor.
                let index = indexer.map_or(0, |i| {
                    q_lora_rank * i.heads * i.head_dim
                        + d * i.heads
                        + compressor(i.stride, i.head_dim)
                });
                // Hyper-connections around attention and FFN: (2 + m)·m mixes from m·d, bases,
                // 3 scales, twice per block.
                let mix = (2 + hc_mult) * hc_mult;
                let hc = 2 * (mix * hc_mult * d + mix + 3);
                attn + compressor(ratio, head_dim) + index + hc
            }
            Attention::Gqa {
                heads,
                kv_heads,
                head_dim,
                sinks,
                qkv_bias,
                o_bias,
                output_gate,
                ..
            } => {
                let q = d * heads * head_dim * if output_gate { 2 } else { 1 };
                let kv = 2 * d * kv_heads * head_dim;
                let o = heads * head_dim * d;
                let bias = if qkv_bias {
                    (heads + 2 * kv_heads) * head_dim
                } else {
                    0
                } + if o_bias { d } else { 0 };
                q + kv + o + bias + if sinks { heads } else { 0 } + self.norm_params()
            }
            Attention::Mla {
                heads,
                q_lora_rank,
                kv_lora_rank,
                qk_nope_head_dim,
                qk_rope_head_dim,
                v_head_dim,
                indexer,
            } => {
                let qk_head = qk_nope_head_dim + qk_rope_head_dim;
                let q = match q_lora_rank {
                    Some(r) => d * r + r + r * heads * qk_head,
                    None => d * heads * qk_head,
                };
                let kv_a = d * (kv_lora_rank + qk_rope_head_dim) + kv_lora_rank;
                let kv_b = kv_lora_rank * heads * (qk_nope_head_dim + v_head_dim);
                let o = heads * v_head_dim * d;
                let index = indexer.map_or(0, |i| i.params(d, q_lora_rank.unwrap_or(d)));
                q + kv_a + kv_b + o + index
            }
            Attention::Mamba2 {
                heads,
                head_dim,
                state_size,
                groups,
                conv_kernel,
                ..
            } => {
                let inner = heads * head_dim;
                let conv = inner + 2 * groups * state_size;
                // in_proj (z, x, B, C, dt), the conv with bias, dt_bias + A_log + D, the gated
                // RMSNorm over d_inner, out_proj.
                d * (inner + conv + heads)
                    + conv * (conv_kernel + 1)
                    + 3 * heads
                    + inner
                    + inner * d
            }
            Attention::Linear {
                key_heads,
                value_heads,
                key_head_dim,
                value_head_dim,
                conv_kernel,
                ..
            } => {
                let (key, value) = (key_heads * key_head_dim, value_heads * value_head_dim);
                // in_proj_qkvz, in_proj_ba (beta and alpha per value head), the depthwise
                // conv over q, k, v, dt_bias and A_log, the gated RMSNorm, out_proj.
                d * (2 * key + 2 * value)
                    + d * 2 * value_heads
                    + (2 * key + value) * conv_kernel
                    + 2 * value_heads
                    + self.norm_params()
                    + value * d
            }
        }
    }

    /// The norm weights inside the attention block, included in [`Attention::params`] and
    /// reported as norms by [`LayerGroup::params`]: Qwen3's q/k norms (`2·head_dim`), MLA's
    /// latent norms (`q_lora_rank + kv_lora_rank`).
    pub fn norm_params(&self) -> u64 {
        match *self {
            Attention::None => 0,
            Attention::Compressed {
                q_lora_rank,
                head_dim,
                ..
            } => q_lora_rank + head_dim,
            Attention::Gqa {
                head_dim, qk_norm, ..
            } => {
                if qk_norm {
                    2 * head_dim
                } else {
                    0
                }
            }
            Attention::Mla {
                q_lora_rank,
                kv_lora_rank,
                ..
            } => q_lora_rank.unwrap_or(0) + kv_lora_rank,
            Attention::Linear { value_head_dim, .. } => value_head_dim,
            Attention::Mamba2 {
                heads, head_dim, ..
            } => heads * head_dim,
        }
    }

    /// Bytes of recurrent state one sequence holds in one layer (0 for attention): Gated
    /// DeltaNet's `value_heads × key_head_dim × value_head_dim` state at its element size, plus
    /// the convolution's last `conv_kernel − 1` inputs over q, k, v in BF16.
    pub fn state_bytes_per_sequence(&self) -> f64 {
        match *self {
            Attention::Linear {
                key_heads,
                value_heads,
                key_head_dim,
                value_head_dim,
                conv_kernel,
                state_element_bytes,
            } => {
                let state =
                    (value_heads * key_head_dim * value_head_dim * state_element_bytes) as f64;
                let conv_dim = (2 * key_heads * key_head_dim + value_heads * value_head_dim) as f64;
                state + conv_dim * conv_kernel.saturating_sub(1) as f64 * 2.0
            }
            // Mamba-2: heads × head_dim × state_size, plus the conv's inputs over x, B, C.
            Attention::Mamba2 {
                heads,
                head_dim,
                state_size,
                groups,
                conv_kernel,
                state_element_bytes,
            } => {
                let state = (heads * head_dim * state_size * state_element_bytes) as f64;
                let conv_dim = (heads * head_dim + 2 * groups * state_size) as f64;
                state + conv_dim * conv_kernel.saturating_sub(1) as f64 * 2.0
            }
            _ => 0.0,
        }
    }

    /// FLOPs per token of the recurrent update (0 for attention). Gated DeltaNet per value
    /// head: read the state with k (`2·dk·dv`), the delta-rule rank-1 update (`2·dk·dv`), the
    /// decay (`dk·dv`) and read out with q (`2·dk·dv`): `7·dk·dv` per value head.
    pub fn recurrent_flops_per_token(&self) -> f64 {
        match *self {
            Attention::Linear {
                value_heads,
                key_head_dim,
                value_head_dim,
                ..
            } => (7 * value_heads * key_head_dim * value_head_dim) as f64,
            // Mamba-2 per head: decay the state (`p·n`), add dt·x⊗B (`2·p·n`), read out with C
            // (`2·p·n`): `5·p·n` per head.
            Attention::Mamba2 {
                heads,
                head_dim,
                state_size,
                ..
            } => (5 * heads * head_dim * state_size) as f64,
            _ => 0.0,
        }
    }

    /// KV-cache elements stored per token per layer: `2·h_kv·head_dim` (K and V) for GQA,
    /// `kv_lora_rank + qk_rope_head_dim` (the compressed latent and the shared RoPE key) for MLA.
    pub fn kv_elements_per_token(&self) -> u64 {
        match *self {
            Attention::Gqa {
                kv_heads, head_dim, ..
            } => 2 * kv_heads * head_dim,
            Attention::Mla {
                kv_lora_rank,
                qk_rope_head_dim,
                ..
            } => kv_lora_rank + qk_rope_head_dim,
            Attention::Linear { .. } | Attention::Mamba2 { .. } | Attention::None => 0,
            // One shared K=V vector per cache entry.
            Attention::Compressed { head_dim, .. } => head_dim,
        }
    }

    /// How far back the layer attends: the stored span for GQA, [`AttentionSpan::Sparse`] for
    /// MLA with an indexer (else `Full`), [`AttentionSpan::Recurrent`] for linear attention,
    /// Mamba-2 and `None`, [`AttentionSpan::Compressed`] for DeepSeek-V4.
    pub fn span(&self) -> AttentionSpan {
        match *self {
            Attention::Gqa { span, .. } => span,
            Attention::Mla {
                indexer: Some(i), ..
            } => AttentionSpan::Sparse { top_k: i.top_k },
            Attention::Mla { .. } => AttentionSpan::Full,
            Attention::Linear { .. } | Attention::Mamba2 { .. } | Attention::None => {
                AttentionSpan::Recurrent
            }
            Attention::Compressed {
                window,
                ratio,
                indexer,
                ..
            } => AttentionSpan::Compressed {
                window,
                ratio,
                top_k: indexer.map(|i| i.top_k),
            },
        }
    }

    /// The sparse-attention indexer, if the layer has one.
    pub fn indexer(&self) -> Option<Indexer> {
        match *self {
            Attention::Mla { indexer, .. } | Attention::Compressed { indexer, .. } => indexer,
            Attention::Gqa { .. }
            | Attention::Linear { .. }
            | Attention::Mamba2 { .. }
            | Attention::None => None,
        }
    }

    /// Indexer key bytes one token adds to the cache of one layer (0 without an indexer).
    pub fn indexer_bytes_per_token(&self) -> f64 {
        self.indexer().map_or(0.0, |i| i.key_bytes_per_token())
    }

    /// Cache bytes one token adds to one layer: its KV entry at `kv` plus any indexer key.
    pub fn cache_bytes_per_token(&self, kv: Precision) -> f64 {
        self.kv_elements_per_token() as f64 * kv.bytes_per_element()
            + self.indexer_bytes_per_token()
    }

    /// Heads that tensor parallelism splits: query heads for GQA, MLA and DeepSeek-V4, value
    /// heads for Gated DeltaNet, SSM heads for Mamba-2; 0 for `None`.
    pub fn heads(&self) -> u64 {
        match *self {
            Attention::Gqa { heads, .. } | Attention::Mla { heads, .. } => heads,
            // Tensor parallelism splits the value heads (and with them the key heads).
            Attention::Linear { value_heads, .. } => value_heads,
            Attention::Mamba2 { heads, .. } | Attention::Compressed { heads, .. } => heads,
            Attention::None => 0,
        }
    }

    /// FLOPs per (query token, attended key) pair: QKᵀ and AV, 2 FLOPs per multiply-add.
    /// GQA: `4·h·head_dim`. MLA in the absorbed form (decode): scores over the latent and
    /// the RoPE key, `2·h·(r + rope)`, and AV in the latent, `2·h·r`. MLA in the expanded
    /// form (prefill): `2·h·(nope + rope) + 2·h·v_head_dim`.
    pub fn flops_per_attended_pair(&self, absorbed: bool) -> f64 {
        let f = match *self {
            Attention::Gqa {
                heads, head_dim, ..
            } => 4 * heads * head_dim,
            Attention::Mla {
                heads,
                kv_lora_rank,
                qk_nope_head_dim,
                qk_rope_head_dim,
                v_head_dim,
                ..
            } => {
                if absorbed {
                    2 * heads * (kv_lora_rank + qk_rope_head_dim) + 2 * heads * kv_lora_rank
                } else {
                    2 * heads * (qk_nope_head_dim + qk_rope_head_dim) + 2 * heads * v_head_dim
                }
            }
            // No (query, key) pairs: see `recurrent_flops_per_token`.
            Attention::Linear { .. } | Attention::Mamba2 { .. } | Attention::None => 0,
            // Scores and values over the shared 512-wide entry.
            Attention::Compressed {
                heads, head_dim, ..
            } => 4 * heads * head_dim,
        };
        f as f64
    }
}

impl AttentionSpan {
    /// Tokens of KV cache a sequence of `context` tokens holds for a layer with this span.
    pub fn kv_tokens(self, context: u64) -> u64 {
        match self {
            AttentionSpan::Full | AttentionSpan::Sparse { .. } => context,
            AttentionSpan::Recurrent => 0,
            AttentionSpan::Compressed { window, ratio, .. } => {
                context.min(window) + context.checked_div(ratio).unwrap_or(0)
            }
            AttentionSpan::Sliding { window } => context.min(window),
            AttentionSpan::Chunked { chunk } => context.min(chunk),
        }
    }

    /// Keys a new token at position `context` (0-based count of earlier tokens) attends to,
    /// itself included, averaged as a real number so sweeps stay smooth.
    pub fn attended(self, context: f64) -> f64 {
        match self {
            AttentionSpan::Full => context + 1.0,
            AttentionSpan::Sliding { window } => (context + 1.0).min(window as f64),
            AttentionSpan::Chunked { chunk } => (context + 1.0).min(chunk as f64),
            AttentionSpan::Sparse { top_k } => (context + 1.0).min(top_k as f64),
            AttentionSpan::Recurrent => 0.0,
            AttentionSpan::Compressed {
                window,
                ratio,
                top_k,
            } => {
                let pooled = if ratio == 0 {
                    0.0
                } else {
                    (context + 1.0) / ratio as f64
                };
                (context + 1.0).min(window as f64) + top_k.map_or(pooled, |k| pooled.min(k as f64))
            }
        }
    }

    /// Cache entries one new token adds at long context (windows full): 1 for full and
    /// sparse attention, `1/ratio` for DeepSeek-V4's pooled entries, 0 otherwise.
    pub fn growth(self) -> f64 {
        match self {
            AttentionSpan::Full | AttentionSpan::Sparse { .. } => 1.0,
            AttentionSpan::Compressed { ratio, .. } if ratio > 0 => 1.0 / ratio as f64,
            _ => 0.0,
        }
    }
}

/// Parameters of one MLP layer split by kind.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MlpParams {
    /// Dense feed-forward weights and biases, or LatentMoE's two latent projections.
    pub dense: u64,
    /// All routed experts of the layer, biases included.
    pub routed: u64,
    /// The shared experts.
    pub shared: u64,
    /// The router: `d·E` weights, plus `E` biases where experts have biases.
    pub router: u64,
}

impl Mlp {
    /// Parameters of one layer's feed-forward block at hidden size `d`; all zero for
    /// [`Mlp::None`].
    pub fn params(&self, d: u64) -> MlpParams {
        match *self {
            Mlp::Dense {
                intermediate,
                gated,
                bias,
            } => {
                let mats = if gated { 3 } else { 2 };
                let b = if bias {
                    intermediate * (mats - 1) + d
                } else {
                    0
                };
                MlpParams {
                    dense: mats * d * intermediate + b,
                    ..MlpParams::default()
                }
            }
            Mlp::Moe {
                experts,
                expert_intermediate,
                shared_intermediate,
                gated,
                bias,
                latent,
                ..
            } => {
                let mats = if gated { 3 } else { 2 };
                let width = if latent > 0 { latent } else { d };
                let per_expert = mats * width * expert_intermediate
                    + if bias {
                        expert_intermediate * (mats - 1) + width
                    } else {
                        0
                    };
                MlpParams {
                    // The latent down- and up-projections every token passes through.
                    dense: if latent > 0 { 2 * d * latent } else { 0 },
                    routed: experts * per_expert,
                    shared: mats * d * shared_intermediate,
                    router: d * experts + if bias { experts } else { 0 },
                }
            }
            Mlp::None => MlpParams::default(),
        }
    }

    /// `(experts, top_k)` for MoE layers.
    pub fn routing(&self) -> Option<(u64, u64)> {
        match *self {
            Mlp::Dense { .. } | Mlp::None => None,
            Mlp::Moe { experts, top_k, .. } => Some((experts, top_k)),
        }
    }
}

impl LayerGroup {
    /// Parameters of the group (all `count` layers), with 2·d norm weights per layer (the
    /// pre-attention and pre-MLP norms) plus the norms inside attention
    /// ([`Attention::norm_params`]), which move from `attention` to `norms`.
    pub fn params(&self, d: u64) -> ParamBreakdown {
        let mlp = self.mlp.params(d);
        let attn_norms = self.attention.norm_params();
        ParamBreakdown {
            attention: self.count * (self.attention.params(d) - attn_norms),
            dense_mlp: self.count * mlp.dense,
            routed_experts: self.count * mlp.routed,
            shared_experts: self.count * mlp.shared,
            router: self.count * mlp.router,
            // One norm before the mixer and one before the feed-forward block, where they exist.
            norms: self.count
                * (d * u64::from(self.attention != Attention::None)
                    + d * u64::from(self.mlp != Mlp::None)
                    + attn_norms),
            ..ParamBreakdown::default()
        }
    }
}

impl std::ops::Add for ParamBreakdown {
    type Output = ParamBreakdown;
    fn add(self, o: ParamBreakdown) -> ParamBreakdown {
        ParamBreakdown {
            embedding: self.embedding + o.embedding,
            lm_head: self.lm_head + o.lm_head,
            attention: self.attention + o.attention,
            dense_mlp: self.dense_mlp + o.dense_mlp,
            routed_experts: self.routed_experts + o.routed_experts,
            shared_experts: self.shared_experts + o.shared_experts,
            router: self.router + o.router,
            norms: self.norms + o.norms,
        }
    }
}

impl ModelSpec {
    /// Layers of the main stack (the sum of the group counts), MTP layers excluded.
    pub fn num_layers(&self) -> u64 {
        self.groups.iter().map(|g| g.count).sum()
    }

    /// Parameters of the main stack (MTP layers excluded; see [`ModelSpec::mtp_params`]).
    pub fn params(&self) -> ParamBreakdown {
        let d = self.hidden_size;
        let embed = self.vocab_size * d;
        let head = ParamBreakdown {
            embedding: embed,
            lm_head: if self.tie_word_embeddings { 0 } else { embed },
            norms: d,
            ..ParamBreakdown::default()
        };
        self.groups.iter().fold(head, |acc, g| acc + g.params(d))
    }

    /// Parameters of the multi-token-prediction layers (0 when the model has none), excluding
    /// the embedding and output head they share with the main model.
    ///
    /// A DeepSeek-V3 MTP module is one full decoder layer plus `eh_proj` (a `2d → d` linear,
    /// `2·d·d`), two input norms (`enorm`, `hnorm`) and the shared head's own norm: `3·d`.
    /// Check: layer 61 of DeepSeek-V3 (an MoE layer) is 11,506,286,016 parameters, plus
    /// 2·7168² + 3·7168 = 102,781,952 gives 11.61 B. DeepSeek's README_WEIGHTS.md says
    /// "11.5B unique parameters", which matches the layer alone; `eh_proj` is in the
    /// checkpoint (`model.layers.61.eh_proj.weight`), so it is counted here. The 685 B
    /// checkpoint total also stores a second copy of the embedding and head (2 × 0.93 B).
    pub fn mtp_params(&self) -> u64 {
        let d = self.hidden_size;
        self.mtp
            .as_ref()
            .map_or(0, |g| g.params(d).total() + g.count * (2 * d * d + 3 * d))
    }

    /// Embedding table plus (untied) output head.
    pub fn embedding_params(&self) -> u64 {
        let p = self.params();
        p.embedding + p.lm_head
    }

    /// Parameters outside the embedding table and output head: Qwen's "non-embedding" figure.
    pub fn non_embedding_params(&self) -> u64 {
        self.params().total() - self.embedding_params()
    }

    /// Parameters a single token touches: everything except the routed experts it
    /// does not pick (`k/E` of them per MoE layer). The embedding table counts in full,
    /// as in Mixtral's published 12.9 B, Qwen's "activated" figures and Llama-4's 17 B.
    /// For the convention without the embedding see [`ModelSpec::active_matmul_params`].
    pub fn active_params(&self) -> u64 {
        let p = self.params();
        p.total() - p.routed_experts + self.active_routed_params()
    }

    /// Parameters that take part in a matrix multiply for one token: [`ModelSpec::active_params`]
    /// less the input embedding table, which is a row lookup, not a matmul (a tied table
    /// still counts once, as the output head). `2 ×` this is the forward FLOPs per token
    /// outside attention scores. It is also the convention of OpenAI's gpt-oss model card
    /// (5.13 B / 3.61 B active: unembedding counted, embedding not) and of DeepSeek's
    /// README_WEIGHTS.md (V3: 36.6 B "including 0.9B for the output head").
    pub fn active_matmul_params(&self) -> u64 {
        let p = self.params();
        let lookup_only = if self.tie_word_embeddings {
            0
        } else {
            p.embedding
        };
        self.active_params() - lookup_only
    }

    /// Routed-expert parameters one token uses: `k/E` of each MoE layer's experts.
    pub fn active_routed_params(&self) -> u64 {
        let d = self.hidden_size;
        self.groups
            .iter()
            .map(|g| match g.mlp.routing() {
                Some((e, k)) => g.count * g.mlp.params(d).routed / e * k,
                None => 0,
            })
            .sum()
    }

    /// Weight bytes of the main stack when stored in `prec`.
    pub fn weight_bytes(&self, prec: &WeightPrecisions) -> f64 {
        let p = self.params();
        (p.embedding + p.lm_head) as f64 * prec.embeddings.bytes_per_element()
            + (p.attention + p.norms + p.router) as f64 * prec.attention.bytes_per_element()
            + (p.dense_mlp + p.shared_experts) as f64 * prec.dense_mlp.bytes_per_element()
            + p.routed_experts as f64 * prec.experts.bytes_per_element()
    }

    /// KV-cache bytes a sequence of `context` tokens holds, all layers. The product is formed
    /// in `f64` so that no caller-chosen context can overflow it.
    pub fn kv_bytes_for_context(&self, context: u64, kv: Precision) -> f64 {
        self.groups
            .iter()
            .map(|g| {
                g.count as f64
                    * (g.attention.kv_elements_per_token() as f64
                        * kv.bytes_per_element()
                        * g.attention.span().kv_tokens(context) as f64
                        + g.attention.indexer_bytes_per_token() * context as f64)
            })
            .sum::<f64>()
    }

    /// KV-cache bytes per token at long context: layers with a window or chunk no longer grow,
    /// so only full-attention layers count.
    pub fn kv_bytes_per_token(&self, kv: Precision) -> f64 {
        self.groups
            .iter()
            .map(|g| {
                g.count as f64
                    * (g.attention.kv_elements_per_token() as f64
                        * kv.bytes_per_element()
                        * g.attention.span().growth()
                        + g.attention.indexer_bytes_per_token())
            })
            .sum::<f64>()
    }

    /// KV-cache bytes per token while the context is shorter than every window (all layers grow).
    pub fn kv_bytes_per_token_short(&self, kv: Precision) -> f64 {
        self.groups
            .iter()
            .map(|g| g.count as f64 * g.attention.cache_bytes_per_token(kv))
            .sum::<f64>()
    }

    /// Whether any layer of the main stack is a mixture of experts.
    pub fn is_moe(&self) -> bool {
        self.groups.iter().any(|g| g.mlp.routing().is_some())
    }

    /// An upper bound, formed in `f64` so it cannot overflow, on every integer the `u64`
    /// parameter formulas of this module build (each term of [`ModelSpec::params`], MTP
    /// included). Parsing rejects a spec whose bound is absurd, so those formulas never
    /// overflow on a parsed spec.
    pub(crate) fn magnitude_bound(&self) -> f64 {
        let d = self.hidden_size as f64;
        let layers = |g: &LayerGroup| g.count as f64 * layer_bound(g, d);
        let mtp = self.mtp.as_ref().map_or(0.0, |g| {
            layers(g) + g.count as f64 * (2.0 * d * d + 3.0 * d)
        });
        2.0 * self.vocab_size as f64 * d + d + self.groups.iter().map(layers).sum::<f64>() + mtp
    }
}

/// See [`ModelSpec::magnitude_bound`]: dominates each product in the formulas above.
fn layer_bound(g: &LayerGroup, d: f64) -> f64 {
    let attention = match g.attention {
        Attention::Gqa {
            heads,
            kv_heads,
            head_dim,
            ..
        } => {
            let (h, kv, hd) = (heads as f64, kv_heads as f64, head_dim as f64);
            // The output gate doubles the query projection.
            (d + 1.0) * (2.0 * h + 2.0 * kv) * hd + h * hd * d + d + h + 2.0 * hd
        }
        // Bounded below.
        Attention::Linear { .. } | Attention::None => 0.0,
        Attention::Compressed {
            heads,
            head_dim,
            q_lora_rank,
            o_groups,
            o_lora_rank,
            ratio,
            indexer,
            hc_mult,
            ..
        } => {
            let (h, hd, q, o) = (
                heads as f64,
                head_dim as f64,
                q_lora_rank as f64,
                o_lora_rank as f64,
            );
            let m = hc_mult as f64;
            // The compressor term of `Attention::params` with coff at its largest (2).
            let compressor =
                |ratio: u64, width: f64| 2.0 * ratio as f64 * width + 4.0 * d * width + width;
            let index = indexer.map_or(0.0, |i| {
                let (ih, ihd) = (i.heads as f64, i.head_dim as f64);
                q * ih * ihd + d * ih + compressor(i.stride, ihd)
            });
            h + d * q
                + q
                + q * h * hd
                + d * hd
                + hd
                + h * hd * o
                + o_groups as f64 * o * d
                + compressor(ratio, hd)
                + index
                + 2.0 * ((2.0 + m) * m * m * d + (2.0 + m) * m + 3.0)
        }
        Attention::Mamba2 {
            heads,
            head_dim,
            state_size,
            groups,
            conv_kernel,
            ..
        } => {
            let inner = (heads * head_dim) as f64;
            let conv = inner + 2.0 * (groups * state_size) as f64;
            (d + conv_kernel as f64 + 1.0) * (inner + conv + heads as f64)
                + inner * d
                + inner
                + 3.0 * heads as f64
        }
        Attention::Mla {
            heads,
            q_lora_rank,
            kv_lora_rank,
            qk_nope_head_dim,
            qk_rope_head_dim,
            v_head_dim,
            indexer,
        } => {
            let index = indexer.map_or(0.0, |i| {
                let (ih, ihd) = (i.heads as f64, i.head_dim as f64);
                (q_lora_rank.unwrap_or(0) as f64 + d) * ih * ihd + d * ihd + 2.0 * ihd + d * ih
            });
            let h = heads as f64;
            let r = q_lora_rank.unwrap_or(0) as f64;
            let (kv, nope, rope, v) = (
                kv_lora_rank as f64,
                qk_nope_head_dim as f64,
                qk_rope_head_dim as f64,
                v_head_dim as f64,
            );
            (d + 1.0) * r
                + (r + d) * h * (nope + rope)
                + (d + 1.0) * (kv + rope)
                + kv * h * (nope + v)
                + h * v * d
                + r
                + kv
                + index
        }
    };
    let attention = attention
        + match g.attention {
            Attention::Linear {
                key_heads,
                value_heads,
                key_head_dim,
                value_head_dim,
                conv_kernel,
                ..
            } => {
                let (k, v) = (
                    (key_heads * key_head_dim) as f64,
                    (value_heads * value_head_dim) as f64,
                );
                (d + conv_kernel as f64) * (2.0 * k + 2.0 * v)
                    + 2.0 * d * value_heads as f64
                    + v * d
                    + value_head_dim as f64
                    + 2.0 * value_heads as f64
            }
            _ => 0.0,
        };
    let mlp = match g.mlp {
        Mlp::None => 0.0,
        Mlp::Dense { intermediate, .. } => {
            let ff = intermediate as f64;
            3.0 * d * ff + 2.0 * ff + d
        }
        Mlp::Moe {
            experts,
            expert_intermediate,
            shared_intermediate,
            ..
        } => {
            let (e, ff, sh) = (
                experts as f64,
                expert_intermediate as f64,
                shared_intermediate as f64,
            );
            e * (3.0 * d * ff + 2.0 * ff + d) + 3.0 * d * sh + d * e + e
        }
    };
    attention + mlp + 2.0 * d
}
