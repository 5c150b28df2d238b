//! The design space: hardware options (a catalog entry at a scale-up size, with its cost
//! parameters and cost inputs), the precision menu each one supports, and the parallel layouts
//! that divide a model.

use crate::error::SearchError;
use servemath_cost::{CostParams, Parallelism, Precisions};
use servemath_econ::CostInputs;
use servemath_hardware::Hardware;
use servemath_model::{MathPrecision, ModelSpec, Precision};
use servemath_sim::Slo;

/// Prompt tokens a chunked-prefill step carries beside its decodes when the batch does not
/// need more (vLLM's default `max_num_batched_tokens` with chunked prefill).
pub const CHUNK_TOKENS: f64 = 2048.0;
/// Disaggregated units are `xPyD` with `x`, `y` in `1..=RATIOS_MAX` and no common factor.
pub const RATIOS_MAX: u32 = 8;
/// Pipeline depths up to this are tried one by one; beyond it, powers of two.
const PP_DENSE_UP_TO: u32 = 8;
/// The largest batch tried (sequences per replica).
pub(crate) const MAX_BATCH: u32 = 1 << 16;

/// One machine to search on: a catalog entry (its scale-up domain possibly overridden), the
/// cost parameters of its family, and its cost inputs for dollar figures.
#[derive(Debug, Clone)]
pub struct HardwareOption {
    /// `h100-sxm`, or `h100-sxm@72` when the scale-up domain was set to 72.
    pub label: String,
    /// The catalog entry, with `scale_up_domain` already set to the size searched.
    pub hardware: Hardware,
    /// The cost model's efficiencies and overheads for the machine's family.
    pub params: CostParams,
    /// `None`: no dollar figures for this machine (no public price and no override).
    pub cost: Option<CostInputs>,
    /// Dollars per held GPU-hour at full utilization, from `cost`; `None` without cost
    /// inputs or when they lack a figure the cost mode needs.
    pub usd_per_gpu_hour: Option<f64>,
}

impl HardwareOption {
    /// `hardware` with its scale-up domain set to `scale_up` (when given), its `params`, and
    /// the GPU-hour price the cost inputs imply (none when the inputs lack a figure).
    pub fn new(
        mut hardware: Hardware,
        scale_up: Option<u32>,
        params: CostParams,
        cost: Option<CostInputs>,
    ) -> HardwareOption {
        let label = match scale_up {
            Some(s) if s != hardware.scale_up_domain => format!("{}@{s}", hardware.id),
            _ => hardware.id.clone(),
        };
        if let Some(s) = scale_up {
            hardware.scale_up_domain = s;
        }
        let usd_per_gpu_hour = cost.as_ref().and_then(|c| usd_per_gpu_hour(c, 1.0));
        HardwareOption {
            label,
            hardware,
            params,
            cost,
            usd_per_gpu_hour,
        }
    }

    /// Dollars per held GPU-hour at `utilization` (power draw follows it when owned), the
    /// utilization clamped to \[0.001, 1\]; `None` as for [`HardwareOption::usd_per_gpu_hour`].
    pub fn usd_per_gpu_hour_at(&self, utilization: f64) -> Option<f64> {
        self.cost.as_ref().and_then(|c| {
            usd_per_gpu_hour(c, utilization.clamp(servemath_econ::MIN_UTILIZATION, 1.0))
        })
    }
}

fn usd_per_gpu_hour(c: &CostInputs, utilization: f64) -> Option<f64> {
    servemath_econ::try_gpu_hour_cost(c, utilization)
        .ok()
        .map(|h| h.total_usd)
        .filter(|v| v.is_finite())
}

/// What "best" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Most output tokens/s per GPU.
    TokensPerGpu,
    /// Fewest dollars per million output tokens (needs a price for every machine).
    Cost,
}

/// Everything the analytic pass needs. [`crate::search`] checks it and refuses it with a
/// [`SearchError`] when a field is out of range.
#[derive(Debug, Clone)]
pub struct SearchSpec {
    /// The model to serve, resolved.
    pub model: ModelSpec,
    /// The machines to search on, at least one;
    /// [`Candidate::hardware`](crate::Candidate::hardware) indexes into it.
    pub hardware: Vec<HardwareOption>,
    /// Mean prompt length of the workload, in tokens: finite, at least 1.
    pub input_tokens: f64,
    /// Mean output length of the workload, in tokens: finite, at least 1.
    pub output_tokens: f64,
    /// Latency targets (TTFT and TPOT, seconds), each positive; `f64::INFINITY` where none is
    /// set.
    pub slo: Slo,
    /// Most GPUs in one replica, or in one disaggregated xPyD unit; at least 1.
    pub max_gpus: u32,
    /// Also try prefill/decode-disaggregated units.
    pub disaggregation: bool,
    /// The parts of the space the search is held to (formats, layouts); the default holds
    /// nothing back.
    pub restrict: Restrict,
}

