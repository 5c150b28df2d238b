//! A serving simulation as a request describes it, resolved into the simulator's inputs: the
//! workload (synthetic arrivals, a trace replay or a closed loop), the replicas (deployments,
//! schedulers, pools), the KV link between pools and the SLOs.
//!
//! The request mirrors a scenario file (`[workload]`, `[scheduler]`, `[fleet]`, `[slo]`):
//! values the user writes as text (`"90s"`, `"lognormal:2000,1.0"`) stay text until they are
//! resolved here, so every front end goes through the same parser and the same messages. A
//! message names a value by its request key (`workload.rate`) through the caller's
//! [`Spelling`], which the CLI turns into a flag or a file's key.

mod fleet;
mod workload;

pub use fleet::{fitting_deployment, kv_link, Link, MAX_BLOCK_TOKENS, MAX_REPLICAS};
pub use workload::{
    resolve_slo, resolve_workload, Expected, Source, WorkloadPlan, DEFAULT_DURATION_S,
    DEFAULT_INPUT, DEFAULT_OUTPUT, DEFAULT_RATE_PER_S, MAX_SIM_REQUESTS, MAX_USERS,
};

use crate::{DeploymentRequest, Diagnostic, Invalid, Spelling};
use servemath_econ::CostInputs;
use servemath_report::{KvTransferReport, SimCostReport, SimulateReport, SimulateSetup};
use servemath_sim::{simulate, ReplicaSpec, Router, SimConfig, SimReport, Slo};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A text the front end loaded (a trace, a lengths file), with the name to show in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedText {
    /// A path or any label the user recognises.
    pub name: String,
    /// The file's whole contents, parsed here.
    pub text: String,
}

/// Where requests come from (`[workload]`). Every field is optional; defaults are Poisson
/// arrivals at [`DEFAULT_RATE_PER_S`] for [`DEFAULT_DURATION_S`] with chat-like lengths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkloadRequest {
    /// Poisson arrivals at this many requests per second (`workload.rate`).
    pub rate: Option<f64>,
    /// An arrival process: `poisson:RATE`, `gamma:RATE,CV`, optionally `+daily:M0,...,M23`.
    pub arrivals: Option<String>,
    /// Arrivals stop at this time (`90s`, `30m`); a closed loop stops there.
    pub duration: Option<String>,
    /// At most this many requests.
    pub requests: Option<i64>,
    /// Prompt lengths: `fixed:N`, `uniform:LO,HI` or `lognormal:MEAN,SIGMA`.
    pub input: Option<String>,
    /// Output lengths, as `input`.
    pub output: Option<String>,
    /// (input, output) pairs sampled from a lengths file or a timed trace.
    pub lengths_from: Option<LoadedText>,
    /// A timed trace replayed with its own arrivals and lengths.
    pub trace: Option<LoadedText>,
    /// Replay the trace at this many times its recorded rate.
    pub trace_speed: Option<f64>,
    /// Keep the trace's arrivals in `START,END` seconds, shifted to start at 0.
    pub window: Option<String>,
    /// A closed loop of this many users.
    pub concurrency: Option<i64>,
    /// Seed of the arrival and length streams (0 by default).
    pub seed: Option<u64>,
}

/// Latency targets for goodput (`[slo]`), as durations (`2s`, `50ms`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SloRequest {
    /// Most time to first token a request may take and count as good (`slo.ttft`); positive.
    pub ttft: Option<String>,
    /// Most time per output token after the first (`slo.tpot`); positive.
    pub tpot: Option<String>,
}

/// How each replica schedules (`[scheduler]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchedulerRequest {
    /// `static`, `continuous`, `chunked` (default), `train` or `disagg`.
    pub kind: Option<String>,
    /// Most sequences a replica runs at once (256 by default), at least 1.
    pub max_seqs: Option<i64>,
    /// Tokens per step; also sizes the activation workspace the memory fit reserves.
    pub max_batched_tokens: Option<i64>,
    /// Tokens per KV block.
    pub block_size: Option<i64>,
    /// `static` only: requests per batch (32 by default), at least 1.
    pub static_batch: Option<i64>,
    /// `static` only: how long a partial batch waits after its first request before it runs
    /// (`500ms` by default).
    pub static_timeout: Option<String>,
    /// The train period: a duration, or `hbm` (the time to read the whole HBM once).
    pub period: Option<String>,
    /// Turn the prefix cache off (it is on by default): every prompt is prefilled in full.
    pub no_prefix_caching: bool,
    /// Most requests waiting on one replica; arrivals beyond it are dropped and counted.
    pub max_waiting: Option<i64>,
}

