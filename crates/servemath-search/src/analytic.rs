//! The analytic pass: every layout priced with the cost model, in parallel.
//!
//! An **aggregated** replica runs continuous batching with chunked prefill in steady state:
//! every step decodes `batch` sequences at the mean context `input + output/2` and carries the
//! prompt tokens of the `batch/output` requests that replace those finishing
//! ([`Deployment::steady_output_tokens_per_s`]). TPOT is that step; tokens/s per user is
//! 1/TPOT; output tokens/s is `batch / TPOT`. The step's prompt budget is
//! `max(2048, batch·input/output)` tokens (so the prompts keep up), and a new prompt's TTFT is
//! its `⌈input / budget⌉` chunks, each riding a step beside the full decode batch.
//!
//! A **disaggregated** `xPyD` unit has `x` prefill replicas, each running steps of
//! `max(max_batched_tokens, input)` prompt tokens, and `y` decode replicas, each decoding
//! `batch` sequences; it serves `min(x · prefill rate, y · decode rate)` requests/s. TTFT is a
//! prefill step plus the KV hand-off over the scale-up link (when the unit fits in one domain)
//! or the scale-out link.
//!
//! Batches are powers of two up to the largest that fits, that largest, and (per layout) the
//! largest that meets the latency targets, so the best configuration is exact, not a grid
//! point. Queueing is left to the simulator.

use crate::error::SearchError;
use crate::space::{
    bulk_weights, layouts, precision_menu, same_class, HardwareOption, Objective, SearchSpec,
    CHUNK_TOKENS, MAX_BATCH, RATIOS_MAX,
};
use rayon::prelude::*;
use serde::Serialize;
use servemath_cost::{Bound, Deployment, Parallelism, Precisions, StepCost, StepLoad};
use servemath_model::Precision;
use servemath_sim::Slo;

/// What stops the batch from growing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchLimit {
    /// A power of two below the limits.
    Grid,
    /// The largest batch whose KV cache fits.
    Memory,
    /// The largest batch whose TPOT meets the target.
    Tpot,
    /// The largest batch whose TTFT meets the target.
    Ttft,
}

impl BatchLimit {
    /// The lowercase label shown in tables and JSON: `grid`, `memory`, `tpot` or `ttft`.
    pub fn name(self) -> &'static str {
        match self {
            BatchLimit::Grid => "grid",
            BatchLimit::Memory => "memory",
            BatchLimit::Tpot => "tpot",
            BatchLimit::Ttft => "ttft",
        }
    }
}

/// The link a disaggregated unit hands KV caches over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// The unit fits in one scale-up domain: KV caches cross the scale-up links (NVLink,
    /// XGMI).
    ScaleUp,
    /// The unit spans domains: KV caches cross the scale-out network.
    ScaleOut,
}

impl From<servemath_cost::LinkKind> for Link {
    fn from(k: servemath_cost::LinkKind) -> Self {
        match k {
            servemath_cost::LinkKind::ScaleUp => Link::ScaleUp,
            servemath_cost::LinkKind::ScaleOut => Link::ScaleOut,
        }
    }
}

/// How the GPUs of one unit are organised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// One replica doing prefill and decode.
    Aggregated {
        /// The replica's layout.
        par: Parallelism,
    },
    /// `prefill_replicas` prefill replicas and `decode_replicas` decode replicas (`xPyD`).
    Disaggregated {
        /// The layout of each prefill replica.
        prefill: Parallelism,
        /// Prefill replicas in the unit: the `x` of `xPyD`, in `1..=RATIOS_MAX`.
        prefill_replicas: u32,
        /// The layout of each decode replica.
        decode: Parallelism,
        /// Decode replicas in the unit: the `y` of `xPyD`, in `1..=RATIOS_MAX`, with no factor
        /// in common with `x`.
        decode_replicas: u32,
        /// The link the KV caches are handed over.
        link: Link,
        /// Prompt tokens per prefill step.
        prefill_step_tokens: u32,
    },
}

