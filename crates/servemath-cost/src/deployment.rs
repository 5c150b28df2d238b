//! A model on hardware with a layout, precisions and parameters, resolved once into per-device
//! constants so that pricing a step is a handful of multiplications per layer kind.

use crate::collective::{Network, Phase};
use crate::kernels::{self, GemmRate, RateSource, Rates};
use crate::layout::{self, LayoutError, Parallelism, Precisions};
use crate::params::CostParams;
use crate::step::{Bound, ByteTraffic, ClassTime, KernelTimes, StepCost, StepLoad};
use servemath_hardware::{Confidence, Hardware, HardwareError, KernelCurves};
use servemath_model::{
    Attention, AttentionSpan, MathPrecision, Mlp, ModelSpec, Precision, WeightPrecisions,
};

/// Why a deployment cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeployError {
    /// The layout does not divide the model (see [`validate_layout`](crate::validate_layout)).
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// The hardware lacks a figure the deployment needs: a peak at the compute precision, or
    /// scale-out bandwidth for a replica larger than one scale-up domain.
    #[error(transparent)]
    Hardware(#[from] HardwareError),
    /// A cost parameter is out of its range.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
}

/// Routed-expert constants of one MoE layer kind, per device.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Experts {
    /// Experts held by one device (`E / ep`).
    per_device: f64,
    /// `E`, for the routing statistics.
    total: f64,
    /// `k / E`: the chance a token picks a given expert.
    pick: f64,
    top_k: f64,
    /// Bytes of one expert's slice on a device (`1 / moe_tp` of the expert).
    bytes_each: f64,
    /// FLOPs per (token, expert) pair on one device.
    flops_per_pair: f64,
    /// Expert width on one device (`ff / moe_tp`).
    ffn_per_device: f64,
    /// Width of the rows the experts take and return: the hidden size, or LatentMoE's latent.
    width: f64,
}

/// One GEMM of a layer on one device: `m × n × k` with `m` the tokens of the step.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Gemm {
    n: f64,
    k: f64,
    /// Weight bytes per element.
    w: f64,
    /// The rate of its weight format (attention projections may stay BF16 or FP8 in an FP4
    /// deployment; the router is BF16).
    rate: GemmRate,
}

/// Per-layer, per-device constants of one run of identical layers.
#[derive(Debug, Clone, PartialEq)]
struct Kind {
    /// Layers of this kind in the slowest pipeline stage.
    layers: f64,
    span: AttentionSpan,
    /// Dense GEMMs of the layer (attention projections, dense MLP or shared experts, router).
    gemms: Vec<Gemm>,
    attn_bytes: f64,
    /// Norm vectors, biases, sinks and q/k norms: read by the elementwise kernels.
    small_bytes: f64,
    pair_flops_decode: f64,
    pair_flops_prefill: f64,
    /// MLA: FLOPs per cached key to re-expand a prefix for a prefill chunk (`2·r·h·(nope+v)`
    /// per device); 0 for GQA.
    prefix_expand_flops: f64,
    /// Query and output bytes per prefill token of one device (attention-kernel activations).
    qo_bytes_per_token: f64,
    /// Query heads on one device.
    heads: f64,
    kv_bytes_per_token: f64,
    /// Sparse attention: the indexer's cache bytes and scoring FLOPs per cached key, every
    /// rank scoring every key (0 without an indexer).
    index_bytes_per_token: f64,
    index_flops_per_key: f64,
    /// Linear attention: recurrent state bytes per sequence and update FLOPs per token, per
    /// device (0 for attention layers).
    state_bytes: f64,
    state_flops_per_token: f64,
    /// Dense MLP or shared experts: bytes and FLOPs per token on one device.
    dense_bytes: f64,
    dense_flops_per_token: f64,
    has_shared: bool,
    /// Whether a feed-forward block follows the mixer (a hybrid's lone mixer has none).
    ffn: bool,
    /// Whether the layer has a mixer (a heterogeneous stack's no-op attention has none).
    mixer: bool,
    experts: Option<Experts>,
}

/// Small elementwise kernels per layer: two fused residual+RMSNorm, rotary with the KV-cache
/// write, and the gated activation.
const ELEMENTWISE_KERNELS_DENSE: f64 = 4.0;
/// An MoE layer adds the router's top-k, the permute and the unpermute.
const ELEMENTWISE_KERNELS_MOE: f64 = 3.0;
/// DeepEP dispatches in FP8 with one FP32 scale per 128 elements and combines in BF16
/// (<https://github.com/deepseek-ai/DeepEP>, `docs/legacy.md`).
const DISPATCH_BYTES_PER_ELEMENT: f64 = 1.0 + 4.0 / 128.0;
const COMBINE_BYTES_PER_ELEMENT: f64 = 2.0;

/// Where a deployment's kernel curves came from.
#[derive(Debug, Clone)]
enum CurveSource {
    /// The catalog's compiled-in curves for the hardware id (or none when it has none).
    Builtin,
    /// Given by the caller: none (datasheet fallbacks) or these.
    Given(Option<std::sync::Arc<KernelCurves>>),
}

/// A resolved deployment: everything needed to price steps and check memory.
#[derive(Debug, Clone)]
pub struct Deployment {
    model: ModelSpec,
    hardware: Hardware,
    par: Parallelism,
    prec: Precisions,
    params: CostParams,
    /// Where the kernel curves came from, to rebuild with other parameters.
    curves: CurveSource,
    kinds: Vec<Kind>,
    net: Network,
    /// Measured dispatch and combine rows at this EP degree (latency, bus bandwidth).
    ep_dispatch: Vec<(f64, f64)>,
    ep_combine: Vec<(f64, f64)>,
    rates: Rates,
    peak_flop_per_s: f64,
    hidden: f64,
    act_bytes: f64,
    /// Output head: vocabulary rows per device, weight bytes per element, GEMM rate.
    head_n: f64,
    head_w: f64,
    head_rate: GemmRate,
    /// Weights held by the busiest device.
    weight_bytes_per_device: f64,
    stage_layers: f64,
    pp_crosses_domain: bool,
}

