//! A model on hardware with a layout, precisions and parameters, resolved once into per-device
//! constants so that pricing a step is a handful of multiplications per layer kind.

use crate::collective::Network;
use crate::layout::{self, LayoutError, Parallelism, Precisions};
use crate::params::CostParams;
use crate::step::{Bound, ByteTraffic, StepCost, StepLoad};
use servemath_hardware::{Hardware, HardwareError};
use servemath_model::{AttentionSpan, Mlp, ModelSpec};

/// Why a deployment cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error(transparent)]
    Hardware(#[from] HardwareError),
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
}

/// Routed-expert constants of one MoE layer kind, per device.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Experts {
    /// Experts held by one device (`E / ep`).
    per_device: f64,
    /// `k / E`: the chance a token picks a given expert.
    pick: f64,
    top_k: f64,
    /// Bytes of one expert's slice on a device (`1 / moe_tp` of the expert).
    bytes_each: f64,
    /// FLOPs per (token, expert) pair on one device.
    flops_per_pair: f64,
}

/// Per-layer, per-device constants of one run of identical layers.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Kind {
    /// Layers of this kind in the slowest pipeline stage.
    layers: f64,
    span: AttentionSpan,
    attn_bytes: f64,
    attn_flops_per_token: f64,
    pair_flops_decode: f64,
    pair_flops_prefill: f64,
    kv_bytes_per_token: f64,
    /// Dense MLP or shared experts: bytes and FLOPs per token on one device.
    dense_bytes: f64,
    dense_flops_per_token: f64,
    has_shared: bool,
    experts: Option<Experts>,
}

/// A resolved deployment: everything needed to price steps and check memory.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub model: ModelSpec,
    pub hardware: Hardware,
    pub par: Parallelism,
    pub prec: Precisions,
    pub params: CostParams,
    kinds: Vec<Kind>,
    net: Network,
    peak_flop_per_s: f64,
    hidden: f64,
    act_bytes: f64,
    /// lm_head (+ embedding rows) per device.
    head_bytes: f64,
    head_flops_per_row: f64,
    /// Weights held by the busiest device.
    weight_bytes_per_device: f64,
    stage_layers: f64,
    pp_crosses_domain: bool,
}

