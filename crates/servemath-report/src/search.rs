//! `servemath.search/1`: the configurations of a model on one or more machines, scored with the
//! cost model and the best re-scored in the simulator: the top configurations, the best per
//! machine, and the Pareto fronts of tokens/s per user against tokens/s per GPU and against
//! dollars per million output tokens. Each row says why it sits where it does.

use crate::estimate::LayoutReport;
use crate::simulate::WorkloadReport;
use crate::Schema;
use serde::Serialize;
use servemath_cost::Parallelism;
use servemath_search::{BatchLimit, Candidate, Counts, Link, SearchSpec, Shape, SimScore};

/// One search (`servemath.search/1`): what was searched and what came out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchReport {
    /// The model searched.
    pub model: SearchModel,
    /// The machines searched, each at its scale-up size.
    pub hardware: Vec<SearchHardware>,
    /// The workload's mean prompt length in tokens, which the analytic pass prices.
    pub input_tokens: f64,
    /// The workload's mean output length in tokens, which the analytic pass prices.
    pub output_tokens: f64,
    /// The latency targets as given.
    pub slo: SearchSlo,
    /// Most GPUs in one replica or one disaggregated unit.
    pub max_gpus: u32,
    /// Whether prefill/decode-disaggregated units were tried.
    pub disaggregation: bool,
    /// What the space was held to (`--weights`, `--kv`, `--tp`, `--pp`, `--ep`, `--tbo`).
    pub restrict: SearchRestrict,
    /// `tokens_per_gpu` (most output tokens/s per GPU) or `cost` (fewest dollars per million
    /// output tokens).
    pub objective: &'static str,
    /// How much was searched and what became of it.
    pub counts: SearchCounts,
    /// How the top candidates were simulated; `null` with `--no-sim`.
    pub simulation: Option<SimulationSetup>,
    /// Whether any configuration meets the targets (analytically, and in the simulator when
    /// it ran).
    pub feasible: bool,
    /// When none does: the configuration nearest the targets.
    pub closest_miss: Option<SearchRow>,
    /// The best configurations, simulated where `simulation` says; ranked by the simulated
    /// figures among those meeting the targets at p99, then the rest.
    pub top: Vec<SearchRow>,
    /// The best configuration on each machine (analytic).
    pub best_per_hardware: Vec<SearchRow>,
    /// The Pareto front of tokens/s per user against output tokens/s per GPU, over the batch
    /// grid of every machine, among configurations meeting the targets (analytic).
    pub pareto: Vec<SearchRow>,
    /// The same front against dollars per million output tokens (machines with a price only).
    pub pareto_cost: Vec<SearchRow>,
}

impl Schema for SearchReport {
    const SCHEMA_VERSION: &'static str = "servemath.search/1";
}

/// The model searched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchModel {
    /// The built-in name, or the file stem of the config it came from.
    pub name: String,
    /// The config's `model_type` as read (`llama`, `deepseek_v3`, ...).
    pub model_type: String,
    /// Decoder layers.
    pub layers: u64,
    /// Parameters, every expert of a MoE model and the embeddings included.
    pub total_params: u64,
    /// Parameters one token touches: all but the routed experts it does not pick (equals
    /// `total_params` for a dense model).
    pub active_params: u64,
}

/// A machine as searched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHardware {
    /// `h100-sxm`, or `h100-sxm@72` with the scale-up domain set to 72.
    pub label: String,
    /// The hardware catalog id.
    pub id: String,
    /// The catalog's human name (`NVIDIA H100 SXM5 80GB (HGX)`).
    pub name: String,
    /// GPUs per scale-up domain, as searched (the `@N` of `label`, else the catalog's).
    pub scale_up_domain: u32,
    /// Dollars per held GPU-hour at full utilization; `null` without a price.
    pub usd_per_gpu_hour: Option<f64>,
    /// `rental` or `owned`; `null` without a price.
    pub cost_mode: Option<&'static str>,
}

/// Latency targets; `null` where none was given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SearchSlo {
    /// Time-to-first-token target, in seconds (`--slo-ttft`).
    pub ttft_s: Option<f64>,
    /// Time-per-output-token target, in seconds (`--slo-tpot`), as given: without the target
    /// `min_tokens_per_s_per_user` folds in.
    pub tpot_s: Option<f64>,
    /// `--min-tokens-per-s-per-user`, folded into the TPOT target (1 / it).
    pub min_tokens_per_s_per_user: Option<f64>,
}