/// What a search is held to, as a user comparing with a given deployment needs it (say, BF16
/// weights and KV cache at TP8). An empty list allows every value the space enumerates; a
/// given list keeps only the enumerated values in it, so a value the space never enumerates
/// (a format the hardware has no peak for, a degree that does not divide the model) leaves
/// nothing, which [`crate::search`] refuses with [`SearchError::Restricted`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Restrict {
    /// Formats of the bulk linear weights (the experts of a MoE model, else the dense MLP):
    /// the "w" of a `w/kv` pair. A format matches its class of the same width and math rate
    /// (`fp8` and `fp8-block128`; `nvfp4` and `mxfp4`), as each checkpoint and vendor spells it.
    pub weights: Vec<Precision>,
    /// Formats of the KV cache, matched the same way.
    pub kv: Vec<Precision>,
    /// Tensor-parallel degrees; in a disaggregated unit, of both pools.
    pub tp: Vec<u32>,
    /// Pipeline depths; in a disaggregated unit, of both pools.
    pub pp: Vec<u32>,
    /// Expert-parallel degrees (1: experts are tensor-sliced, not spread).
    pub ep: Vec<u32>,
    /// Two-batch overlap on or off; `None` tries both where there is expert-parallel traffic.
    pub two_batch_overlap: Option<bool>,
}

impl Restrict {
    /// Whether anything is held back.
    pub fn is_some(&self) -> bool {
        *self != Restrict::default()
    }

    /// Whether the formats `prec` of `model` are allowed.
    pub fn allows_formats(&self, model: &ModelSpec, prec: &Precisions) -> bool {
        let matches = |wanted: &[Precision], p: Precision| {
            wanted.is_empty() || wanted.iter().any(|&w| same_class(w, p))
        };
        matches(&self.weights, bulk_weights(model, prec)) && matches(&self.kv, prec.kv)
    }

    /// Whether the layout `par` is allowed.
    pub fn allows_layout(&self, par: &Parallelism) -> bool {
        let allows = |wanted: &[u32], v: u32| wanted.is_empty() || wanted.contains(&v);
        allows(&self.tp, par.tp)
            && allows(&self.pp, par.pp)
            && allows(&self.ep, par.ep)
            && self
                .two_batch_overlap
                .is_none_or(|t| t == par.two_batch_overlap)
    }
}

/// `weights bf16,fp8; tp 8`: the restrictions given, named as the CLI flags name them.
impl std::fmt::Display for Restrict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (name, formats) in [("weights", &self.weights), ("kv", &self.kv)] {
            if !formats.is_empty() {
                let names: Vec<&str> = formats.iter().map(|p| p.name()).collect();
                parts.push(format!("{name} {}", names.join(",")));
            }
        }
        for (name, degrees) in [("tp", &self.tp), ("pp", &self.pp), ("ep", &self.ep)] {
            if !degrees.is_empty() {
                let names: Vec<String> = degrees.iter().map(u32::to_string).collect();
                parts.push(format!("{name} {}", names.join(",")));
            }
        }
        if let Some(tbo) = self.two_batch_overlap {
            parts.push(format!("tbo {}", if tbo { "on" } else { "off" }));
        }
        f.write_str(&parts.join("; "))
    }
}

/// The format of the bulk of a model's linear weights under `prec`: the experts' of a MoE
/// model, else the dense MLP's (what reports print as the weights' format).
pub fn bulk_weights(model: &ModelSpec, prec: &Precisions) -> Precision {
    if model.is_moe() {
        prec.weights.experts
    } else {
        prec.weights.dense_mlp
    }
}

/// Two formats of one class: the same whole bits per element and the same math rate.
pub(crate) fn same_class(a: Precision, b: Precision) -> bool {
    a == b || (bits(a) == bits(b) && a.math() == b.math())
}

impl SearchSpec {
    pub(crate) fn validate(&self) -> Result<(), SearchError> {
        if self.hardware.is_empty() {
            return Err(SearchError::NoHardware);
        }
        for (field, v) in [
            ("input_tokens", self.input_tokens),
            ("output_tokens", self.output_tokens),
        ] {
            if !(v.is_finite() && v >= 1.0) {
                return Err(SearchError::invalid(
                    field,
                    v,
                    "must be a finite number of tokens, at least 1",
                ));
            }
        }
        if self.max_gpus == 0 {
            return Err(SearchError::invalid("max_gpus", 0, "must be at least 1"));
        }
        for (field, v) in [
            ("slo.ttft_s", self.slo.ttft_s),
            ("slo.tpot_s", self.slo.tpot_s),
        ] {
            if v.is_nan() || v <= 0.0 {
                return Err(SearchError::invalid(field, v, "must be positive"));
            }
        }
        Ok(())
    }