impl Deployment {
    pub fn new(
        model: &ModelSpec,
        hardware: &Hardware,
        par: Parallelism,
        prec: Precisions,
        params: CostParams,
    ) -> Result<Deployment, DeployError> {
        layout::validate(model, &par)?;
        params.validate("cost parameters")?;
        let peak_flop_per_s = hardware.peak_flop_per_s(prec.compute)?;
        let replica = par.gpus();
        let out_bytes_per_s = if hardware.scale_up_domain < replica {
            hardware.scale_out()?
        } else {
            hardware.scale_out_bytes_per_s.unwrap_or(f64::INFINITY)
        };
        let eff = params.comm_efficiency;
        let net = Network {
            domain: hardware.scale_up_domain,
            up_bytes_per_s: hardware.scale_up_bytes_per_s * eff,
            up_latency_s: hardware.scale_up_latency_s,
            out_bytes_per_s: out_bytes_per_s * eff,
            out_latency_s: hardware.scale_out_latency_s,
        };

        let d = model.hidden_size;
        let (tp, ep) = (f64::from(par.tp), f64::from(par.ep));
        let moe_tp = f64::from(par.moe_tp());
        let total_layers = model.num_layers() as f64;
        let stage_layers = model.num_layers().div_ceil(u64::from(par.pp)) as f64;
        let stage_frac = stage_layers / total_layers;
        let w = prec.weights;

        let kinds = model
            .groups
            .iter()
            .map(|g| {
                let attn_params = g.attention.params(d) as f64;
                // The layer's two norm vectors are read with the attention weights.
                let norm_params = 2.0 * d as f64;
                let kv_shard = match g.attention {
                    servemath_model::Attention::Gqa { kv_heads, .. } => (kv_heads as f64).min(tp),
                    // The MLA latent is shared by all heads, so TP ranks each hold all of it.
                    servemath_model::Attention::Mla { .. } => 1.0,
                };
                let mlp = g.mlp.params(d);
                let dense = (mlp.dense + mlp.shared + mlp.router) as f64;
                let experts = match g.mlp {
                    Mlp::Moe { experts, top_k, .. } => {
                        let per_expert = mlp.routed as f64 / experts as f64;
                        Some(Experts {
                            per_device: experts as f64 / ep,
                            pick: top_k as f64 / experts as f64,
                            top_k: top_k as f64,
                            bytes_each: per_expert * w.experts.bytes_per_element() / moe_tp,
                            flops_per_pair: 2.0 * per_expert / moe_tp,
                        })
                    }
                    Mlp::Dense { .. } => None,
                };
                Kind {
                    layers: g.count as f64 * stage_frac,
                    span: g.attention.span(),
                    attn_bytes: (attn_params + norm_params) * w.attention.bytes_per_element() / tp,
                    attn_flops_per_token: 2.0 * attn_params / tp,
                    pair_flops_decode: g.attention.flops_per_attended_pair(true) / tp,
                    pair_flops_prefill: g.attention.flops_per_attended_pair(false) / tp,
                    kv_bytes_per_token: g.attention.kv_elements_per_token() as f64
                        * prec.kv.bytes_per_element()
                        / kv_shard,
                    dense_bytes: dense * w.dense_mlp.bytes_per_element() / tp,
                    dense_flops_per_token: 2.0 * dense / tp,
                    has_shared: mlp.shared > 0,
                    experts,
                }
            })
            .collect::<Vec<_>>();

        let p = model.params();
        let emb_b = w.embeddings.bytes_per_element();
        let head_params = if model.tie_word_embeddings {
            p.embedding
        } else {
            p.lm_head
        } as f64;
        // The final norm is read with the head.
        let head_bytes = head_params * emb_b / tp + d as f64 * w.attention.bytes_per_element();
        // Memory: the first stage holds the embedding, the last the head; one stage holds both when pp = 1.
        let table_bytes = if par.pp == 1 {
            (p.embedding + p.lm_head) as f64 * emb_b / tp
        } else {
            (p.embedding.max(p.lm_head)) as f64 * emb_b / tp
        };
        let layer_weights: f64 = kinds
            .iter()
            .map(|k| {
                k.layers
                    * (k.attn_bytes
                        + k.dense_bytes
                        + k.experts.map_or(0.0, |e| e.per_device * e.bytes_each))
            })
            .sum();

        Ok(Deployment {
            model: model.clone(),
            hardware: hardware.clone(),
            par,
            prec,
            params,
            kinds,
            net,
            peak_flop_per_s,
            hidden: d as f64,
            act_bytes: prec.activations.bytes_per_element(),
            head_bytes,
            head_flops_per_row: 2.0 * head_params / tp,
            weight_bytes_per_device: layer_weights + table_bytes,
            stage_layers,
            pp_crosses_domain: par.gpus() > hardware.scale_up_domain,
        })
    }

    /// Weight bytes held by the busiest device.
    pub fn weight_bytes_per_device(&self) -> f64 {
        self.weight_bytes_per_device
    }

    /// GPUs in one replica.
    pub fn gpus(&self) -> u32 {
        self.par.gpus()
    }

    /// Dense peak FLOP/s of one device at the compute precision.
    pub fn peak_flop_per_s(&self) -> f64 {
        self.peak_flop_per_s
    }

    /// KV-cache bytes one device holds for one sequence of `context` tokens (rounded up to whole blocks).
    pub fn kv_bytes_per_seq_per_device(&self, context: f64) -> f64 {
        let block = self.params.kv_block_tokens;
        let ctx = (context / block).ceil() * block;
        self.kinds
            .iter()
            .map(|k| k.layers * k.kv_bytes_per_token * k.span.kv_tokens(ctx as u64) as f64)
            .sum()
    }