/// GEMM rates by component.
struct GemmRates {
    attention: GemmRate,
    mlp: GemmRate,
    router: GemmRate,
}

/// The dense GEMMs of one layer on one device of a `tp`-way group.
fn layer_gemms(
    g: &servemath_model::LayerGroup,
    d: f64,
    tp: f64,
    w: &WeightPrecisions,
    rates: &GemmRates,
) -> Vec<Gemm> {
    let wa = w.attention.bytes_per_element();
    let wm = w.dense_mlp.bytes_per_element();
    let mut v = Vec::with_capacity(8);
    match g.attention {
        Attention::None => {}
        Attention::Compressed {
            heads,
            head_dim,
            q_lora_rank,
            o_groups,
            o_lora_rank,
            ratio,
            indexer,
            ..
        } => {
            let (h, hd, q) = (heads as f64 / tp, head_dim as f64, q_lora_rank as f64);
            let (g, o) = (o_groups as f64, o_lora_rank as f64);
            // wq_a and wkv replicated; wq_b split by heads; the grouped wo_a (each group's
            // block, groups split over ranks) and wo_b split by rows.
            let mut shapes = vec![
                (q, d),
                (h * hd, q),
                (hd, d),
                (g * o / tp, heads as f64 * hd / g),
                (d, g * o / tp),
            ];
            let coff = |r: u64| if r == 4 { 2.0 } else { 1.0 };
            if ratio > 0 {
                // The compressor's wkv and wgate, replicated.
                shapes.push((2.0 * coff(ratio) * hd, d));
            }
            if let Some(i) = indexer {
                let (ih, ihd) = (i.heads as f64, i.head_dim as f64);
                shapes.push((ih * ihd, q));
                shapes.push((ih, d));
                shapes.push((2.0 * coff(i.stride) * ihd, d));
            }
            for (n, k) in shapes {
                v.push(Gemm {
                    n,
                    k,
                    w: wa,
                    rate: rates.attention,
                });
            }
        }
        Attention::Mamba2 {
            heads,
            head_dim,
            state_size,
            groups,
            ..
        } => {
            // in_proj (z, x, B, C, dt) split by heads (B and C replicated per group), out_proj.
            let inner = (heads * head_dim) as f64 / tp;
            let bc = 2.0 * (groups * state_size) as f64;
            for (n, k) in [(2.0 * inner + bc + heads as f64 / tp, d), (d, inner)] {
                v.push(Gemm {
                    n,
                    k,
                    w: wa,
                    rate: rates.attention,
                });
            }
        }
        Attention::Linear {
            key_heads,
            value_heads,
            key_head_dim,
            value_head_dim,
            ..
        } => {
            // Gated DeltaNet: in_proj_qkvz and in_proj_ba split by heads, out_proj by rows.
            let key = key_heads as f64 * key_head_dim as f64 / tp;
            let value = value_heads as f64 * value_head_dim as f64 / tp;
            for (n, k) in [
                (2.0 * key + 2.0 * value, d),
                (2.0 * value_heads as f64 / tp, d),
                (d, value),
            ] {
                v.push(Gemm {
                    n,
                    k,
                    w: wa,
                    rate: rates.attention,
                });
            }
        }
        Attention::Gqa {
            heads,
            kv_heads,
            head_dim,
            output_gate,
            ..
        } => {
            let hd = head_dim as f64;
            let h = heads as f64 / tp;
            // KV heads are split over TP ranks, or copied when there are fewer than ranks.
            let hk = (kv_heads as f64 / tp).max(1.0);
            // An output gate doubles the query projection.
            let q = if output_gate { 2.0 * h } else { h };
            v.push(Gemm {
                n: (q + 2.0 * hk) * hd,
                k: d,
                w: wa,
                rate: rates.attention,
            });
            v.push(Gemm {
                n: d,
                k: h * hd,
                w: wa,
                rate: rates.attention,
            });
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
            // DeepSeek Sparse Attention's indexer projections, replicated on every rank.
            if let Some(i) = indexer {
                let (ih, ihd) = (i.heads as f64, i.head_dim as f64);
                let q_in = q_lora_rank.map_or(d, |q| q as f64);
                for (n, k) in [(ih * ihd, q_in), (ihd, d), (ih, d)] {
                    v.push(Gemm {
                        n,
                        k,
                        w: wa,
                        rate: rates.attention,
                    });
                }
            }
            let h = heads as f64 / tp;
            let (r, nope, rope, vd) = (
                kv_lora_rank as f64,
                qk_nope_head_dim as f64,
                qk_rope_head_dim as f64,
                v_head_dim as f64,
            );
            // The down-projections (q_a, kv_a) are replicated on every TP rank (SGLang,
            // TensorRT-LLM); the up-projections and the output are split by heads.
            match q_lora_rank {
                Some(q) => {
                    let q = q as f64;
                    v.push(Gemm {
                        n: q,
                        k: d,
                        w: wa,
                        rate: rates.attention,
                    });
                    v.push(Gemm {
                        n: h * (nope + rope),
                        k: q,
                        w: wa,
                        rate: rates.attention,
                    });
                }
                None => v.push(Gemm {
                    n: h * (nope + rope),
                    k: d,
                    w: wa,
                    rate: rates.attention,
                }),
            }
            v.push(Gemm {
                n: r + rope,
                k: d,
                w: wa,
                rate: rates.attention,
            });
            v.push(Gemm {
                n: h * (nope + vd),
                k: r,
                w: wa,
                rate: rates.attention,
            });
            v.push(Gemm {
                n: d,
                k: h * vd,
                w: wa,
                rate: rates.attention,
            });
        }
    }
    let ffn = |ff: f64, gated: bool, v: &mut Vec<Gemm>| {
        let ff = ff / tp;
        v.push(Gemm {
            n: if gated { 2.0 * ff } else { ff },
            k: d,
            w: wm,
            rate: rates.mlp,
        });
        v.push(Gemm {
            n: d,
            k: ff,
            w: wm,
            rate: rates.mlp,
        });
    };
    match g.mlp {
        Mlp::None => {}
        Mlp::Dense {
            intermediate,
            gated,
            ..
        } => ffn(intermediate as f64, gated, &mut v),
        Mlp::Moe {
            experts,
            shared_intermediate,
            gated,
            latent,
            ..
        } => {
            if shared_intermediate > 0 {
                ffn(shared_intermediate as f64, gated, &mut v);
            }
            if latent > 0 {
                // LatentMoE: into the experts' width before dispatch, back out after combine;
                // replicated like the router, every token passes both.
                for (n, k) in [(latent as f64, d), (d, latent as f64)] {
                    v.push(Gemm {
                        n,
                        k,
                        w: wm,
                        rate: rates.mlp,
                    });
                }
            }
            // The router, replicated, in BF16.
            v.push(Gemm {
                n: experts as f64,
                k: d,
                w: 2.0,
                rate: rates.router,
            });
        }
    }
    v
}