/// How much was searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SearchCounts {
    /// Parallel layouts x precisions enumerated, all machines.
    pub layouts: u64,
    /// Those that divide the model.
    pub valid: u64,
    /// Those where at least one sequence fits.
    pub fit: u64,
    /// Disaggregated (prefill layout, decode point, xPyD ratio) combinations priced.
    pub disaggregated_combinations: u64,
    /// Configurations scored.
    pub candidates: u64,
    /// Of those, the ones meeting the targets analytically.
    pub meeting: u64,
}

impl From<Counts> for SearchCounts {
    fn from(c: Counts) -> Self {
        SearchCounts {
            layouts: c.layouts,
            valid: c.valid,
            fit: c.fit,
            disaggregated_combinations: c.disaggregated_combinations,
            candidates: c.candidates,
            meeting: c.meeting,
        }
    }
}

/// The simulated re-scoring.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulationSetup {
    /// The workload's arrival shape and lengths; its rate is rescaled per candidate.
    pub workload: WorkloadReport,
    /// Offered load as a fraction of each candidate's analytic capacity.
    pub load: f64,
    /// Candidates simulated.
    pub candidates: u32,
    /// Fewest requests measured per candidate after its warm-up (`--sim-requests`).
    pub measured_requests: u64,
    /// Candidates whose window was sized (a warm-up, the measured requests, a cool-down)
    /// rather than the workload's whole window.
    pub sized: u32,
}

/// One configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchRow {
    /// Position in `top` (1-based); `null` elsewhere.
    pub rank: Option<u32>,
    /// Machine label (see `hardware`).
    pub hardware: String,
    /// GPUs per scale-up domain of that machine.
    pub scale_up_domain: u32,
    /// `aggregated` or `disaggregated`.
    pub mode: &'static str,
    /// The replica's layout; for a disaggregated unit, the decode replicas'.
    pub layout: LayoutReport,
    /// Disaggregated: the prefill replicas' layout; `null` when aggregated.
    pub prefill_layout: Option<LayoutReport>,
    /// Disaggregated: prefill replicas in the unit, the `x` of `xPyD` (1 to 8); `null` when
    /// aggregated.
    pub prefill_replicas: Option<u32>,
    /// Disaggregated: decode replicas in the unit, the `y` of `xPyD` (1 to 8); `null` when
    /// aggregated.
    pub decode_replicas: Option<u32>,
    /// Disaggregated: `scale_up` when the unit fits one scale-up domain, else `scale_out`;
    /// `null` when aggregated.
    pub kv_link: Option<Link>,
    /// GPUs in the unit.
    pub gpus: u32,
    /// Units per scale-up domain (0 when a unit spans domains).
    pub units_per_scale_up_domain: u32,
    /// Format of the bulk linear weights (the experts of a MoE model, else the dense MLP):
    /// the `w` of `w/kv`, as `--weights` names it.
    pub weights: &'static str,
    /// Format of the KV cache, as `--kv` names it.
    pub kv: &'static str,
    /// The matmul rate class: which peak FLOP/s figure the step uses.
    pub compute: &'static str,
    /// Sequences per (decode) replica: the scheduler's max sequences.
    pub batch: u32,
    /// What stops the batch: `grid` (a power of two), `memory`, `tpot` or `ttft` (the largest
    /// within that target).
    pub batch_limit: BatchLimit,
    /// Token budget of one (decode) step: the scheduler's max batched tokens.
    pub max_batched_tokens: u32,
    /// The cost model's figures at full load.
    pub analytic: AnalyticScore,
    /// The simulator's figures at the offered load; `null` when not simulated.
    pub simulated: Option<SimulatedScore>,
    /// What bounds the (decode) step and how full the busiest GPU's memory is.
    pub why: WhyReport,
}

/// The cost model's figures at full load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnalyticScore {
    /// Time to first token, in seconds, without queueing (a lower bound).
    pub ttft_s: f64,
    /// Time per output token, in seconds: one (decode) step at `batch`.
    pub tpot_s: f64,
    /// Output tokens/s one sequence sees: 1 / `tpot_s`.
    pub tokens_per_s_per_user: f64,
    /// Output tokens/s of the unit at full load over its GPUs.
    pub output_tokens_per_s_per_gpu: f64,
    /// Requests per second the unit sustains.
    pub requests_per_s: f64,
    /// Dollars per million output tokens at full load, all GPU time charged to output tokens;
    /// `null` without a price.
    pub usd_per_m_output_tokens: Option<f64>,
    /// Whether `ttft_s` and `tpot_s` are both within the targets.
    pub meets_slo: bool,
}

