//! `servemath.simulate/1`: a fleet under traffic, from the serving simulator: what was
//! simulated (pools, router, workload, SLOs) and what came out (request counts, latency
//! percentiles, throughput, goodput, utilization, KV occupancy, preemptions).

use crate::estimate::{params_of, HardwareSummary, LayoutReport, ModelSummary, PrecisionsReport};
use crate::Schema;
use serde::Serialize;
use servemath_cost::Deployment;
use servemath_sim::{Percentiles, Policy, Pool, Router, SchedulerConfig, SimReport};
use std::collections::BTreeMap;

/// One simulation run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulateReport {
    /// The replica pools: one `unified` pool, or a `prefill` and a `decode` pool.
    pub pools: Vec<PoolReport>,
    /// How requests are spread over replicas: `round_robin`, `least_outstanding` or `least_kv`.
    pub router: RouterReport,
    /// The link prefilled KV caches cross between pools; `null` without disaggregation.
    pub kv_transfer: Option<KvTransferReport>,
    /// Where the requests came from.
    pub workload: WorkloadReport,
    /// Latency targets for goodput; `null` when none was given.
    pub slo: Option<SloReport>,
    /// `leap` (the event-leaping engine) or `reference` (step by step).
    pub engine: &'static str,
    /// GPUs in the fleet, all pools.
    pub gpus: u32,
    /// Simulated time from 0 to the last event.
    pub duration_s: f64,
    /// Forward steps run, all replicas.
    pub steps: u64,
    /// What became of every request that arrived.
    pub requests: RequestCounts,
    /// Latency percentiles over completed requests.
    pub latency: LatencyReport,
    /// Completed work per second, goodput included.
    pub throughput: ThroughputReport,
    /// Busy time over the duration, averaged over replicas, in [0, 1].
    pub utilization: f64,
    /// FLOPs of each replica's busiest GPU over its peak × duration, all replicas.
    pub mfu: f64,
    /// HBM bytes of each replica's busiest GPU over its bandwidth × duration, all replicas.
    pub mbu: f64,
    /// KV-cache capacity, occupancy and prefix hits.
    pub kv: KvReport,
    /// Sequences evicted for lack of KV blocks and recomputed later.
    pub preemptions: u64,
    /// Train steps that outlasted the period (trains only; 0 otherwise).
    pub train_overruns: u64,
    /// More than 5 % of arrivals (at least 10) were waiting when the last one arrived: the
    /// offered load is beyond capacity and latency grows with the run's length.
    pub overloaded: bool,
    /// What the run's tokens cost; `null` when a pool's hardware has no price.
    pub cost: Option<SimCostReport>,
}

/// The fleet's GPU-hours over the run, charged to the tokens it produced. Prompt tokens carry
/// the busy time of prefill-only steps and the marginal time prompt chunks add to mixed steps;
/// output tokens carry the rest, idle time included in proportion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SimCostReport {
    /// Mean $ per held GPU-hour over the fleet, at the run's utilization.
    pub usd_per_gpu_hour: f64,
    /// $ for the whole run: GPUs × duration × $/GPU-hour.
    pub total_usd: f64,
    /// Share of busy GPU time charged to prompt tokens.
    pub prefill_time_share: f64,
    /// Dollars per million prompt tokens (NaN when none were processed).
    pub input_usd_per_mtok: f64,
    /// Dollars per million output tokens (NaN when none were produced).
    pub output_usd_per_mtok: f64,
    /// Dollars per million tokens, prompt and output together, at the run's total cost.
    pub blended_usd_per_mtok: f64,
    /// `output_usd_per_mtok / input_usd_per_mtok`.
    pub output_over_input: f64,
}

impl SimCostReport {
    /// The run's GPU time at `usd_per_gpu_hour` charged to its tokens by
    /// [`servemath_econ::run_cost`].
    pub fn new(usd_per_gpu_hour: f64, r: &SimReport) -> SimCostReport {
        let c = servemath_econ::run_cost(
            usd_per_gpu_hour,
            f64::from(r.gpus),
            r.duration_s,
            r.prefill_time_share,
            r.input_tokens_per_s * r.duration_s,
            r.output_tokens_per_s * r.duration_s,
        );
        SimCostReport {
            usd_per_gpu_hour,
            total_usd: c.total_usd,
            prefill_time_share: r.prefill_time_share,
            input_usd_per_mtok: c.input_usd_per_mtok,
            output_usd_per_mtok: c.output_usd_per_mtok,
            blended_usd_per_mtok: c.blended_usd_per_mtok,
            output_over_input: c.output_over_input,
        }
    }
}