/// Expected busiest expert-parallel rank's (token, expert) pairs over the mean, for `tokens`
/// tokens each picking `k` distinct experts of `e` spread evenly over `ep` ranks, under uniform
/// routing: the mean `mu = T·k/ep` plus `sqrt(2 ln ep)` standard deviations of one rank's
/// load (a token's picks on one rank are hypergeometric: variance
/// `k·(1/ep)(1−1/ep)(e−k)/(e−1)`), the usual Gaussian estimate of the maximum of `ep` loads.
pub fn expert_rank_imbalance(tokens: f64, k: f64, e: f64, ep: f64) -> f64 {
    if ep <= 1.0 || tokens <= 0.0 {
        return 1.0;
    }
    let mu = tokens * k / ep;
    let var_one = k * (1.0 / ep) * (1.0 - 1.0 / ep) * ((e - k) / (e - 1.0)).max(0.0);
    let sigma = (tokens * var_one).sqrt();
    // Never more than every pick of every token on one rank.
    (1.0 + sigma * (2.0 * ep.ln()).sqrt() / mu).min(ep.min(e / k.max(1.0)).max(1.0))
}

impl Deployment {
    /// The model served.
    pub fn model(&self) -> &ModelSpec {
        &self.model
    }

    /// The catalog entry of the accelerator, as given (overlays applied).
    pub fn hardware(&self) -> &Hardware {
        &self.hardware
    }

    /// The parallel layout of one replica, validated against the model.
    pub fn parallelism(&self) -> Parallelism {
        self.par
    }

    /// Number formats of weights, KV cache, matmuls, activations and attention.
    pub fn precisions(&self) -> Precisions {
        self.prec
    }

    /// The cost parameters, validated. The fields are private so that nothing can change a
    /// parameter without the constants resolved from it (kernel rates, network): build a new
    /// deployment instead.
    pub fn params(&self) -> CostParams {
        self.params
    }

    /// Resolves `model` on `hardware` with layout `par`, precisions `prec` and parameters
    /// `params`, using the compiled-in kernel curves of the hardware's catalog id (datasheet
    /// peaks times the calibrated fallback efficiencies where it has none).
    ///
    /// Fails when the layout does not divide the model ([`DeployError::Layout`]), the hardware
    /// has no peak at `prec.compute` or no scale-out bandwidth for a replica spanning domains
    /// ([`DeployError::Hardware`]), or a parameter is out of range ([`DeployError::Params`]).
    pub fn new(
        model: &ModelSpec,
        hardware: &Hardware,
        par: Parallelism,
        prec: Precisions,
        params: CostParams,
    ) -> Result<Deployment, DeployError> {
        let curves = servemath_hardware::kernels::builtin_curves(&hardware.id);
        Deployment::build(
            model,
            hardware,
            curves,
            CurveSource::Builtin,
            par,
            prec,
            params,
        )
    }

    /// As [`Deployment::new`] with the kernel curves given (`None`: datasheet fallbacks).
    pub fn with_curves(
        model: &ModelSpec,
        hardware: &Hardware,
        curves: Option<&KernelCurves>,
        par: Parallelism,
        prec: Precisions,
        params: CostParams,
    ) -> Result<Deployment, DeployError> {
        let source = CurveSource::Given(curves.map(|c| std::sync::Arc::new(c.clone())));
        Deployment::build(model, hardware, curves, source, par, prec, params)
    }

    /// This deployment with other cost parameters: everything resolved from them (kernel
    /// rates, network) is resolved again, as [`Deployment::new`] would.
    ///
    /// # Errors
    /// A parameter out of its range.
    pub fn with_params(&self, params: CostParams) -> Result<Deployment, DeployError> {
        let curves = match &self.curves {
            CurveSource::Builtin => servemath_hardware::kernels::builtin_curves(&self.hardware.id),
            CurveSource::Given(c) => c.as_deref(),
        };
        Deployment::build(
            &self.model,
            &self.hardware,
            curves,
            self.curves.clone(),
            self.par,
            self.prec,
            params,
        )
    }