/// The simulator's figures at the offered load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SimulatedScore {
    /// Units simulated side by side (as many as share one scale-up domain, up to 8).
    pub units: u32,
    /// GPUs of all the units simulated.
    pub gpus: u32,
    /// Requests per second offered to all the units: `--load` of their analytic capacity.
    pub rate_per_s: f64,
    /// Requests that finished, warm-up and cool-down included.
    pub completed: u64,
    /// Requests the percentiles rest on: those between the warm-up and the cool-down of a
    /// sized window, else every completed one.
    pub measured: u64,
    /// Median time to first token of the measured requests, in seconds (`null` when none).
    pub ttft_p50_s: f64,
    /// 99th-percentile time to first token of the measured requests, in seconds (`null` when
    /// none).
    pub ttft_p99_s: f64,
    /// Median time per output token of the measured requests, in seconds (those with one
    /// output token have none; `null` when none is left).
    pub tpot_p50_s: f64,
    /// 99th-percentile time per output token, as `tpot_p50_s`, in seconds.
    pub tpot_p99_s: f64,
    /// Output tokens/s per GPU: the load carried (every request completes unless
    /// `overloaded`).
    pub output_tokens_per_s_per_gpu: f64,
    /// Busy time over elapsed time, all replicas, 0 to 1: over the measured requests' arrival
    /// span for a sized window, over the whole run otherwise.
    pub utilization: f64,
    /// Sequences evicted (and later recomputed) because the KV cache ran out.
    pub preemptions: u64,
    /// The run could not keep up with the offered load (latency grows without bound).
    pub overloaded: bool,
    /// p99 TTFT and p99 TPOT within the targets and not overloaded.
    pub meets_slo: bool,
    /// Dollars per million output tokens carried, at the GPU-hour price for `utilization`;
    /// `null` without a price.
    pub usd_per_m_output_tokens: Option<f64>,
}

impl From<&SimScore> for SimulatedScore {
    fn from(s: &SimScore) -> Self {
        SimulatedScore {
            units: s.units,
            gpus: s.gpus,
            rate_per_s: s.rate_per_s,
            completed: s.completed,
            measured: s.measured,
            ttft_p50_s: s.ttft_p50_s,
            ttft_p99_s: s.ttft_p99_s,
            tpot_p50_s: s.tpot_p50_s,
            tpot_p99_s: s.tpot_p99_s,
            output_tokens_per_s_per_gpu: s.output_tokens_per_s_per_gpu,
            utilization: s.utilization,
            preemptions: s.preemptions,
            overloaded: s.overloaded,
            meets_slo: s.meets_slo,
            usd_per_m_output_tokens: s.usd_per_m_output_tokens,
        }
    }
}

/// Why the configuration sits where it does, of its (decode) step and busiest GPU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhyReport {
    /// The kernel class with the largest share of the step time: `gemm`, `experts`,
    /// `attention`, `elementwise`, `communication` or `overhead`.
    pub bound: &'static str,
    /// Exposed communication over the step time, 0 to 1.
    pub comm_share: f64,
    /// Fraction of the dense peak FLOP/s (at the `compute` class) the step uses.
    pub mfu: f64,
    /// Fraction of the HBM bandwidth the step uses.
    pub mbu: f64,
    /// Weights over usable HBM on the busiest GPU.
    pub weight_fraction: f64,
    /// KV cache of the batch at full context (prompt plus output) over usable HBM.
    pub kv_fraction: f64,
    /// Weights, KV cache, activation workspace and runtime reserve over usable HBM: at most
    /// 1, since the configuration fits.
    pub memory_fraction: f64,
    /// The same in a sentence.
    pub text: String,
}

fn layout(p: &Parallelism) -> LayoutReport {
    LayoutReport {
        tp: p.tp,
        pp: p.pp,
        ep: p.ep,
        dp_attn: p.dp_attn,
        redundant_experts: p.redundant_experts,
        two_batch_overlap: p.two_batch_overlap,
        gpus: p.gpus(),
    }
}

fn percent(f: f64) -> String {
    format!("{:.0} %", f * 100.0)
}

impl WhyReport {
    fn new(c: &Candidate) -> WhyReport {
        let w = &c.why;
        let limit = match c.limit {
            BatchLimit::Grid => "batch below every limit",
            BatchLimit::Memory => "batch at the memory limit",
            BatchLimit::Tpot => "batch at the TPOT target",
            BatchLimit::Ttft => "batch at the TTFT target",
        };
        let text = format!(
            "{}-bound (MFU {}, MBU {}); HBM {} used (weights {}, KV {}); comm {} of the step; {limit}",
            w.bound.name(),
            percent(w.mfu),
            percent(w.mbu),
            percent(w.memory_fraction),
            percent(w.weight_fraction),
            percent(w.kv_fraction),
            percent(w.comm_share),
        );
        WhyReport {
            bound: w.bound.name(),
            comm_share: w.comm_share,
            mfu: w.mfu,
            mbu: w.mbu,
            weight_fraction: w.weight_fraction,
            kv_fraction: w.kv_fraction,
            memory_fraction: w.memory_fraction,
            text,
        }
    }
}