    /// Context a sequence reaches: prompt plus output.
    pub(crate) fn context(&self) -> f64 {
        self.input_tokens + self.output_tokens
    }
}

/// Whole bits per element of a format (block scales rounded away): fp8-block128 is 8, nvfp4 4.
fn bits(p: Precision) -> u32 {
    (p.bytes_per_element() * 8.0).floor() as u32
}

/// The weight and KV formats to try on `hw`: the checkpoint's own weights, then each narrower
/// class (fp8, fp4) the hardware has a peak for; KV in bf16 and each narrower class with a
/// peak. Weights are never widened beyond the checkpoint (that only costs).
pub fn precision_menu(model: &ModelSpec, hw: &Hardware) -> Vec<Precisions> {
    let has = |p: MathPrecision| hw.peak_flop_per_s(p).is_ok();
    let base = Precisions::defaults_for(model, has);
    let bulk = if model.is_moe() {
        model.checkpoint.experts
    } else {
        model.checkpoint.dense_mlp
    };
    let fp4 = if hw.vendor.eq_ignore_ascii_case("nvidia") {
        Precision::Nvfp4
    } else {
        Precision::Mxfp4
    };
    let narrower = [
        (Precision::Fp8, MathPrecision::Fp8),
        (fp4, MathPrecision::Fp4),
    ];
    let mut weights = vec![base];
    for (p, class) in narrower {
        if bits(p) < bits(bulk) && has(class) {
            weights.push(base.with_linear_weights(p, has));
        }
    }
    let mut kv = vec![Precision::Bf16];
    kv.extend(narrower.iter().filter(|(_, c)| has(*c)).map(|(p, _)| *p));
    weights
        .iter()
        .flat_map(|w| kv.iter().map(move |&k| Precisions { kv: k, ..*w }))
        .collect()
}

fn divisors(n: u64, cap: u32) -> Vec<u32> {
    (1..=u64::from(cap).min(n))
        .filter(|d| n.is_multiple_of(*d))
        .map(|d| d as u32)
        .collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Pipeline depths: every depth up to 8, then powers of two, up to `cap`.
fn pipeline_depths(cap: u32) -> Vec<u32> {
    let mut v: Vec<u32> = (1..=cap.min(PP_DENSE_UP_TO)).collect();
    let mut p = PP_DENSE_UP_TO * 2;
    while p <= cap {
        v.push(p);
        p *= 2;
    }
    v
}

/// The parallel layouts of one replica of `model` on `hw` with at most `max_gpus` GPUs:
/// tensor parallelism over divisors of the attention heads, attention-data parallelism in
/// powers of two (MoE only), the TP x DP group inside one scale-up domain, expert parallelism
/// over divisors of the group that divide the experts, and pipeline stages (which may span
/// domains). Every layout here still goes through `validate_layout` when it is priced.
pub fn layouts(model: &ModelSpec, hw: &Hardware, max_gpus: u32) -> Vec<Parallelism> {
    let heads = model
        .groups
        .iter()
        .map(|g| g.attention.heads())
        .fold(0, gcd);
    let experts = model
        .groups
        .iter()
        .filter_map(|g| g.mlp.routing())
        .map(|(e, _)| e)
        .max();
    let group_cap = hw.scale_up_domain.max(1).min(max_gpus);
    let layers = u32::try_from(model.num_layers()).unwrap_or(u32::MAX);
    let mut out = Vec::new();
    for tp in divisors(heads, group_cap) {
        let mut dp = 1;
        while tp * dp <= group_cap {
            let g = tp * dp;
            let eps = match experts {
                Some(e) => divisors(u64::from(g), g)
                    .into_iter()
                    .filter(|&ep| e % u64::from(ep) == 0)
                    .collect(),
                None => vec![1],
            };
            for &ep in &eps {
                for pp in pipeline_depths(layers.min(max_gpus / g)) {
                    // Two-batch overlap is a choice wherever there is expert-parallel traffic.
                    for tbo in [false, true] {
                        if tbo && ep == 1 {
                            continue;
                        }
                        out.push(Parallelism {
                            tp,
                            pp,
                            ep,
                            dp_attn: dp,
                            redundant_experts: 0,
                            two_batch_overlap: tbo,
                        });
                    }
                }
            }
            if experts.is_none() {
                break;
            }
            dp *= 2;
        }
    }
    out
}