    fn build(
        model: &ModelSpec,
        hardware: &Hardware,
        curves: Option<&KernelCurves>,
        source: CurveSource,
        par: Parallelism,
        prec: Precisions,
        params: CostParams,
    ) -> Result<Deployment, DeployError> {
        layout::validate(model, &par)?;
        params.validate("cost parameters")?;
        let peak_flop_per_s = hardware.peak_flop_per_s(prec.compute)?;
        let attention_peak = hardware
            .peak_flop_per_s(prec.attention)
            .or_else(|_| hardware.peak_flop_per_s(MathPrecision::Bf16))?;
        let replica = par.gpus();
        let out_bytes_per_s = if hardware.scale_up_domain < replica {
            hardware.scale_out()?
        } else {
            hardware.scale_out_bytes_per_s.unwrap_or(f64::INFINITY)
        };
        let eff = params.comm_efficiency;
        let inputs = kernels::RateInputs {
            hardware,
            curves,
            params: &params,
            compute: prec.compute,
            gemm_weights: prec.weights.dense_mlp,
            expert_weights: prec.weights.experts,
            kv: prec.kv,
            attention_math: prec.attention,
            mla: model
                .groups
                .iter()
                .any(|g| matches!(g.attention, Attention::Mla { .. })),
            peak: peak_flop_per_s,
            attention_peak,
        };
        let mut rates = kernels::resolve(&inputs);
        // Each component's GEMMs at its own weight format's rate.
        let mut component = |class: &'static str, w: Precision| -> GemmRate {
            let math = kernels::component_math(prec.compute, w);
            let peak = hardware.peak_flop_per_s(math).unwrap_or(peak_flop_per_s);
            let (rate, mut src) = kernels::gemm_rate(&inputs, math, w, peak);
            if rate != rates.gemm {
                src.class = class;
                rates.sources.push(src);
            }
            rate
        };
        let gemm_rates = GemmRates {
            attention: component("attention_gemm", prec.weights.attention),
            mlp: rates.gemm,
            router: component("router_gemm", Precision::Bf16),
        };
        let head_rate = component("head_gemm", prec.weights.embeddings);
        let net = Network {
            domain: hardware.scale_up_domain,
            up_bytes_per_s: hardware.scale_up_bytes_per_s * eff,
            up_latency_s: hardware.scale_up_latency_s,
            out_bytes_per_s: out_bytes_per_s * eff,
            out_latency_s: hardware.scale_out_latency_s,
            all_reduce_latency_s: params.allreduce_latency_s,
            all_to_all_latency_s: params.all_to_all_latency_s,
            all_reduce_table: rates.all_reduce.clone(),
            all_to_all_table: curves.map(|c| c.all_to_all.clone()).unwrap_or_default(),
        };