impl Schema for SimulateReport {
    const SCHEMA_VERSION: &'static str = "servemath.simulate/1";
}

/// A pool of identical replicas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolReport {
    /// `unified` (prefill and decode together), `prefill` or `decode`.
    pub role: PoolRole,
    /// Identical replicas in the pool.
    pub replicas: u32,
    /// The model each replica serves.
    pub model: ModelSummary,
    /// The accelerator each replica runs on.
    pub hardware: HardwareSummary,
    /// One replica's parallel layout.
    pub layout: LayoutReport,
    /// One replica's formats.
    pub precisions: PrecisionsReport,
    /// Every cost parameter as used.
    pub params: BTreeMap<String, f64>,
    /// Each replica's scheduler: policy, max sequences, token budget, KV block size, prefix
    /// caching.
    pub scheduler: SchedulerReport,
}

/// The network between prefill and decode pools.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KvTransferReport {
    /// `scale_up` when both pools fit in one scale-up domain of the same hardware, else
    /// `scale_out`.
    pub link: &'static str,
    /// One sequence's KV cache moves at this rate: the sending replica's GPUs × per-GPU link
    /// bandwidth.
    pub bytes_per_s: f64,
    /// Fixed latency of one transfer over the link.
    pub latency_s: f64,
}

/// Where the requests came from, as given (specifications in their text form).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadReport {
    /// `synthetic` (an arrival process and length distributions), `trace` (timed replay) or
    /// `closed_loop` (N users, each sending the next request when the last completes).
    pub kind: &'static str,
    /// The arrival process (`poisson:2`, `gamma:40,2`); `null` for a trace or closed loop.
    pub arrivals: Option<String>,
    /// Offered requests per second over the run: the process's mean rate, or a trace's
    /// requests over its span; `null` for a closed loop.
    pub mean_rate_per_s: Option<f64>,
    /// Prompt length distribution (`lognormal:2000,1`); `null` when lengths come from a file.
    pub input: Option<String>,
    /// Output length distribution; `null` when lengths come from a file.
    pub output: Option<String>,
    /// The lengths-only file sampled for (input, output) pairs, as given; `null`: none.
    pub lengths_from: Option<String>,
    /// The replayed trace file, as given; `null` unless `kind` is `trace`.
    pub trace: Option<String>,
    /// Replay speed-up (arrival times divided by it); `null`: the recorded rate, or no trace.
    pub trace_speed: Option<f64>,
    /// The window of the trace kept, `[start, end]` seconds of the file (end `null`: to the end).
    pub window_s: Option<(f64, Option<f64>)>,
    /// Closed-loop users; `null` unless `kind` is `closed_loop`.
    pub users: Option<u32>,
    /// At most this many requests; `null`: no request limit.
    pub requests_limit: Option<u64>,
    /// Arrivals only before this time (for a closed loop: where the run stops); `null`: no
    /// time limit.
    pub duration_limit_s: Option<f64>,
    /// Mean prompt tokens of the source (the distribution's, or the trace's as replayed).
    pub mean_input_tokens: f64,
    /// Mean output tokens of the source.
    pub mean_output_tokens: f64,
    /// Seed of the simulation's random number generator.
    pub seed: u64,
}

/// Latency targets; a request counts toward goodput when it meets every target given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SloReport {
    /// Time-to-first-token target; `null` when not given.
    pub ttft_s: Option<f64>,
    /// Time-per-output-token target; `null` when not given.
    pub tpot_s: Option<f64>,
}

/// Conservation: `arrived = completed + running + queued + rejected + dropped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    /// Requests that arrived during the run.
    pub arrived: u64,
    /// Requests whose last output token was produced.
    pub completed: u64,
    /// Admitted and unfinished at the end (a horizon or closed-loop duration cut the run).
    pub running: u64,
    /// Never admitted by the end.
    pub queued: u64,
    /// Refused on arrival: the whole context exceeds what one replica's KV cache or the
    /// model's context window can ever hold.
    pub rejected: u64,
    /// Dropped on arrival: the replica already held its most waiting requests
    /// (`scheduler.max_waiting`); a run that drops any is overloaded.
    pub dropped: u64,
}

/// Percentiles over completed requests (TPOT over those with more than one output token).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencyReport {
    /// Arrival to admission (first prompt token entering a step).
    pub queue_s: PercentilesReport,
    /// Arrival to first output token.
    pub ttft_s: PercentilesReport,
    /// Time per output token after the first: `(e2e − ttft) / (output − 1)` per request.
    pub tpot_s: PercentilesReport,
    /// Gaps between consecutive output tokens, over every token after each request's first.
    pub itl_s: PercentilesReport,
    /// Arrival to last output token.
    pub e2e_s: PercentilesReport,
}