/// Why a candidate sits where it does: of its (decode) step and its busiest GPU's memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Why {
    /// The kernel class with the largest share of the step time.
    pub bound: Bound,
    /// Exposed communication over the step time, in \[0, 1\].
    pub comm_share: f64,
    /// Fraction of the dense peak FLOP/s (at the compute format) the step uses.
    pub mfu: f64,
    /// Fraction of the HBM bandwidth the step uses.
    pub mbu: f64,
    /// Weights over usable HBM.
    pub weight_fraction: f64,
    /// KV cache of the batch at full context over usable HBM.
    pub kv_fraction: f64,
    /// Weights, KV, activation workspace and runtime reserve over usable HBM.
    pub memory_fraction: f64,
}

/// One scored configuration: a unit (a replica, or an xPyD group) at a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Index into [`SearchSpec::hardware`].
    pub hardware: usize,
    /// The formats: weights per component, KV cache, matmul rate class.
    pub prec: Precisions,
    /// An aggregated replica or an xPyD unit, with its layouts.
    pub shape: Shape,
    /// Sequences decoding at once per (decode) replica: the scheduler's max sequences.
    pub batch: u32,
    /// What stops `batch` from growing.
    pub limit: BatchLimit,
    /// On the batch grid, which does not depend on the latency targets (the Pareto front is
    /// drawn over these); `false` for batches refined to a target.
    pub on_grid: bool,
    /// GPUs in the unit.
    pub gpus: u32,
    /// Time to first token, in seconds, without queueing (a lower bound): the prompt's
    /// chunked-prefill steps, or a prefill step plus the KV hand-off (`docs/search.md`).
    pub ttft_s: f64,
    /// Time per output token, in seconds: one (decode) step at `batch`.
    pub tpot_s: f64,
    /// Output tokens/s of the unit at full load.
    pub output_tokens_per_s: f64,
    /// Requests/s the unit sustains.
    pub requests_per_s: f64,
    /// Token budget of one (decode) step: the scheduler's `max_batched_tokens`.
    pub step_tokens: u32,
    /// What bounds the (decode) step and how full the busiest GPU's memory is.
    pub why: Why,
    /// Dollars per million output tokens at full load (all GPU time charged to output);
    /// `None` when the machine has no price.
    pub usd_per_m_output_tokens: Option<f64>,
}

impl Candidate {
    /// Output tokens/s one sequence sees: 1 / TPOT.
    pub fn tokens_per_s_per_user(&self) -> f64 {
        1.0 / self.tpot_s
    }

    /// Output tokens/s of the unit over its GPUs.
    pub fn tokens_per_s_per_gpu(&self) -> f64 {
        self.output_tokens_per_s / f64::from(self.gpus)
    }

    /// Whether TTFT and TPOT are both within `slo` (an infinite target is always met).
    pub fn meets(&self, slo: &Slo) -> bool {
        self.miss(slo) <= 1.0
    }

    /// The worst ratio of a latency to its target: at most 1 when both are met.
    pub fn miss(&self, slo: &Slo) -> f64 {
        (self.ttft_s / slo.ttft_s).max(self.tpot_s / slo.tpot_s)
    }

    /// Whether the unit is a prefill/decode-disaggregated `xPyD` group.
    pub fn is_disaggregated(&self) -> bool {
        matches!(self.shape, Shape::Disaggregated { .. })
    }
}

/// How many layouts were tried and what became of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Parallel layouts x precisions enumerated, all machines.
    pub layouts: u64,
    /// Those that divide the model (heads, layers, experts) and have the figures to price.
    pub valid: u64,
    /// Those where at least one sequence fits in memory.
    pub fit: u64,
    /// Disaggregated (prefill layout, decode layout, batch, xPyD ratio) combinations priced.
    pub disaggregated_combinations: u64,
    /// Configurations kept and scored.
    pub candidates: u64,
    /// Of those, the ones meeting the latency targets.
    pub meeting: u64,
}