        let d = model.hidden_size as f64;
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
                let gemms = layer_gemms(g, d, tp, &w, &gemm_rates);
                let attn_gemm_count = match g.attention {
                    Attention::None => 0,
                    Attention::Compressed { ratio, indexer, .. } => {
                        5 + usize::from(ratio > 0) + 3 * usize::from(indexer.is_some())
                    }
                    Attention::Gqa { .. } | Attention::Mamba2 { .. } => 2,
                    Attention::Linear { .. } => 3,
                    Attention::Mla {
                        q_lora_rank,
                        indexer,
                        ..
                    } => {
                        4 + usize::from(q_lora_rank.is_some()) + 3 * usize::from(indexer.is_some())
                    }
                };
                let attn_weight_bytes: f64 = gemms[..attn_gemm_count]
                    .iter()
                    .map(|x| x.n * x.k * x.w)
                    .sum();
                // The layer's two norm vectors (and any biases, sinks, q/k norms) are read
                // with the attention weights.
                let attn_params = g.attention.params(model.hidden_size) as f64;
                let proj_params: f64 = gemms[..attn_gemm_count]
                    .iter()
                    .map(|x| x.n * x.k)
                    .sum::<f64>();
                let small = (attn_params / tp - proj_params).max(0.0) + 2.0 * d;
                let kv_shard = match g.attention {
                    Attention::Gqa { kv_heads, .. } => (kv_heads as f64).min(tp),
                    // The MLA latent is shared by all heads, so TP ranks each hold all of it.
                    Attention::Mla { .. } => 1.0,
                    // No KV cache; the recurrent state splits by (value) heads.
                    Attention::Linear { value_heads, .. } => (value_heads as f64).min(tp),
                    Attention::Mamba2 { heads, .. } => (heads as f64).min(tp),
                    // One KV head (MQA): every rank holds the whole entry.
                    Attention::None | Attention::Compressed { .. } => 1.0,
                };
                let (prefix_expand_flops, qo_bytes_per_token) = match g.attention {
                    Attention::Mla {
                        heads,
                        kv_lora_rank,
                        qk_nope_head_dim,
                        qk_rope_head_dim,
                        v_head_dim,
                        ..
                    } => (
                        2.0 * kv_lora_rank as f64
                            * heads as f64
                            * (qk_nope_head_dim + v_head_dim) as f64
                            / tp,
                        heads as f64 / tp
                            * (qk_nope_head_dim + qk_rope_head_dim + v_head_dim) as f64
                            * 2.0,
                    ),
                    Attention::Gqa {
                        heads, head_dim, ..
                    } => (0.0, 2.0 * heads as f64 / tp * head_dim as f64 * 2.0),
                    Attention::None => (0.0, 0.0),
                    Attention::Compressed {
                        heads, head_dim, ..
                    } => (0.0, 2.0 * heads as f64 / tp * head_dim as f64 * 2.0),
                    // x, B, C in and the output out, per token.
                    Attention::Mamba2 {
                        heads,
                        head_dim,
                        state_size,
                        groups,
                        ..
                    } => (
                        0.0,
                        (2 * heads * head_dim + 2 * groups * state_size) as f64 / tp * 2.0,
                    ),
                    // q, k, v in and the output out, per token.
                    Attention::Linear {
                        key_heads,
                        value_heads,
                        key_head_dim,
                        value_head_dim,
                        ..
                    } => (
                        0.0,
                        (2 * key_heads * key_head_dim + 2 * value_heads * value_head_dim) as f64
                            / tp
                            * 2.0,
                    ),
                };
                let mlp = g.mlp.params(model.hidden_size);
                let dense_gemm_bytes: f64 = gemms[attn_gemm_count..]
                    .iter()
                    .map(|x| x.n * x.k * x.w)
                    .sum();
                let dense_params: f64 = gemms[attn_gemm_count..].iter().map(|x| x.n * x.k).sum();
                let experts = match g.mlp {
                    Mlp::Moe { experts, top_k, .. } => {
                        let per_expert = mlp.routed as f64 / experts as f64;
                        Some(Experts {
                            per_device: (experts + u64::from(par.redundant_experts)) as f64 / ep,
                            total: experts as f64,
                            pick: top_k as f64 / experts as f64,
                            top_k: top_k as f64,
                            bytes_each: per_expert * w.experts.bytes_per_element() / moe_tp,
                            flops_per_pair: 2.0 * per_expert / moe_tp,
                            ffn_per_device: match g.mlp {
                                Mlp::Moe {
                                    expert_intermediate,
                                    ..
                                } => expert_intermediate as f64 / moe_tp,
                                Mlp::Dense { .. } | Mlp::None => 0.0,
                            },
                            width: match g.mlp {
                                Mlp::Moe { latent, .. } if latent > 0 => latent as f64,
                                _ => d,
                            },
                        })
                    }
                    Mlp::Dense { .. } | Mlp::None => None,
                };
                Kind {
                    layers: g.count as f64 * stage_frac,
                    span: g.attention.span(),
                    gemms,
                    attn_bytes: attn_weight_bytes + small * w.attention.bytes_per_element(),
                    small_bytes: small * w.attention.bytes_per_element(),
                    pair_flops_decode: g.attention.flops_per_attended_pair(true) / tp,
                    pair_flops_prefill: g.attention.flops_per_attended_pair(false) / tp,
                    prefix_expand_flops,
                    qo_bytes_per_token,
                    heads: g.attention.heads() as f64 / tp,
                    kv_bytes_per_token: g.attention.kv_elements_per_token() as f64
                        * prec.kv.bytes_per_element()
                        / kv_shard,
                    index_bytes_per_token: g.attention.indexer_bytes_per_token(),
                    state_bytes: g.attention.state_bytes_per_sequence() / kv_shard,
                    state_flops_per_token: g.attention.recurrent_flops_per_token() / kv_shard,
                    index_flops_per_key: g.attention.indexer().map_or(0.0, |i| i.flops_per_key()),
                    dense_bytes: dense_gemm_bytes,
                    dense_flops_per_token: 2.0 * dense_params,
                    has_shared: mlp.shared > 0,
                    ffn: g.mlp != Mlp::None,
                    mixer: g.attention != Attention::None,
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
        // Memory: the first stage holds the embedding, the last the head; one stage holds both when pp = 1.
        let table_bytes = if par.pp == 1 {
            (p.embedding + p.lm_head) as f64 * emb_b / tp
        } else {
            (p.embedding.max(p.lm_head)) as f64 * emb_b / tp
        };
        // A multimodal model's vision tower is loaded too (BF16, split over the TP group, on
        // the first stage), though a text step does not run it.
        let table_bytes = table_bytes + model.vision_params as f64 * 2.0 / tp;
        let layer_weights: f64 = kinds
            .iter()
            .map(|k| {
                k.layers
                    * (k.attn_bytes
                        + k.dense_bytes
                        + k.experts.map_or(0.0, |e| e.per_device * e.bytes_each))
            })
            .sum();

        let ep_dispatch = net.ep_rows(par.ep, Phase::Dispatch);
        let ep_combine = net.ep_rows(par.ep, Phase::Combine);
        Ok(Deployment {
            model: model.clone(),
            hardware: hardware.clone(),
            par,
            prec,
            params,
            curves: source,
            kinds,
            net,
            ep_dispatch,
            ep_combine,
            rates,
            peak_flop_per_s,
            hidden: d,
            act_bytes: prec.activations.bytes_per_element(),
            head_n: head_params / d / tp,
            head_w: emb_b,
            head_rate,
            weight_bytes_per_device: layer_weights + table_bytes,
            stage_layers,
            pp_crosses_domain: par.gpus() > hardware.scale_up_domain,
        })
    }

    /// Where each kernel class's efficiency came from, and how trustworthy it is.
    pub fn rate_sources(&self) -> (Confidence, &[RateSource]) {
        (self.rates.confidence, &self.rates.sources)
    }

    /// The dense GEMMs' effective FLOP/s (peak × efficiency at full waves).
    pub fn gemm_flop_per_s(&self) -> f64 {
        self.rates.gemm.flop_per_s
    }