/// Work completed per second of simulated time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThroughputReport {
    /// Completed requests over the duration.
    pub requests_per_s: f64,
    /// Prompt tokens processed per second, all GPUs.
    pub input_tokens_per_s: f64,
    /// Output tokens produced per second, all GPUs.
    pub output_tokens_per_s: f64,
    /// `input_tokens_per_s` over the fleet's GPUs.
    pub input_tokens_per_s_per_gpu: f64,
    /// `output_tokens_per_s` over the fleet's GPUs.
    pub output_tokens_per_s_per_gpu: f64,
    /// Completed requests per second that met the SLOs; `null` without SLOs.
    pub goodput_requests_per_s: Option<f64>,
    /// The share of completed requests that met the SLOs; `null` without SLOs.
    pub goodput_fraction: Option<f64>,
}

/// KV-cache capacity and how full it ran.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KvReport {
    /// KV-cache capacity of the fleet in tokens.
    pub capacity_tokens: u64,
    /// Blocks in use at the busiest moment over blocks available, all replicas.
    pub peak_fraction: f64,
    /// Time-averaged blocks in use over blocks available, all replicas.
    pub mean_fraction: f64,
    /// Prompt tokens served from the prefix cache over prompt tokens looked up; `null` when
    /// the workload carries no prefix hashes or caching is off.
    pub prefix_hit_rate: Option<f64>,
}

/// What was simulated, as the caller resolved it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulateSetup {
    /// The replica pools (see [`SimulateReport::pools`]).
    pub pools: Vec<PoolReport>,
    /// How requests were spread over replicas.
    pub router: Router,
    /// The prefill-to-decode link; `None` without disaggregation.
    pub kv_transfer: Option<KvTransferReport>,
    /// Where the requests came from.
    pub workload: WorkloadReport,
    /// Latency targets; `None` when none was given.
    pub slo: Option<SloReport>,
    /// Whether the event-leaping engine ran (else the reference).
    pub leap: bool,
}

impl SimulateReport {
    /// The report of run `r` of `setup`, without a cost (see [`SimCostReport::new`]).
    pub fn new(setup: SimulateSetup, r: &SimReport) -> SimulateReport {
        let d = r.duration_s.max(f64::MIN_POSITIVE);
        let gpus = f64::from(r.gpus.max(1));
        let goodput_fraction = r.goodput_requests.map(|g| {
            if r.completed > 0 {
                g as f64 / r.completed as f64
            } else {
                0.0
            }
        });
        SimulateReport {
            pools: setup.pools,
            router: setup.router.into(),
            kv_transfer: setup.kv_transfer,
            workload: setup.workload,
            slo: setup.slo,
            engine: if setup.leap { "leap" } else { "reference" },
            gpus: r.gpus,
            duration_s: r.duration_s,
            steps: r.steps,
            requests: RequestCounts {
                arrived: r.arrived,
                completed: r.completed,
                running: r.running,
                queued: r.queued,
                rejected: r.rejected,
                dropped: r.dropped,
            },
            latency: LatencyReport {
                queue_s: r.queue.into(),
                ttft_s: r.ttft.into(),
                tpot_s: r.tpot.into(),
                itl_s: r.itl.into(),
                e2e_s: r.e2e.into(),
            },
            throughput: ThroughputReport {
                requests_per_s: r.completed as f64 / d,
                input_tokens_per_s: r.input_tokens_per_s,
                output_tokens_per_s: r.output_tokens_per_s,
                input_tokens_per_s_per_gpu: r.input_tokens_per_s / gpus,
                output_tokens_per_s_per_gpu: r.output_tokens_per_s_per_gpu,
                goodput_requests_per_s: r.goodput_rps,
                goodput_fraction,
            },
            utilization: r.utilization,
            mfu: r.mfu,
            mbu: r.mbu,
            kv: KvReport {
                capacity_tokens: r.kv_capacity_tokens,
                peak_fraction: r.kv_peak_fraction,
                mean_fraction: r.kv_mean_fraction,
                prefix_hit_rate: r.prefix_hit_rate,
            },
            preemptions: r.preemptions,
            train_overruns: r.train_overruns,
            overloaded: r.overloaded,
            cost: None,
        }
    }
}