/// The replicas and how requests reach them (`[fleet]`).
#[derive(Debug, Clone, Default)]
pub struct FleetRequest {
    /// Unified replicas (1 by default).
    pub replicas: Option<i64>,
    /// `round-robin`, `least-outstanding` (default), `least-kv` or `prefix-affinity`.
    pub router: Option<String>,
    /// `disagg` only: replicas in the prefill pool (1 by default).
    pub prefill_replicas: Option<i64>,
    /// `disagg` only: replicas in the decode pool (1 by default).
    pub decode_replicas: Option<i64>,
    /// `disagg` only: the prefill pool's tensor-parallel degree; else the deployment's, or
    /// the smallest that fits.
    pub prefill_tp: Option<i64>,
    /// `disagg` only: the decode pool's tensor-parallel degree, as `prefill_tp`.
    pub decode_tp: Option<i64>,
    /// The prefill pool's deployment when its hardware differs from the main one.
    pub prefill_hardware: Option<DeploymentRequest>,
    /// The decode pool's deployment when its hardware differs from the main one.
    pub decode_hardware: Option<DeploymentRequest>,
}

/// Everything a simulation needs, with its sources loaded.
#[derive(Debug, Clone)]
pub struct SimulateRequest {
    /// Without a tensor-parallel degree, each pool gets the smallest that fits a request of
    /// the workload's mean context.
    pub deployment: DeploymentRequest,
    /// The replicas and the router (`[fleet]`).
    pub fleet: FleetRequest,
    /// Each replica's scheduler (`[scheduler]`).
    pub scheduler: SchedulerRequest,
    /// Where requests come from (`[workload]`).
    pub workload: WorkloadRequest,
    /// Latency targets for goodput (`[slo]`); none set means no goodput figures.
    pub slo: SloRequest,
    /// Price runs of identical decode steps in closed form (the leap); `false` steps one at a
    /// time (the reference engine).
    pub leap: bool,
}

/// The simulator's inputs, with the setup to report and what was chosen for the caller.
pub struct SimulationPlan {
    /// Every replica with its deployment, scheduler and pool, prefill pool first.
    pub replicas: Vec<ReplicaSpec>,
    /// How arriving requests are sent to replicas.
    pub router: Router,
    /// The KV link from prefill to decode replicas; `None` for unified replicas.
    pub kv_transfer: Option<Link>,
    /// Whether the run prices runs of identical decode steps in closed form.
    pub leap: bool,
    /// The resolved latency targets; `None` when the request set none.
    pub slo: Option<Slo>,
    /// Where the run stops (closed loops with a duration); `None`: when every request is done.
    pub horizon_s: Option<f64>,
    /// The request stream, ready for the simulator.
    pub workload: Source,
    /// Pools, router, KV link, workload and SLOs as the report states them.
    pub setup: SimulateSetup,
    /// How big the run will be, for a progress bar.
    pub expected: Expected,
    /// What was chosen or ignored for the caller (a TP degree, an option another scheduler
    /// takes).
    pub diagnostics: Vec<Diagnostic>,
}

/// Resolves a request into the simulator's inputs; every refusal names the value through
/// `spelling`.
pub fn plan(request: &SimulateRequest, spelling: &dyn Spelling) -> anyhow::Result<SimulationPlan> {
    let mut diagnostics = Vec::new();
    let workload = resolve_workload(&request.workload, spelling)?;
    let context = (workload.report.mean_input_tokens + workload.report.mean_output_tokens).ceil();
    let fleet = fleet::resolve(request, spelling, context, &mut diagnostics)?;
    let slo = resolve_slo(&request.slo, spelling)?;
    Ok(SimulationPlan {
        setup: SimulateSetup {
            pools: fleet.pools,
            router: fleet.router,
            kv_transfer: fleet.link.map(|l| KvTransferReport {
                link: l.name,
                bytes_per_s: l.link.bytes_per_s,
                latency_s: l.link.latency_s,
            }),
            workload: workload.report,
            slo: slo.map(|s| s.1),
            leap: request.leap,
        },
        replicas: fleet.replicas,
        router: fleet.router,
        kv_transfer: fleet.link,
        leap: request.leap,
        slo: slo.map(|s| s.0),
        horizon_s: workload.horizon_s,
        workload: workload.source,
        expected: workload.expected,
        diagnostics,
    })
}

/// What to keep of a run and how to follow it.
#[derive(Default)]
pub struct RunOptions {
    /// Keep one record per completed request (for per-request files and latency plots).
    pub keep_records: bool,
    /// Keep every step's span (for traces).
    pub keep_steps: bool,
    /// Sample the fleet's queue, batch, KV occupancy and throughput this often.
    pub timeseries_interval_s: Option<f64>,
    /// Called with (completed requests, simulated seconds) as the run goes.
    pub progress: Option<servemath_sim::Progress>,
    /// Raised by another thread to stop the run (`SimError::Cancelled`).
    pub cancel: Option<Arc<AtomicBool>>,
}

