//! Re-scoring in the simulator, so that tails count: each candidate's unit (or as many units
//! as share one scale-up domain, behind a least-outstanding router) is offered a fraction of
//! its analytic capacity with the workload's arrival shape and lengths, and judged on its p99
//! TTFT and TPOT.

use crate::analytic::{Candidate, Link, Shape};
use crate::error::SearchError;
use crate::space::SearchSpec;
use crate::traffic::Traffic;
use rayon::prelude::*;
use servemath_cost::{Deployment, Parallelism, Precisions};
use servemath_sim::{
    simulate, KvTransfer, Policy, Pool, ReplicaSpec, Router, SchedulerConfig, SimConfig, SimReport,
};
use std::sync::Arc;

/// How candidates are simulated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimOptions {
    /// Offered load as a fraction of each candidate's analytic capacity, in (0, 1.5].
    pub load: f64,
    /// Units simulated side by side: as many as share one scale-up domain, at most this.
    pub max_units: u32,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            load: 0.8,
            max_units: 8,
        }
    }
}

/// What the simulator made of one candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimScore {
    /// Units simulated side by side, and their GPUs.
    pub units: u32,
    pub gpus: u32,
    /// Offered requests per second, all units.
    pub rate_per_s: f64,
    pub arrived: u64,
    pub completed: u64,
    pub ttft_p50_s: f64,
    pub ttft_p99_s: f64,
    pub tpot_p50_s: f64,
    pub tpot_p99_s: f64,
    /// Output tokens/s per GPU the fleet carries: the offered load (every request completes
    /// in an open-loop run; a run that cannot keep up is flagged `overloaded` instead), so
    /// that the ramp-up and drain of a short run do not count against it.
    pub output_tokens_per_s_per_gpu: f64,
    /// Busy time over the run, averaged over replicas.
    pub utilization: f64,
    pub preemptions: u64,
    pub overloaded: bool,
    /// p99 TTFT and p99 TPOT within the targets, and not overloaded.
    pub meets_slo: bool,
    /// Dollars per million output tokens at the simulated throughput.
    pub usd_per_m_output_tokens: Option<f64>,
}

impl SimScore {
    /// The worst ratio of a p99 latency to its target (infinite when overloaded).
    pub fn miss(&self, slo: &servemath_sim::Slo) -> f64 {
        if self.overloaded || self.completed == 0 {
            return f64::INFINITY;
        }
        (self.ttft_p99_s / slo.ttft_s).max(self.tpot_p99_s / slo.tpot_s)
    }
}

impl SimOptions {
    fn validate(&self) -> Result<(), SearchError> {
        if !(self.load.is_finite() && self.load > 0.0 && self.load <= 1.5) {
            return Err(SearchError::invalid(
                "load",
                self.load,
                "must be in (0, 1.5]: a fraction of each candidate's capacity",
            ));
        }
        Ok(())
    }
}

/// A deployment whose activation workspace covers `step_tokens` (as the analytic pass sized it).
fn deployment(
    spec: &SearchSpec,
    c: &Candidate,
    par: Parallelism,
    prec: Precisions,
    step_tokens: u32,
) -> Result<Arc<Deployment>, SearchError> {
    let opt = &spec.hardware[c.hardware];
    let mut params = opt.params;
    params.max_batched_tokens = params.max_batched_tokens.max(f64::from(step_tokens));
    let dep = Deployment::new(&spec.model, &opt.hardware, par, prec, params)?;
    Ok(Arc::new(dep))
}

fn scheduler(max_seqs: u32, step_tokens: u32) -> SchedulerConfig {
    SchedulerConfig {
        max_seqs: max_seqs.max(1),
        max_batched_tokens: step_tokens.max(1),
        ..SchedulerConfig::vllm(Policy::Chunked)
    }
}