impl PoolReport {
    /// `replicas` replicas of `dep` scheduled by `scheduler`, in role `role`.
    pub fn new(
        role: Pool,
        replicas: u32,
        dep: &Deployment,
        scheduler: SchedulerConfig,
    ) -> PoolReport {
        PoolReport {
            role: role.into(),
            replicas,
            model: ModelSummary::of(dep),
            hardware: HardwareSummary::of(dep),
            layout: LayoutReport::of(dep),
            precisions: PrecisionsReport::of(dep),
            params: params_of(dep),
            scheduler: scheduler.into(),
        }
    }
}

/// How arrivals were spread over replicas (the JSON form of `servemath_sim::Router`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouterReport {
    /// Each replica of the pool in turn.
    RoundRobin,
    /// Fewest running plus waiting requests.
    LeastOutstanding,
    /// Lowest KV-cache occupancy.
    LeastKv,
    /// Most cached prompt-prefix blocks for the request.
    PrefixAffinity,
}

impl From<Router> for RouterReport {
    fn from(r: Router) -> Self {
        match r {
            Router::RoundRobin => RouterReport::RoundRobin,
            Router::LeastOutstanding => RouterReport::LeastOutstanding,
            Router::LeastKv => RouterReport::LeastKv,
            Router::PrefixAffinity => RouterReport::PrefixAffinity,
        }
    }
}

/// Which part of the work a pool's replicas do (the JSON form of `servemath_sim::Pool`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolRole {
    /// Prefill and decode on the same replica.
    Unified,
    /// Prefill only, handing the KV cache to a decode replica.
    Prefill,
    /// Decode only.
    Decode,
}

impl From<Pool> for PoolRole {
    fn from(p: Pool) -> Self {
        match p {
            Pool::Unified => PoolRole::Unified,
            Pool::Prefill => PoolRole::Prefill,
            Pool::Decode => PoolRole::Decode,
        }
    }
}

/// A replica's scheduler and its limits (the JSON form of `servemath_sim::SchedulerConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SchedulerReport {
    /// How each step is composed.
    pub policy: PolicyReport,
    /// Most sequences running at once.
    pub max_seqs: u32,
    /// Most tokens in one step.
    pub max_batched_tokens: u32,
    /// KV-cache block size, tokens.
    pub block_tokens: u32,
    /// Whether cached prompt-prefix blocks are reused.
    pub prefix_caching: bool,
    /// Most requests waiting on one replica; arrivals beyond it are dropped.
    pub max_waiting: u32,
}

impl From<SchedulerConfig> for SchedulerReport {
    fn from(c: SchedulerConfig) -> Self {
        SchedulerReport {
            policy: c.policy.into(),
            max_seqs: c.max_seqs,
            max_batched_tokens: c.max_batched_tokens,
            block_tokens: c.block_tokens,
            prefix_caching: c.prefix_caching,
            max_waiting: c.max_waiting,
        }
    }
}

/// The scheduling policy, tagged by `kind` (the JSON form of `servemath_sim::Policy`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PolicyReport {
    /// A full batch (or a timeout), prefilled, then decoded to the end.
    Static {
        /// Sequences per batch.
        batch: u32,
        /// Seconds a partial batch waits after its oldest arrival.
        timeout_s: f64,
    },
    /// Iteration-level batching without chunking.
    Continuous,
    /// Chunked prefill.
    Chunked,
    /// A step departs every period.
    Train {
        /// Seconds between departures.
        period_s: f64,
    },
}

impl PolicyReport {
    /// The policy's name, as its `kind` tag: `static`, `continuous`, `chunked` or `train`.
    pub fn name(&self) -> &'static str {
        match self {
            PolicyReport::Static { .. } => "static",
            PolicyReport::Continuous => "continuous",
            PolicyReport::Chunked => "chunked",
            PolicyReport::Train { .. } => "train",
        }
    }
}

impl From<Policy> for PolicyReport {
    fn from(p: Policy) -> Self {
        match p {
            Policy::Static { batch, timeout_s } => PolicyReport::Static { batch, timeout_s },
            Policy::Continuous => PolicyReport::Continuous,
            Policy::Chunked => PolicyReport::Chunked,
            Policy::Train { period_s } => PolicyReport::Train { period_s },
        }
    }
}

/// p50 / p90 / p99 / max and mean of one latency, seconds; every field `null` when there is no
/// sample (the JSON form of `servemath_sim::Percentiles`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PercentilesReport {
    /// Exact mean.
    pub mean: f64,
    /// Median, within 0.1 %.
    pub p50: f64,
    /// 90th percentile, within 0.1 %.
    pub p90: f64,
    /// 99th percentile, within 0.1 %.
    pub p99: f64,
    /// Exact largest value.
    pub max: f64,
}