/// The cost inputs of each hardware entry in the fleet, by id, for the $ figures.
#[derive(Debug, Clone, Default)]
pub struct FleetCosts {
    /// Cost inputs keyed by hardware catalog id; one replica's hardware missing here drops the
    /// run's $ figures.
    pub by_hardware: BTreeMap<String, CostInputs>,
    /// Whether the caller set cost inputs: then they must price every replica; else a
    /// hardware entry without a price only drops the $ figures.
    pub given: bool,
}

/// A finished run: the report, the simulator's own output (records, steps, time series) and
/// the replicas it ran.
pub struct Simulated {
    /// The setup, latencies, throughput, goodput and $ figures: the JSON boundary's type.
    pub report: SimulateReport,
    /// The simulator's own output: summary, and records, steps and time series as asked.
    pub sim: SimReport,
    /// The replicas that ran, in the order the simulator numbers them.
    pub replicas: Vec<ReplicaSpec>,
}

/// Runs a plan and prices it: GPU time at each replica's hardware price charged to the run's
/// tokens.
pub fn run(
    plan: SimulationPlan,
    options: RunOptions,
    costs: &FleetCosts,
) -> anyhow::Result<Simulated> {
    let mut cfg = SimConfig::new(plan.replicas.clone(), plan.router)
        .leap(plan.leap)
        .keep_records(options.keep_records)
        .slo(plan.slo)
        .horizon_s(plan.horizon_s)
        .kv_transfer(plan.kv_transfer.map(|k| k.link))
        .timeseries_interval_s(options.timeseries_interval_s)
        .keep_steps(options.keep_steps);
    if let Some(progress) = options.progress {
        cfg = cfg.progress(progress);
    }
    if let Some(cancel) = options.cancel {
        cfg = cfg.cancel(cancel);
    }
    let sim = simulate(cfg, plan.workload.into_sim())?;
    let mut report = SimulateReport::new(plan.setup, &sim);
    report.cost = fleet_usd_per_gpu_hour(&plan.replicas, sim.utilization, costs)?
        .map(|price| SimCostReport::new(price, &sim));
    Ok(Simulated {
        report,
        sim,
        replicas: plan.replicas,
    })
}

/// Mean $ per held GPU-hour over the fleet at `utilization`, weighted by each replica's GPUs;
/// `None` when some replica's hardware has no price (and none was given).
pub fn fleet_usd_per_gpu_hour(
    replicas: &[ReplicaSpec],
    utilization: f64,
    costs: &FleetCosts,
) -> anyhow::Result<Option<f64>> {
    let u = utilization.clamp(servemath_econ::MIN_UTILIZATION, 1.0);
    let (mut usd, mut gpus) = (0.0, 0.0);
    for r in replicas {
        let Some(inputs) = costs.by_hardware.get(&r.deployment.hardware().id) else {
            return Ok(None);
        };
        let cost = match (servemath_econ::try_gpu_hour_cost(inputs, u), costs.given) {
            (Ok(c), _) => c,
            (Err(e), true) => return Err(e.into()),
            (Err(_), false) => return Ok(None),
        };
        let g = f64::from(r.deployment.gpus());
        usd += cost.total_usd * g;
        gpus += g;
    }
    Ok((gpus > 0.0).then(|| usd / gpus))
}

/// A count of at least 1 (replicas, users, batch sizes, token limits), at most `u32::MAX`.
fn count(
    v: Option<i64>,
    key: &'static str,
    spelling: &dyn Spelling,
) -> anyhow::Result<Option<u32>> {
    v.map(|n| match u32::try_from(n) {
        Ok(n) if n >= 1 => Ok(n),
        _ if n < 1 => {
            Err(Invalid(format!("{} = {n}: must be at least 1", spelling.name(key))).into())
        }
        _ => Err(Invalid(format!(
            "{} = {n}: must be at most {}",
            spelling.name(key),
            servemath_report::human::int(f64::from(u32::MAX))
        ))
        .into()),
    })
    .transpose()
}

/// A duration parsed by `parse`, its error naming the value.
fn duration(
    v: &Option<String>,
    key: &'static str,
    spelling: &dyn Spelling,
    parse: fn(&str) -> Result<f64, String>,
) -> anyhow::Result<Option<f64>> {
    v.as_ref()
        .map(|t| parse(t).map_err(|e| Invalid(format!("{}: {e}", spelling.name(key))).into()))
        .transpose()
}