/// The replicas of `units` copies of the candidate's unit, and the KV link between pools.
fn fleet(
    spec: &SearchSpec,
    c: &Candidate,
    units: u32,
) -> Result<(Vec<ReplicaSpec>, Option<KvTransfer>), SearchError> {
    let hw = &spec.hardware[c.hardware].hardware;
    match c.shape {
        Shape::Aggregated { par } => {
            let spec = ReplicaSpec {
                deployment: deployment(spec, c, par, c.prec, c.step_tokens)?,
                scheduler: scheduler(c.batch, c.step_tokens),
                pool: Pool::Unified,
            };
            Ok((vec![spec; units as usize], None))
        }
        Shape::Disaggregated {
            prefill,
            prefill_replicas,
            decode,
            decode_replicas,
            link,
            prefill_step_tokens,
        } => {
            let p = ReplicaSpec {
                deployment: deployment(spec, c, prefill, c.prec, prefill_step_tokens)?,
                scheduler: scheduler(256, prefill_step_tokens),
                pool: Pool::Prefill,
            };
            let d = ReplicaSpec {
                deployment: deployment(spec, c, decode, c.prec, c.step_tokens)?,
                scheduler: scheduler(c.batch, c.step_tokens),
                pool: Pool::Decode,
            };
            let gpus = f64::from(prefill.gpus());
            let kv = match link {
                Link::ScaleUp => KvTransfer {
                    bytes_per_s: gpus * hw.scale_up_bytes_per_s,
                    latency_s: hw.scale_up_latency_s,
                },
                Link::ScaleOut => KvTransfer {
                    bytes_per_s: gpus * hw.scale_out_bytes_per_s.unwrap_or(f64::INFINITY),
                    latency_s: hw.scale_out_latency_s,
                },
            };
            let mut replicas = vec![p; (prefill_replicas * units) as usize];
            replicas.extend(vec![d; (decode_replicas * units) as usize]);
            Ok((replicas, Some(kv)))
        }
    }
}

/// Simulates one candidate under `traffic` at `opts.load` of its capacity.
pub fn simulate_candidate(
    spec: &SearchSpec,
    c: &Candidate,
    traffic: &Traffic,
    opts: &SimOptions,
) -> Result<SimScore, SearchError> {
    opts.validate()?;
    let domain = spec.hardware[c.hardware].hardware.scale_up_domain;
    let units = (domain / c.gpus).clamp(1, opts.max_units.max(1));
    let rate = f64::from(units) * c.requests_per_s * opts.load;
    let workload = traffic.at_rate(rate)?;
    let (replicas, kv_transfer) = fleet(spec, c, units)?;
    let cfg = SimConfig::new(replicas, Router::LeastOutstanding)
        .slo(spec.slo)
        .kv_transfer(kv_transfer);
    let sim = simulate(cfg, workload)?;
    let offered = rate * traffic.mean_output_tokens();
    Ok(score(spec, c, units, rate, offered, &sim))
}

fn score(
    spec: &SearchSpec,
    c: &Candidate,
    units: u32,
    rate: f64,
    offered_tokens_per_s: f64,
    sim: &SimReport,
) -> SimScore {
    let meets = !sim.overloaded
        && sim.completed > 0
        && sim.ttft.p99 <= spec.slo.ttft_s
        && sim.tpot.p99 <= spec.slo.tpot_s;
    let opt = &spec.hardware[c.hardware];
    let carried = if sim.overloaded {
        sim.output_tokens_per_s
    } else {
        offered_tokens_per_s
    };
    let gpus = f64::from(sim.gpus.max(1));
    let usd = opt
        .usd_per_gpu_hour_at(sim.utilization)
        .map(|p| servemath_econ::usd_per_mtok(p, gpus, carried));
    SimScore {
        units,
        gpus: sim.gpus,
        rate_per_s: rate,
        arrived: sim.arrived,
        completed: sim.completed,
        ttft_p50_s: sim.ttft.p50,
        ttft_p99_s: sim.ttft.p99,
        tpot_p50_s: sim.tpot.p50,
        tpot_p99_s: sim.tpot.p99,
        output_tokens_per_s_per_gpu: carried / gpus,
        utilization: sim.utilization,
        preemptions: sim.preemptions,
        overloaded: sim.overloaded,
        meets_slo: meets,
        usd_per_m_output_tokens: usd.filter(|u| u.is_finite()),
    }
}

/// Simulates each of `candidates`, in parallel; results in the same order.
pub fn rescore(
    spec: &SearchSpec,
    candidates: &[Candidate],
    traffic: &Traffic,
    opts: &SimOptions,
) -> Vec<Result<SimScore, SearchError>> {
    candidates
        .par_iter()
        .map(|c| simulate_candidate(spec, c, traffic, opts))
        .collect()
}