impl From<Percentiles> for PercentilesReport {
    fn from(p: Percentiles) -> Self {
        PercentilesReport {
            mean: p.mean,
            p50: p.p50,
            p90: p.p90,
            p99: p.p99,
            max: p.max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Versioned;
    use servemath_cost::{Calibration, Parallelism, Precisions};
    use servemath_sim::workload::Request;
    use servemath_sim::{simulate, Policy, ReplicaSpec, SimConfig, Slo, Workload};
    use std::sync::Arc;

    fn deployment() -> Deployment {
        let (Ok(model), Ok(hw)) = (
            servemath_model::builtin("llama-3.1-8b"),
            servemath_hardware::Catalog::builtin()
                .get("h100-sxm")
                .cloned(),
        ) else {
            panic!("built-in model or hardware missing");
        };
        let prec = Precisions::defaults_for(&model, |p| hw.peak_flop_per_s(p).is_ok());
        let params = Calibration::builtin().for_family(&hw.family);
        Deployment::new(&model, &hw, Parallelism::default(), prec, params)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_run_reports_counts_goodput_and_its_schema() {
        let dep = Arc::new(deployment());
        let scheduler = SchedulerConfig::vllm(Policy::Chunked);
        let replica = ReplicaSpec {
            deployment: dep.clone(),
            scheduler,
            pool: Pool::Unified,
        };
        let cfg = SimConfig::new(vec![replica], Router::RoundRobin).slo(Slo {
            ttft_s: 10.0,
            tpot_s: 1.0,
        });
        // Seven requests 0.3 s apart, each easily within the SLOs.
        let reqs = (0..7).map(|i| Request::new(0.3 * f64::from(i), 500, 20));
        let sim = simulate(cfg, Workload::Open(Box::new(reqs))).unwrap_or_else(|e| panic!("{e}"));
        let setup = SimulateSetup {
            pools: vec![PoolReport::new(Pool::Unified, 1, &dep, scheduler)],
            router: Router::RoundRobin,
            kv_transfer: None,
            workload: WorkloadReport {
                kind: "trace",
                arrivals: None,
                mean_rate_per_s: None,
                input: None,
                output: None,
                lengths_from: None,
                trace: Some("inline".into()),
                trace_speed: None,
                window_s: None,
                users: None,
                requests_limit: None,
                duration_limit_s: None,
                mean_input_tokens: 500.0,
                mean_output_tokens: 20.0,
                seed: 0,
            },
            slo: Some(SloReport {
                ttft_s: Some(10.0),
                tpot_s: Some(1.0),
            }),
            leap: true,
        };
        let r = SimulateReport::new(setup, &sim);
        assert_eq!(r.requests.completed, 7);
        // Every request met the SLOs: the fraction is exactly 1, not 1 + rounding.
        assert_eq!(r.throughput.goodput_fraction, Some(1.0));
        let json = serde_json::to_string(&Versioned::new(r)).unwrap_or_default();
        assert!(
            json.starts_with(
                r#"{"schema_version":"servemath.simulate/1","pools":[{"role":"unified""#
            ),
            "{json}"
        );
    }
}

#[cfg(test)]
mod cost_tests {
    use super::*;

    #[test]
    fn the_cost_report_copies_the_one_run_cost_rule() {
        // $2 per GPU-hour, 4 GPUs for one hour, a quarter of busy time in prefill, 1 M prompt
        // and 0.1 M output tokens: servemath_econ::run_cost's figures ($8; $2 and $60 per
        // Mtok, derived in its own test), copied field by field.
        let r = SimReport {
            gpus: 4,
            duration_s: 3600.0,
            input_tokens_per_s: 1e6 / 3600.0,
            output_tokens_per_s: 1e5 / 3600.0,
            prefill_time_share: 0.25,
            ..SimReport::default()
        };
        let c = SimCostReport::new(2.0, &r);
        let rule = servemath_econ::run_cost(2.0, 4.0, 3600.0, 0.25, 1e6, 1e5);
        assert!((c.total_usd - rule.total_usd).abs() < 1e-9);
        assert!((c.input_usd_per_mtok - rule.input_usd_per_mtok).abs() < 1e-9);
        assert!((c.output_usd_per_mtok - rule.output_usd_per_mtok).abs() < 1e-9);
        assert!((c.blended_usd_per_mtok - rule.blended_usd_per_mtok).abs() < 1e-9);
        assert!((c.usd_per_gpu_hour - 2.0).abs() < 1e-12);
    }
}