/// The analytic pass's answer: every candidate, in a deterministic order.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// Every configuration scored, whether or not it meets the targets: the aggregated ones
    /// layout by layout, then the disaggregated units. [`rank`], [`crate::pareto_front`] and
    /// [`closest_miss`] answer with indices into it.
    pub candidates: Vec<Candidate>,
    /// How many layouts were tried and what became of them.
    pub counts: Counts,
}

/// The steady state of an aggregated replica at a batch (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Steady {
    /// Time of one steady step (decodes plus the prompt budget), in seconds.
    pub tpot_s: f64,
    /// Time to first token without queueing, in seconds: a prompt's chunks, each riding a
    /// step beside the full decode batch.
    pub ttft_s: f64,
    /// Output tokens/s of the replica.
    pub output_tokens_per_s: f64,
    /// Decode tokens plus the prompt budget: the scheduler's `max_batched_tokens`.
    pub step_tokens: f64,
    /// The cost model's breakdown of the steady step (its time is `tpot_s`).
    pub step: StepCost,
}

/// The steady state of `dep` decoding `batch` sequences of mean `input` + `output` tokens.
pub fn steady(dep: &Deployment, batch: f64, input: f64, output: f64) -> Steady {
    let budget = prompt_budget(batch, input, output);
    let step = dep.steady_output_tokens_per_s(batch, input, output);
    let chunks = (input / budget).ceil().max(1.0);
    let piece = input / chunks;
    // The step a prompt rides carries the other prompts' share of the steady prompt load
    // (`batch / output` prompts per step on average) beside its own chunk: never less prompt
    // work than the steady step, so TTFT is never shorter than one steady step.
    let others = (batch / output - piece / input).max(0.0);
    let ride = dep.step(
        &(StepLoad::decode(batch, input + output / 2.0)
            + StepLoad::prefill(1.0, piece, (input - piece) / 2.0)
            + StepLoad::prefill(others, input, 0.0)),
    );
    Steady {
        tpot_s: step.time_s,
        ttft_s: chunks * ride.time_s,
        output_tokens_per_s: batch / step.time_s,
        step_tokens: batch + budget,
        step,
    }
}

/// Prompt tokens per step that keep a batch full: the default chunk, or more when the
/// replacements of finishing requests need it.
fn prompt_budget(batch: f64, input: f64, output: f64) -> f64 {
    CHUNK_TOKENS.max((batch * input / output).ceil())
}

/// Memory of the busiest GPU with the activation workspace sized for `step_tokens` (never
/// below the calibrated `max_batched_tokens`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemUse {
    pub(crate) fits: bool,
    weight_fraction: f64,
    kv_fraction: f64,
    memory_fraction: f64,
}

pub(crate) fn memory_use(dep: &Deployment, batch: f64, context: f64, step_tokens: f64) -> MemUse {
    let m = dep.memory(batch, context);
    let act = m.activation_bytes * (step_tokens / dep.params().max_batched_tokens).max(1.0);
    let budget = m.usable_bytes - m.weight_bytes - act - m.reserve_bytes;
    let usable = m.usable_bytes.max(f64::MIN_POSITIVE);
    MemUse {
        fits: budget > 0.0 && m.kv_bytes <= budget,
        weight_fraction: m.weight_bytes / usable,
        kv_fraction: m.kv_bytes / usable,
        memory_fraction: (m.weight_bytes + act + m.reserve_bytes + m.kv_bytes) / usable,
    }
}