impl SearchRow {
    /// The row of `c` (a candidate of `spec`), with its simulated score if any.
    pub fn new(
        spec: &SearchSpec,
        c: &Candidate,
        rank: Option<u32>,
        sim: Option<&SimScore>,
    ) -> SearchRow {
        let opt = &spec.hardware[c.hardware];
        let domain = opt.hardware.scale_up_domain;
        let (mode, decode, prefill, x, y, link) = match c.shape {
            Shape::Aggregated { par } => ("aggregated", par, None, None, None, None),
            Shape::Disaggregated {
                prefill,
                prefill_replicas,
                decode,
                decode_replicas,
                link,
                ..
            } => (
                "disaggregated",
                decode,
                Some(layout(&prefill)),
                Some(prefill_replicas),
                Some(decode_replicas),
                Some(link),
            ),
        };
        let weights = if spec.model.is_moe() {
            c.prec.weights.experts
        } else {
            c.prec.weights.dense_mlp
        };
        SearchRow {
            rank,
            hardware: opt.label.clone(),
            scale_up_domain: domain,
            mode,
            layout: layout(&decode),
            prefill_layout: prefill,
            prefill_replicas: x,
            decode_replicas: y,
            kv_link: link,
            gpus: c.gpus,
            units_per_scale_up_domain: domain / c.gpus,
            weights: weights.name(),
            kv: c.prec.kv.name(),
            compute: c.prec.compute.name(),
            batch: c.batch,
            batch_limit: c.limit,
            max_batched_tokens: c.step_tokens,
            analytic: AnalyticScore {
                ttft_s: c.ttft_s,
                tpot_s: c.tpot_s,
                tokens_per_s_per_user: c.tokens_per_s_per_user(),
                output_tokens_per_s_per_gpu: c.tokens_per_s_per_gpu(),
                requests_per_s: c.requests_per_s,
                usd_per_m_output_tokens: c.usd_per_m_output_tokens,
                meets_slo: c.meets(&spec.slo),
            },
            simulated: sim.map(SimulatedScore::from),
            why: WhyReport::new(c),
        }
    }
}

/// The restrictions of a search: an empty list (or `null` for `tbo`) holds nothing back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchRestrict {
    /// Bulk linear weight formats kept (`--weights`), each matching its class.
    pub weights: Vec<&'static str>,
    /// KV-cache formats kept (`--kv`), each matching its class.
    pub kv: Vec<&'static str>,
    /// Tensor-parallel degrees kept (`--tp`), of both pools of an `xPyD` unit.
    pub tp: Vec<u32>,
    /// Pipeline depths kept (`--pp`), of both pools of an `xPyD` unit.
    pub pp: Vec<u32>,
    /// Expert-parallel degrees kept (`--ep`).
    pub ep: Vec<u32>,
    /// Two-batch overlap only (`true`) or never (`false`); `null`: both, wherever there is
    /// expert-parallel traffic.
    pub tbo: Option<bool>,
}

impl SearchRestrict {
    /// The restrictions of `spec`, formats by their names.
    pub fn new(spec: &SearchSpec) -> SearchRestrict {
        let r = &spec.restrict;
        let names = |v: &[servemath_model::Precision]| v.iter().map(|p| p.name()).collect();
        SearchRestrict {
            weights: names(&r.weights),
            kv: names(&r.kv),
            tp: r.tp.clone(),
            pp: r.pp.clone(),
            ep: r.ep.clone(),
            tbo: r.two_batch_overlap,
        }
    }
}

impl SearchModel {
    /// The model of `spec`, with its parameter counts.
    pub fn new(spec: &SearchSpec) -> SearchModel {
        let m = &spec.model;
        SearchModel {
            name: m.name.clone(),
            model_type: m.model_type.clone(),
            layers: m.num_layers(),
            total_params: m.params().total(),
            active_params: m.active_params(),
        }
    }
}

impl SearchHardware {
    /// The machines of `spec`, in its order, each with its GPU-hour price and cost mode.
    pub fn new(spec: &SearchSpec) -> Vec<SearchHardware> {
        spec.hardware
            .iter()
            .map(|o| SearchHardware {
                label: o.label.clone(),
                id: o.hardware.id.clone(),
                name: o.hardware.name.clone(),
                scale_up_domain: o.hardware.scale_up_domain,
                usd_per_gpu_hour: o.usd_per_gpu_hour,
                cost_mode: o
                    .cost
                    .as_ref()
                    .filter(|_| o.usd_per_gpu_hour.is_some())
                    .map(|c| c.mode.name()),
            })
            .collect()
    }
}