    /// The dense GEMMs' effective HBM bandwidth (the weight-streaming rate of decode).
    pub fn gemm_bytes_per_s(&self) -> f64 {
        self.rates.gemm.bytes_per_s
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
            .map(|k| {
                k.layers
                    * (k.kv_bytes_per_token * k.span.kv_tokens(ctx as u64) as f64
                        + k.index_bytes_per_token * ctx
                        + k.state_bytes)
            })
            .sum()
    }

    /// Recurrent state (linear attention, Mamba) one device holds for one sequence, whatever its
    /// context; 0 for attention-only models. Included in [`Deployment::kv_bytes_per_seq_per_device`].
    pub fn state_bytes_per_seq_per_device(&self) -> f64 {
        self.kinds.iter().map(|k| k.layers * k.state_bytes).sum()
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

    /// Prices one step of the replica, kernel class by kernel class.
    ///
    /// The step's load is split into `pp` equal micro-batches. On each stage every kernel is
    /// bound by its own roofline, `launch + max(compute, memory)`, and the classes add up:
    /// dense GEMMs (with wave quantization), grouped expert GEMMs (efficiency ramping with
    /// tokens per expert, on the busiest expert rank), decode and prefill attention at the
    /// attention kernels' own precision and efficiency, elementwise kernels, and exposed
    /// communication. Attention-DP ranks wait for the busiest one: prefill chunks are whole
    /// sequences and land on single ranks. The GPU time is `pp` stages plus `pp − 1`
    /// hand-offs; the host's per-sequence work overlaps it when the engine overlaps
    /// (`host_overlap = 1`) and adds to it otherwise; the fixed step cost comes on top.
    pub fn step(&self, load: &StepLoad) -> StepCost {
        let pp = f64::from(self.par.pp);
        // Micro-batches per step: the pipeline's, times two under two-batch overlap.
        let tbo = self.par.two_batch_overlap;
        let mb = pp * if tbo { 2.0 } else { 1.0 };
        let m = if mb > 1.0 {
            load.scaled(1.0 / mb)
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
        let r = &self.rates;

        // The busiest attention-DP rank: decode sequences spread evenly; prefill chunks are
        // whole, so a rank with one holds all its tokens (TRT-LLM: "the iteration time is
        // dominated by the slowest rank").
        let dec = m.decode_seqs / dpa;
        let dec_ctx = if m.decode_seqs > 0.0 {
            m.decode_context_sum / m.decode_seqs
        } else {
            0.0
        };
        let (pf_chunk, pf_prefix) = if m.prefill_seqs > 0.0 {
            (
                m.prefill_tokens / m.prefill_seqs,
                m.prefill_prefix_sum / m.prefill_seqs,
            )
        } else {
            (0.0, 0.0)
        };
        let pf_seqs = if m.prefill_seqs > 0.0 {
            (m.prefill_seqs / dpa).max(m.prefill_seqs.min(1.0))
        } else {
            0.0
        };
        let pf_tokens = pf_seqs * pf_chunk;
        let rank_tokens = dec + pf_tokens;
        let tokens = m.tokens();
        // Mean keys a prefill token attends to: its prefix plus, causally, half the chunk.
        let pf_attended_full = pf_prefix + (pf_chunk + 1.0) / 2.0;

        let mut k_times = KernelTimes::default();
        let mut flops = 0.0;
        let mut bytes = ByteTraffic::default();
        let mut comm = 0.0;
        let mut comm_bytes = 0.0;
        // Decode attention is one kernel class over all layers: sums, priced once (so a run
        // of decode steps is a line; see `DecodeLine`).
        let (mut dec_flops, mut dec_bytes, mut dec_launch) = (0.0, 0.0, 0.0);
        let (mut pf_flops, mut pf_bytes, mut pf_launch) = (0.0, 0.0, 0.0);
        let mut elem_kernels = 0.0;
        let layer_ar = self.net.all_reduce(tp, rank_tokens * d * ab);
        let layer_ar_bytes = if tp > 1 {
            2.0 * (f64::from(tp) - 1.0) / f64::from(tp) * rank_tokens * d * ab
        } else {
            0.0
        };
        for k in &self.kinds {
            let layers = k.layers;
            // Dense GEMMs, each on its own roofline.
            if rank_tokens > 0.0 {
                for x in &k.gemms {
                    let (c, mem) = x.rate.price(rank_tokens, x.n, x.k, x.w);
                    k_times.gemm.add(layers, c, mem, x.rate.launch_s);
                    flops += layers * 2.0 * rank_tokens * x.n * x.k;
                    bytes.weights += layers * x.n * x.k * x.w;
                }
            }
            // Attention.
            let attended_dec = k.span.attended(dec_ctx);
            if dec > 0.0 {
                let pairs = dec * attended_dec;
                // The indexer scores every cached key, the attention reads the top-k.
                let scored = dec * (dec_ctx + 1.0);
                dec_flops +=
                    layers * (pairs * k.pair_flops_decode + scored * k.index_flops_per_key);
                dec_bytes +=
                    layers * (pairs * k.kv_bytes_per_token + scored * k.index_bytes_per_token);
                // A recurrent layer reads and writes each sequence's state once per token.
                dec_flops += layers * dec * k.state_flops_per_token;
                dec_bytes += layers * dec * 2.0 * k.state_bytes;
                bytes.kv_read += layers * dec * k.state_bytes;
                bytes.kv_write += layers * dec * k.state_bytes;
                let a = &r.decode_attention;
                dec_launch +=
                    layers * (a.launch_s + dec * (a.per_seq_s + k.heads * a.per_seq_head_s));
                bytes.kv_read += layers * pairs * k.kv_bytes_per_token;
            }
            if pf_seqs > 0.0 {
                let attended_pf = match k.span {
                    AttentionSpan::Full => pf_attended_full,
                    AttentionSpan::Sliding { window }
                    | AttentionSpan::Chunked { chunk: window }
                    | AttentionSpan::Sparse { top_k: window } => {
                        pf_attended_full.min(window as f64)
                    }
                    AttentionSpan::Recurrent => 0.0,
                    AttentionSpan::Compressed { .. } => k.span.attended(pf_attended_full - 1.0),
                };
                let pf_kv_tokens = k.span.attended(pf_prefix + pf_chunk - 1.0);
                let f = pf_tokens * attended_pf * k.pair_flops_prefill
                    + pf_seqs * pf_prefix.min(pf_kv_tokens) * k.prefix_expand_flops;
                let kv = pf_seqs * pf_kv_tokens * k.kv_bytes_per_token;
                // The indexer scores every earlier key of the chunk's queries.
                let index_f = pf_tokens * pf_attended_full * k.index_flops_per_key;
                let index_b = pf_seqs * (pf_prefix + pf_chunk) * k.index_bytes_per_token;
                // A chunked scan: the recurrent update for every token, the state read and
                // written once per sequence.
                let state_f = pf_tokens * k.state_flops_per_token;
                let state_b = pf_seqs * 2.0 * k.state_bytes;
                pf_flops += layers * (f + index_f + state_f);
                pf_bytes += layers * (kv + index_b + state_b + pf_tokens * k.qo_bytes_per_token);
                pf_launch += layers * r.prefill_attention.launch_s;
                bytes.kv_read += layers * kv;
            }
            bytes.kv_write +=
                layers * (k.kv_bytes_per_token + k.index_bytes_per_token) * rank_tokens;
            if rank_tokens > 0.0 {
                bytes.weights += layers * k.small_bytes;
            }
            // Attention output all-reduce (none without a mixer); then the MLP's own exchange.
            let (mut c, mut cb) = if k.mixer {
                (layer_ar, layer_ar_bytes)
            } else {
                (0.0, 0.0)
            };
            let mut elem_io = rank_tokens * d * ab * p.activation_io_per_layer;
            elem_kernels += layers * ELEMENTWISE_KERNELS_DENSE;
            match k.experts {
                None if !k.ffn => {}
                None => {
                    c += layer_ar;
                    cb += layer_ar_bytes;
                }
                Some(e) if tokens > 0.0 => {
                    elem_kernels += layers * ELEMENTWISE_KERNELS_MOE;
                    let epf = f64::from(ep);
                    // EPLB's redundant experts balance the routing skew away; the statistical
                    // spread of a finite batch remains.
                    let routing = if self.par.redundant_experts > 0 {
                        1.0
                    } else {
                        p.moe_load_imbalance
                    };
                    let skew = expert_rank_imbalance(tokens, e.top_k, e.total, epf) * routing;
                    let pairs = tokens * e.top_k / epf * skew;
                    let touched = e.per_device * (1.0 - (1.0 - e.pick).powf(tokens));
                    let tpe = pairs / e.per_device;
                    let ef = pairs * e.flops_per_pair;
                    let eb = touched * e.bytes_each;
                    k_times.experts.add(
                        layers,
                        ef / r.experts.flop_per_s(tpe, e.ffn_per_device),
                        eb / r.experts.bytes_per_s,
                        r.experts.launch_s,
                    );
                    flops += layers * ef;
                    bytes.weights += layers * eb;
                    // Permute into expert order and back: each pair's input row and output row.
                    // Rows are `e.width` wide: the hidden size, or LatentMoE's latent.
                    let w = e.width;
                    elem_io += pairs * 2.0 * w * 2.0;
                    if ep == 1 {
                        let size = tokens * w * ab;
                        c += self.net.all_reduce(g, size);
                        cb += 2.0 * (f64::from(g) - 1.0) / f64::from(g) * size;
                    } else {
                        // Dispatch (FP8) and combine (BF16): each device sends each of its
                        // tokens once to every distinct rank holding one of its experts, and
                        // the busiest rank receives `skew` times the mean.
                        let local = tokens / f64::from(g);
                        let distinct = epf * (1.0 - (1.0 - 1.0 / epf).powf(e.top_k));
                        let rows = local * distinct * skew.min(epf);
                        let dispatch = rows * w * DISPATCH_BYTES_PER_ELEMENT;
                        let combine = rows * w * COMBINE_BYTES_PER_ELEMENT;
                        // A measured kernel where one exists (its size convention counts every
                        // pick in BF16; the busiest rank's share scales it), else the model.
                        let measured = |rows: &[(f64, f64)]| {
                            Network::ep_exchange_with(rows, ep, local * skew.min(epf), e.top_k, w)
                        };
                        c += measured(&self.ep_dispatch)
                            .unwrap_or_else(|| self.net.all_to_all(ep, dispatch))
                            + measured(&self.ep_combine)
                                .unwrap_or_else(|| self.net.all_to_all(ep, combine));
                        let frac = (epf - 1.0) / epf;
                        cb += (dispatch + combine) * frac;
                        c += self.net.all_reduce(moe_tp, pairs * w * ab);
                        if k.has_shared {
                            c += layer_ar;
                            cb += layer_ar_bytes;
                        }
                    }
                }
                Some(_) => {}
            }
            bytes.activations += layers * elem_io;
            comm += layers * c;
            comm_bytes += layers * cb;
        }
        if dec > 0.0 {
            let c = dec_flops / r.decode_attention.flop_per_s;
            let mem = dec_bytes / r.decode_attention.bytes_per_s;
            k_times.decode_attention.add(1.0, c, mem, dec_launch);
            flops += dec_flops;
        }
        if pf_seqs > 0.0 {
            let c = pf_flops / r.prefill_attention.flop_per_s_at(pf_attended_full);
            let mem = pf_bytes / r.prefill_attention.bytes_per_s;
            k_times.prefill_attention.add(1.0, c, mem, pf_launch);
            flops += pf_flops;
        }
        // Output head over the rows that need logits on the busiest rank.
        let logit_rows = dec + pf_seqs;
        if logit_rows > 0.0 {
            let (c, mem) = self
                .head_rate
                .price(logit_rows, self.head_n, d, self.head_w);
            k_times.gemm.add(1.0, c, mem, self.head_rate.launch_s);
            flops += 2.0 * logit_rows * self.head_n * d;
            // The final norm is read with the head.
            bytes.weights +=
                self.head_n * d * self.head_w + d * self.prec.weights.attention.bytes_per_element();
        }
        // Elementwise kernels: activation traffic, embedding rows gathered, KV written.
        let embed = rank_tokens * d * self.prec.weights.embeddings.bytes_per_element();
        bytes.activations += embed;
        let small: f64 = if rank_tokens > 0.0 {
            self.kinds
                .iter()
                .map(|k| k.layers * k.small_bytes)
                .sum::<f64>()
                + d * self.prec.weights.attention.bytes_per_element()
        } else {
            0.0
        };
        let elem_bytes = bytes.activations + bytes.kv_write + small;
        let elem_rate = self.hardware.hbm_bytes_per_s * p.memory_efficiency;
        if rank_tokens > 0.0 {
            k_times.elementwise.add(
                1.0,
                0.0,
                elem_bytes / elem_rate,
                elem_kernels * p.elementwise_kernel_s,
            );
        }
        // Under two-batch overlap one micro-batch's communication runs under the other's
        // GEMMs, expert GEMMs and elementwise kernels (not its attention, so that a run of
        // decode steps stays a line).
        let exposed_comm = if tbo {
            let cover = k_times.gemm.time_s + k_times.experts.time_s + k_times.elementwise.time_s;
            (comm * (1.0 - p.comm_overlap) - cover).max(0.0)
        } else {
            comm * (1.0 - p.comm_overlap)
        };
        let layer_overhead = self.stage_layers * p.layer_overhead_s;
        let handoff = if self.par.pp > 1 {
            // Each micro-batch crosses the pp − 1 stage boundaries.
            (pp - 1.0) * (mb / pp) * self.net.p2p(rank_tokens * d * ab, self.pp_crosses_domain)
        } else {
            0.0
        };
        k_times.communication = ClassTime {
            time_s: exposed_comm,
            compute_s: 0.0,
            memory_s: 0.0,
            launch_s: exposed_comm,
        };
        let stage_s = k_times.gemm.time_s
            + k_times.experts.time_s
            + k_times.decode_attention.time_s
            + k_times.prefill_attention.time_s
            + k_times.elementwise.time_s
            + exposed_comm
            + layer_overhead;
        let gpu_s = mb * stage_s + handoff;
        // Each attention-DP rank schedules and samples its own sequences, in parallel.
        let host_s = p.seq_overhead_s * load.logit_rows() / dpa;
        let busy_s = if p.host_overlap >= 1.0 {
            gpu_s.max(host_s)
        } else {
            gpu_s + host_s
        };
        let time_s = busy_s + p.step_overhead_s;
        let overhead_s = time_s - gpu_s + mb * layer_overhead;

        let mut kernels = KernelTimes {
            gemm: k_times.gemm.scaled(mb),
            experts: k_times.experts.scaled(mb),
            decode_attention: k_times.decode_attention.scaled(mb),
            prefill_attention: k_times.prefill_attention.scaled(mb),
            elementwise: k_times.elementwise.scaled(mb),
            communication: k_times.communication.scaled(mb),
            overhead: ClassTime {
                time_s: overhead_s,
                compute_s: 0.0,
                memory_s: 0.0,
                launch_s: overhead_s,
            },
        };
        kernels.communication.time_s += handoff;
        kernels.communication.launch_s += handoff;
        let attention = kernels.decode_attention.time_s + kernels.prefill_attention.time_s;
        let parts = [
            (kernels.gemm.time_s, Bound::Gemm),
            (kernels.experts.time_s, Bound::Experts),
            (attention, Bound::Attention),
            (kernels.elementwise.time_s, Bound::Elementwise),
            (kernels.communication.time_s, Bound::Communication),
            (kernels.overhead.time_s, Bound::Overhead),
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
        let scale = |x: f64| x * mb;
        let total_bytes = ByteTraffic {
            weights: scale(bytes.weights),
            kv_read: scale(bytes.kv_read),
            kv_write: scale(bytes.kv_write),
            activations: scale(bytes.activations),
        };
        let named = kernels.named();
        StepCost {
            time_s,
            compute_s: named.iter().map(|(_, c)| c.compute_s).sum(),
            memory_s: named.iter().map(|(_, c)| c.memory_s).sum(),
            comm_s: kernels.communication.time_s,
            overhead_s,
            gpu_s,
            host_s,
            kernels,
            flops: scale(flops),
            bytes: total_bytes,
            comm_bytes: scale(comm_bytes),
            bound,
            mfu: scale(flops) / (time_s * self.peak_flop_per_s),
            mbu: total_bytes.total() / (time_s * self.hardware.hbm_bytes_per_s),
        }
    }
}