/// The largest batch in `1..=MAX_BATCH` for which `ok` holds, assuming `ok` holds up to some
/// batch and fails beyond it; 0 when it fails at 1.
pub(crate) fn largest(hi: u32, ok: impl Fn(u32) -> bool) -> u32 {
    if hi == 0 || !ok(1) {
        return 0;
    }
    let (mut lo, mut hi) = (1, hi.min(MAX_BATCH));
    if ok(hi) {
        return hi;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// An upper bound on the batch that fits: the room left after weights and reserve, in
/// sequences (activations left out, so the true limit is at or below it).
fn batch_bound(dep: &Deployment, context: f64) -> u32 {
    let m = dep.memory(1.0, context);
    let room = m.usable_bytes - m.weight_bytes - m.reserve_bytes;
    if room <= 0.0 {
        return 0;
    }
    if m.kv_bytes_per_seq <= 0.0 {
        return MAX_BATCH;
    }
    let seqs = (room / m.kv_bytes_per_seq).floor() * f64::from(dep.parallelism().dp_attn);
    seqs.min(f64::from(MAX_BATCH)) as u32
}

/// Powers of two below `max`, then `max`.
fn grid(max: u32) -> Vec<u32> {
    let mut v: Vec<u32> = (0..32)
        .map(|s| 1u32 << s)
        .take_while(|&b| b < max)
        .collect();
    if max > 0 {
        v.push(max);
    }
    v
}

/// One layout to price.
#[derive(Debug, Clone, Copy)]
struct Job {
    hardware: usize,
    /// Index of the (hardware, precisions) group: disaggregated units pair layouts within one.
    group: usize,
    prec: Precisions,
    par: Parallelism,
}

/// A decode replica at a batch, for disaggregated units.
#[derive(Debug, Clone, Copy)]
struct DecodePoint {
    par: Parallelism,
    gpus: u32,
    batch: u32,
    limit: BatchLimit,
    on_grid: bool,
    tpot_s: f64,
    requests_per_s: f64,
    step_tokens: u32,
    why: Why,
}

/// A prefill replica, for disaggregated units.
#[derive(Debug, Clone, Copy)]
struct PrefillPool {
    par: Parallelism,
    gpus: u32,
    requests_per_s: f64,
    /// One full prefill step.
    ttft_s: f64,
    step_tokens: u32,
}

#[derive(Debug, Default)]
struct Priced {
    valid: bool,
    fit: bool,
    aggregated: Vec<Candidate>,
    decode: Vec<DecodePoint>,
    prefill: Option<PrefillPool>,
}

fn why(step: &StepCost, mem: MemUse) -> Why {
    Why {
        bound: step.bound,
        comm_share: step.comm_s / step.time_s,
        mfu: step.mfu,
        mbu: step.mbu,
        weight_fraction: mem.weight_fraction,
        kv_fraction: mem.kv_fraction,
        memory_fraction: mem.memory_fraction,
    }
}

fn price(spec: &SearchSpec, job: &Job) -> Priced {
    let opt = &spec.hardware[job.hardware];
    let Ok(dep) = Deployment::new(&spec.model, &opt.hardware, job.par, job.prec, opt.params) else {
        return Priced::default();
    };
    let mut out = Priced {
        valid: true,
        ..Priced::default()
    };
    let (input, output, context) = (spec.input_tokens, spec.output_tokens, spec.context());
    let gpus = dep.gpus();
    let usd = |gpus: u32, tokens_per_s: f64| {
        opt.usd_per_gpu_hour
            .map(|p| servemath_econ::usd_per_mtok(p, f64::from(gpus), tokens_per_s))
    };

    // Aggregated.
    let bound = batch_bound(&dep, context);
    let fits = |b: u32| {
        let b = f64::from(b);
        let budget = b + prompt_budget(b, input, output);
        memory_use(&dep, b, context, budget).fits
    };
    let max = largest(bound, fits);
    if max > 0 {
        out.fit = true;
        let candidate = |b: u32, limit: BatchLimit, on_grid: bool| {
            let s = steady(&dep, f64::from(b), input, output);
            let mem = memory_use(&dep, f64::from(b), context, s.step_tokens);
            Candidate {
                hardware: job.hardware,
                prec: job.prec,
                shape: Shape::Aggregated { par: job.par },
                batch: b,
                limit,
                on_grid,
                gpus,
                ttft_s: s.ttft_s,
                tpot_s: s.tpot_s,
                output_tokens_per_s: s.output_tokens_per_s,
                requests_per_s: s.output_tokens_per_s / output,
                step_tokens: s.step_tokens.ceil() as u32,
                why: why(&s.step, mem),
                usd_per_m_output_tokens: usd(gpus, s.output_tokens_per_s),
            }
        };
        let meets = |b: u32| candidate(b, BatchLimit::Grid, true).meets(&spec.slo);
        let best = largest(max, meets);
        let refined = (best > 0 && best < max).then(|| {
            let c = candidate(best + 1, BatchLimit::Grid, true);
            let limit = if c.ttft_s > spec.slo.ttft_s {
                BatchLimit::Ttft
            } else {
                BatchLimit::Tpot
            };
            (best, limit)
        });
        for b in grid(max) {
            let limit = match refined {
                Some((r, l)) if r == b => l,
                _ if b == max => BatchLimit::Memory,
                _ => BatchLimit::Grid,
            };
            out.aggregated.push(candidate(b, limit, true));
        }
        if let Some((r, l)) = refined.filter(|(r, _)| !grid(max).contains(r)) {
            out.aggregated.push(candidate(r, l, false));
        }
    }

    if spec.disaggregation {
        out.decode = decode_points(spec, &dep);
        out.prefill = prefill_pool(spec, &dep);
    }
    out
}

/// Decode-pool replicas of `dep` at every grid batch and at the largest meeting the TPOT
/// target.
fn decode_points(spec: &SearchSpec, dep: &Deployment) -> Vec<DecodePoint> {
    let (input, output, context) = (spec.input_tokens, spec.output_tokens, spec.context());
    let fits = |b: u32| {
        let b = f64::from(b);
        memory_use(dep, b, context, b + CHUNK_TOKENS).fits
    };
    let max = largest(batch_bound(dep, context), fits);
    let point = |b: u32, limit: BatchLimit, on_grid: bool| {
        let bf = f64::from(b);
        let step = dep.step(&StepLoad::decode(bf, input + output / 2.0));
        let mem = memory_use(dep, bf, context, bf + CHUNK_TOKENS);
        DecodePoint {
            par: dep.parallelism(),
            gpus: dep.gpus(),
            batch: b,
            limit,
            on_grid,
            tpot_s: step.time_s,
            requests_per_s: bf / step.time_s / output,
            step_tokens: (bf + CHUNK_TOKENS) as u32,
            why: why(&step, mem),
        }
    };
    let tpot_ok = |b: u32| point(b, BatchLimit::Grid, true).tpot_s <= spec.slo.tpot_s;
    let best = largest(max, tpot_ok);
    let refined = (best > 0 && best < max).then_some(best);
    let mut v: Vec<DecodePoint> = grid(max)
        .into_iter()
        .map(|b| {
            let limit = match refined {
                Some(r) if r == b => BatchLimit::Tpot,
                _ if b == max => BatchLimit::Memory,
                _ => BatchLimit::Grid,
            };
            point(b, limit, true)
        })
        .collect();
    if let Some(r) = refined.filter(|r| !grid(max).contains(r)) {
        v.push(point(r, BatchLimit::Tpot, false));
    }
    v
}

/// A prefill-pool replica of `dep`: steps of `max(max_batched_tokens, input)` prompt tokens,
/// whose prompts' KV caches must fit until they are handed off.
fn prefill_pool(spec: &SearchSpec, dep: &Deployment) -> Option<PrefillPool> {
    let input = spec.input_tokens;
    let tokens = dep.params().max_batched_tokens.max(input);
    let seqs = tokens / input;
    if !memory_use(dep, seqs.ceil(), input, tokens).fits {
        return None;
    }
    let step = dep.step(&StepLoad::prefill(seqs, input, 0.0));
    Some(PrefillPool {
        par: dep.parallelism(),
        gpus: dep.gpus(),
        requests_per_s: seqs / step.time_s,
        ttft_s: step.time_s,
        step_tokens: tokens.ceil() as u32,
    })
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `(x, y)` prefill and decode replica counts with no common factor.
fn ratios() -> Vec<(u32, u32)> {
    let mut v = Vec::new();
    for x in 1..=RATIOS_MAX {
        for y in 1..=RATIOS_MAX {
            if gcd(x, y) == 1 {
                v.push((x, y));
            }
        }
    }
    v
}

/// The prefill layouts worth pairing: the three with the most requests/s per GPU, and the one
/// with the fastest step (the lowest TTFT). None of this depends on the latency targets.
fn prefill_choices(pools: &[PrefillPool]) -> Vec<PrefillPool> {
    let mut by_rate: Vec<PrefillPool> = pools.to_vec();
    by_rate.sort_by(|a, b| {
        let r = |p: &PrefillPool| p.requests_per_s / f64::from(p.gpus);
        r(b).total_cmp(&r(a)).then(a.gpus.cmp(&b.gpus))
    });
    let mut out: Vec<PrefillPool> = by_rate.iter().take(3).copied().collect();
    if let Some(fast) = pools.iter().min_by(|a, b| a.ttft_s.total_cmp(&b.ttft_s)) {
        if !out.iter().any(|p| p.par == fast.par) {
            out.push(*fast);
        }
    }
    out
}

/// Every xPyD unit of one (hardware, precisions) group. For each decode point, the units kept
/// are those no other unit of the same decode point beats in both tokens/s per GPU and TTFT
/// (tokens/s per user is the decode point's), so that any latency target finds its best here.
fn disaggregate(
    spec: &SearchSpec,
    hardware: usize,
    prec: Precisions,
    prefill: &[PrefillPool],
    decode: &[DecodePoint],
) -> (Vec<Candidate>, u64) {
    let opt: &HardwareOption = &spec.hardware[hardware];
    let hw = &opt.hardware;
    let choices = prefill_choices(prefill);
    let ratios = ratios();
    let kv_bytes = spec
        .model
        .kv_bytes_for_context(spec.input_tokens.ceil() as u64, prec.kv);
    let output = spec.output_tokens;
    let mut tried = 0u64;
    let mut out = Vec::new();
    for d in decode {
        // (tokens/s per GPU, TTFT, candidate) not dominated within this decode point.
        let mut kept: Vec<Candidate> = Vec::new();
        for p in &choices {
            for &(x, y) in &ratios {
                let gpus = x * p.gpus + y * d.gpus;
                if gpus > spec.max_gpus {
                    continue;
                }
                tried += 1;
                // The one KV-link rule; a unit spanning domains on hardware with no
                // published scale-out bandwidth cannot hand off, so it is not a candidate.
                let Ok(kv_link) = servemath_cost::kv_link(hw, hw, p.gpus, u64::from(gpus)) else {
                    continue;
                };
                let link = Link::from(kv_link.kind);
                let requests_per_s =
                    (f64::from(x) * p.requests_per_s).min(f64::from(y) * d.requests_per_s);
                let tokens = requests_per_s * output;
                let ttft_s = p.ttft_s + kv_bytes / kv_link.bytes_per_s + kv_link.latency_s;
                let c = Candidate {
                    hardware,
                    prec,
                    shape: Shape::Disaggregated {
                        prefill: p.par,
                        prefill_replicas: x,
                        decode: d.par,
                        decode_replicas: y,
                        link,
                        prefill_step_tokens: p.step_tokens,
                    },
                    batch: d.batch,
                    limit: d.limit,
                    on_grid: d.on_grid,
                    gpus,
                    ttft_s,
                    tpot_s: d.tpot_s,
                    output_tokens_per_s: tokens,
                    requests_per_s,
                    step_tokens: d.step_tokens,
                    why: d.why,
                    usd_per_m_output_tokens: opt
                        .usd_per_gpu_hour
                        .map(|u| servemath_econ::usd_per_mtok(u, f64::from(gpus), tokens)),
                };
                let beats = |a: &Candidate, b: &Candidate| {
                    a.tokens_per_s_per_gpu() >= b.tokens_per_s_per_gpu() && a.ttft_s <= b.ttft_s
                };
                if kept.iter().any(|k| beats(k, &c)) {
                    continue;
                }
                kept.retain(|k| !beats(&c, k));
                kept.push(c);
            }
        }
        out.extend(kept);
    }
    (out, tried)
}

/// Scores every layout of `spec` with the cost model, in parallel.
///
/// Fails with [`SearchError::NoHardware`] or [`SearchError::Invalid`] when `spec` is out of
/// range, and with [`SearchError::Restricted`] when its restrictions leave nothing to search.
/// A search where nothing fits or meets the targets is not an error: its counts say so.
pub fn search(spec: &SearchSpec) -> Result<SearchResult, SearchError> {
    spec.validate()?;
    let mut jobs = Vec::new();
    let mut groups = Vec::new();
    for (h, (pars, menu)) in restricted_space(spec)?.into_iter().enumerate() {
        for prec in menu {
            let group = groups.len();
            groups.push((h, prec));
            jobs.extend(pars.iter().map(|&par| Job {
                hardware: h,
                group,
                prec,
                par,
            }));
        }
    }
    let priced: Vec<Priced> = jobs.par_iter().map(|j| price(spec, j)).collect();
    let mut counts = Counts {
        layouts: jobs.len() as u64,
        ..Counts::default()
    };
    let mut candidates = Vec::new();
    let mut prefill: Vec<Vec<PrefillPool>> = vec![Vec::new(); groups.len()];
    let mut decode: Vec<Vec<DecodePoint>> = vec![Vec::new(); groups.len()];
    for (job, p) in jobs.iter().zip(priced) {
        counts.valid += u64::from(p.valid);
        counts.fit += u64::from(p.fit);
        candidates.extend(p.aggregated);
        prefill[job.group].extend(p.prefill);
        decode[job.group].extend(p.decode);
    }
    if spec.disaggregation {
        let units: Vec<(Vec<Candidate>, u64)> = groups
            .par_iter()
            .enumerate()
            .map(|(g, &(h, prec))| disaggregate(spec, h, prec, &prefill[g], &decode[g]))
            .collect();
        for (c, tried) in units {
            counts.disaggregated_combinations += tried;
            candidates.extend(c);
        }
    }
    counts.candidates = candidates.len() as u64;
    counts.meeting = candidates.iter().filter(|c| c.meets(&spec.slo)).count() as u64;
    Ok(SearchResult { candidates, counts })
}

/// One machine's part of the space: its layouts and its formats.
type Space = (Vec<Parallelism>, Vec<Precisions>);

/// Each machine's layouts and formats, held to `spec.restrict`; an error naming the first
/// restriction that matches nothing any machine enumerates, or, when each matches something
/// but together they leave nothing, all of them.
fn restricted_space(spec: &SearchSpec) -> Result<Vec<Space>, SearchError> {
    let full: Vec<Space> = spec
        .hardware
        .iter()
        .map(|opt| {
            (
                layouts(&spec.model, &opt.hardware, spec.max_gpus),
                precision_menu(&spec.model, &opt.hardware),
            )
        })
        .collect();
    let r = &spec.restrict;
    if !r.is_some() {
        return Ok(full);
    }
    let menus = || full.iter().flat_map(|(_, m)| m);
    let pars = || full.iter().flat_map(|(p, _)| p);
    check_formats(
        "weights",
        &r.weights,
        menus().map(|p| bulk_weights(&spec.model, p)),
    )?;
    check_formats("kv", &r.kv, menus().map(|p| p.kv))?;
    check_degrees("tp", &r.tp, pars().map(|p| p.tp))?;
    check_degrees("pp", &r.pp, pars().map(|p| p.pp))?;
    check_degrees("ep", &r.ep, pars().map(|p| p.ep))?;
    if let Some(tbo) = r.two_batch_overlap {
        if !pars().any(|p| p.two_batch_overlap == tbo) {
            return Err(SearchError::Restricted {
                field: "tbo",
                value: if tbo { "on" } else { "off" }.to_string(),
                reason: "two-batch overlap needs expert-parallel traffic (a MoE model at EP > 1)"
                    .to_string(),
            });
        }
    }
    let held: Vec<Space> = full
        .into_iter()
        .map(|(p, m)| {
            (
                p.into_iter().filter(|p| r.allows_layout(p)).collect(),
                m.into_iter()
                    .filter(|p| r.allows_formats(&spec.model, p))
                    .collect(),
            )
        })
        .collect();
    if held.iter().all(|(p, m)| p.is_empty() || m.is_empty()) {
        return Err(SearchError::Restricted {
            field: "restrictions",
            value: r.to_string(),
            reason: "each allows something, but no machine has a layout and formats allowed by all"
                .to_string(),
        });
    }
    Ok(held)
}

fn check_formats(
    field: &'static str,
    wanted: &[Precision],
    enumerated: impl Iterator<Item = Precision>,
) -> Result<(), SearchError> {
    let mut have: Vec<Precision> = Vec::new();
    for p in enumerated {
        if !have.contains(&p) {
            have.push(p);
        }
    }
    if wanted.is_empty()
        || have
            .iter()
            .any(|&h| wanted.iter().any(|&w| same_class(w, h)))
    {
        return Ok(());
    }
    let names =
        |v: &[Precision], sep: &str| v.iter().map(|p| p.name()).collect::<Vec<_>>().join(sep);
    Err(SearchError::Restricted {
        field,
        value: names(wanted, ","),
        reason: format!(
            "not among the formats searched on these machines ({})",
            names(&have, ", ")
        ),
    })
}

fn check_degrees(
    field: &'static str,
    wanted: &[u32],
    enumerated: impl Iterator<Item = u32>,
) -> Result<(), SearchError> {
    let mut have: Vec<u32> = enumerated.collect();
    have.sort_unstable();
    have.dedup();
    if wanted.is_empty() || have.iter().any(|h| wanted.contains(h)) {
        return Ok(());
    }
    let names = |v: &[u32], sep: &str| v.iter().map(u32::to_string).collect::<Vec<_>>().join(sep);
    Err(SearchError::Restricted {
        field,
        value: names(wanted, ","),
        reason: format!(
            "not among the degrees that divide the model within the GPU limit ({})",
            names(&have, ", ")
        ),
    })
}

/// Indices of the candidates meeting the targets, best first by `objective` (ties: more
/// tokens/s per user, then fewer GPUs, then enumeration order).
pub fn rank(result: &SearchResult, slo: &Slo, objective: Objective) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..result.candidates.len())
        .filter(|&i| result.candidates[i].meets(slo))
        .collect();
    let c = &result.candidates;
    idx.sort_by(|&a, &b| {
        let (x, y) = (&c[a], &c[b]);
        let primary = match objective {
            Objective::TokensPerGpu => y
                .tokens_per_s_per_gpu()
                .total_cmp(&x.tokens_per_s_per_gpu()),
            Objective::Cost => {
                let usd = |c: &Candidate| c.usd_per_m_output_tokens.unwrap_or(f64::INFINITY);
                usd(x).total_cmp(&usd(y))
            }
        };
        primary
            .then(
                y.tokens_per_s_per_user()
                    .total_cmp(&x.tokens_per_s_per_user()),
            )
            .then(x.gpus.cmp(&y.gpus))
            .then(a.cmp(&b))
    });
    idx
}

/// The candidate that comes closest to the targets (smallest worst ratio of latency to
/// target), for an "infeasible" answer.
pub fn closest_miss(result: &SearchResult, slo: &Slo) -> Option<usize> {
    (0..result.candidates.len()).min_by(|&a, &b| {
        let c = &result.candidates;
        c[a].miss(slo).total_cmp(&c[b].miss(slo)).then(a.cmp(&b))
    })
}