    /// Sequences whose KV cache one device holds: each attention-DP rank holds its own
    /// `1/dp_attn` of the batch.
    pub fn seqs_per_device(&self, batch: f64) -> f64 {
        batch / f64::from(self.par.dp_attn)
    }

    /// Activation workspace per device: one step of `max_batched_tokens` with the widest layer's
    /// intermediate tensors live, `tokens · (4·d + 2·d_ff,device) · activation bytes`.
    pub fn activation_bytes_per_device(&self) -> f64 {
        let widest = self
            .kinds
            .iter()
            .map(|k| {
                let dense = k.dense_flops_per_token / (2.0 * 3.0 * self.hidden);
                let expert = k.experts.map_or(0.0, |e| {
                    e.top_k * e.flops_per_pair / (2.0 * 3.0 * self.hidden)
                });
                dense.max(expert)
            })
            .fold(0.0, f64::max);
        let tokens = self.params.max_batched_tokens / f64::from(self.par.dp_attn);
        tokens * (4.0 * self.hidden + 2.0 * widest) * self.act_bytes
    }

    /// Prices one step of the replica.
    ///
    /// The step's load is split into `pp` equal micro-batches. Each stage spends
    /// `max(compute, memory) + exposed communication + per-layer overhead` on each, so a step
    /// takes `pp` times that, plus the fixed step overhead and `pp − 1` pipeline hand-offs.
    pub fn step(&self, load: &StepLoad) -> StepCost {
        let pp = f64::from(self.par.pp);
        let m = if self.par.pp > 1 {
            load.scaled(1.0 / pp)
        } else {
            *load
        };
        let dpa = f64::from(self.par.dp_attn);
        let (tp, g, ep, moe_tp) = (
            self.par.tp,
            self.par.group(),
            self.par.ep,
            self.par.moe_tp(),
        );
        let d = self.hidden;
        let ab = self.act_bytes;
        let p = &self.params;

        let tokens = m.tokens();
        let rank_tokens = tokens / dpa;
        let dec = m.decode_seqs / dpa;
        let dec_ctx = if m.decode_seqs > 0.0 {
            m.decode_context_sum / m.decode_seqs
        } else {
            0.0
        };
        let pf_seqs = m.prefill_seqs / dpa;
        let pf_tokens = m.prefill_tokens / dpa;
        let (pf_chunk, pf_prefix) = if m.prefill_seqs > 0.0 {
            (
                m.prefill_tokens / m.prefill_seqs,
                m.prefill_prefix_sum / m.prefill_seqs,
            )
        } else {
            (0.0, 0.0)
        };
        // Mean keys a prefill token attends to: its prefix plus, causally, half the chunk.
        let pf_attended_full = pf_prefix + (pf_chunk + 1.0) / 2.0;

        let mut flops = 0.0;
        let mut bytes = ByteTraffic::default();
        let mut comm = 0.0;
        let mut comm_bytes = 0.0;
        let layer_ar = self.net.all_reduce(tp, rank_tokens * d * ab);
        let layer_ar_bytes = if tp > 1 {
            2.0 * (f64::from(tp) - 1.0) / f64::from(tp) * rank_tokens * d * ab
        } else {
            0.0
        };
        for k in &self.kinds {
            let attended_dec = k.span.attended(dec_ctx);
            let attended_pf = match k.span {
                AttentionSpan::Full => pf_attended_full,
                AttentionSpan::Sliding { window } | AttentionSpan::Chunked { chunk: window } => {
                    pf_attended_full.min(window as f64)
                }
            };
            let pf_kv_tokens = k.span.attended(pf_prefix + pf_chunk - 1.0);
            let mut f = k.attn_flops_per_token * rank_tokens
                + dec * attended_dec * k.pair_flops_decode
                + pf_tokens * attended_pf * k.pair_flops_prefill
                + k.dense_flops_per_token * rank_tokens;
            let mut w = k.attn_bytes + k.dense_bytes;
            // Attention output all-reduce; then the MLP's own exchange.
            let mut c = layer_ar;
            let mut cb = layer_ar_bytes;
            match k.experts {
                None => {
                    c += layer_ar;
                    cb += layer_ar_bytes;
                }
                Some(e) => {
                    let touched = e.per_device * (1.0 - (1.0 - e.pick).powf(tokens));
                    w += touched * e.bytes_each;
                    let pairs = tokens * e.top_k / f64::from(ep);
                    f += pairs * e.flops_per_pair * p.moe_load_imbalance;
                    if ep == 1 {
                        let size = tokens * d * ab;
                        c += self.net.all_reduce(g, size);
                        cb += 2.0 * (f64::from(g) - 1.0) / f64::from(g) * size;
                    } else {
                        // Dispatch and combine: each device sends its tokens' k copies to the experts' owners.
                        let per_device = tokens / f64::from(g) * e.top_k * d * ab;
                        c += 2.0 * self.net.all_to_all(g, per_device);
                        cb += 2.0 * per_device * (f64::from(g) - 1.0) / f64::from(g);
                        c += self.net.all_reduce(moe_tp, pairs * d * ab);
                        if k.has_shared {
                            c += layer_ar;
                            cb += layer_ar_bytes;
                        }
                    }
                }
            }
            flops += k.layers * f;
            bytes.weights += k.layers * w;
            bytes.kv_read +=
                k.layers * k.kv_bytes_per_token * (dec * attended_dec + pf_seqs * pf_kv_tokens);
            bytes.kv_write += k.layers * k.kv_bytes_per_token * rank_tokens;
            bytes.activations += k.layers * rank_tokens * d * ab * p.activation_io_per_layer;
            comm += k.layers * c;
            comm_bytes += k.layers * cb;
        }
        // Output head over the rows that need logits; embedding rows gathered for every token.
        flops += self.head_flops_per_row * m.logit_rows() / dpa;
        bytes.weights +=
            self.head_bytes + rank_tokens * d * self.prec.weights.embeddings.bytes_per_element();

        let compute_s = flops / (self.peak_flop_per_s * p.compute_efficiency);
        let memory_s = bytes.total() / (self.hardware.hbm_bytes_per_s * p.memory_efficiency);
        let exposed_comm = comm * (1.0 - p.comm_overlap);
        let layer_overhead = self.stage_layers * p.layer_overhead_s;
        let handoff = if self.par.pp > 1 {
            (pp - 1.0) * self.net.p2p(rank_tokens * d * ab, self.pp_crosses_domain)
        } else {
            0.0
        };
        let stage_s = compute_s.max(memory_s) + exposed_comm + layer_overhead;
        // Each attention-DP rank schedules and samples its own sequences, in parallel.
        let fixed_s = p.step_overhead_s + p.seq_overhead_s * load.logit_rows() / dpa;
        let time_s = pp * stage_s + fixed_s + handoff;

        let parts = [
            (pp * compute_s, Bound::Compute),
            (pp * memory_s, Bound::Memory),
            (pp * exposed_comm + handoff, Bound::Communication),
            (pp * layer_overhead + fixed_s, Bound::Overhead),
        ];
        let bound = parts
            .iter()
            .fold((f64::NEG_INFINITY, Bound::Overhead), |best, &(t, b)| {
                if t > best.0 {
                    (t, b)
                } else {
                    best
                }
            })
            .1;
        let scale = |x: f64| x * pp;
        let total_bytes = ByteTraffic {
            weights: scale(bytes.weights),
            kv_read: scale(bytes.kv_read),
            kv_write: scale(bytes.kv_write),
            activations: scale(bytes.activations),
        };
        StepCost {
            time_s,
            compute_s: pp * compute_s,
            memory_s: pp * memory_s,
            comm_s: pp * exposed_comm + handoff,
            overhead_s: pp * layer_overhead + fixed_s,
            flops: scale(flops),
            bytes: total_bytes,
            comm_bytes: scale(comm_bytes),
            bound,
            mfu: scale(flops) / (time_s * self.peak_flop_per_s),
            mbu: total_bytes.total() / (time_s * self.hardware.hbm_bytes_per_s),
        }
    }
}
