//! Re-scoring in the simulator, so that tails count: each candidate's unit (or as many units
//! as share one scale-up domain, behind a least-outstanding router) is offered a fraction of
//! its analytic capacity with the workload's arrival shape and lengths, and judged on its p99
//! TTFT and TPOT over a window sized to its own steady state ([`Window`]). Candidates run in
//! parallel, each building its deployments inside its worker (the simulator shares them by
//! `Rc`).

use crate::analytic::{Candidate, Link, Shape};
use crate::error::SearchError;
use crate::space::SearchSpec;
use crate::traffic::Traffic;
use rayon::prelude::*;
use servemath_cost::{Deployment, Parallelism, Precisions};
use servemath_sim::{
    simulate, Histogram, KvTransfer, Percentiles, Policy, Pool, ReplicaSpec, Router,
    SchedulerConfig, SimConfig, SimReport,
};
use std::sync::Arc;

/// How candidates are simulated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimOptions {
    /// Offered load as a fraction of each candidate's analytic capacity, in (0, 1.5].
    pub load: f64,
    /// Units simulated side by side: as many as share one scale-up domain, at most this.
    pub max_units: u32,
    /// How many requests each candidate is simulated for.
    pub window: Window,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            load: 0.8,
            max_units: 8,
            window: Window::default(),
        }
    }
}

/// Each candidate's simulation window, sized from its own analytic figures to reach steady
/// state and measure it, and no longer (a fixed window of the workload's would simulate a
/// 44-GPU unit for 57,000 requests where a 4-GPU one gets 10,000, neither needing that many).
///
/// The unit of time is the candidate's **turnover**: its analytic end-to-end latency
/// `TTFT + mean output · TPOT`, in which a whole batch is replaced. By Little's law the
/// requests arriving in one turnover are as many as the unit holds in steady state, so:
///
/// - **warm-up**: the first `settle_turnovers` turnovers of requests fill the empty unit to its
///   steady population; their latencies (shorter: they met an empty unit) are not counted;
/// - **measured**: the next `max(measured_requests, measured_turnovers · turnover)` requests,
///   whose p50 and p99 TTFT and TPOT are reported;
/// - **cool-down**: `settle_turnovers` more turnovers of requests keep the unit full while the
///   last measured ones finish (without them those would finish in a draining unit, faster).
///
/// The window is cut only where the workload's own window is longer and its arrivals are
/// stationary (Poisson or gamma); a trace, a daily profile or a shorter window (`--requests
/// 300`) is simulated whole and every request counted, as before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Fewest requests measured after the warm-up (default [`MEASURED_REQUESTS`]). 2,000 put
    /// 20 requests above the p99, whose rank then has a binomial standard error of
    /// `sqrt(2000 · 0.01 · 0.99) ≈ 4.4` of them: the p99 read lies between the 98.8th and
    /// 99.2nd percentiles at one sigma. Plausible from 1,000 (a rough p99) to 20,000 (tails
    /// resolved to a tenth of that); a value beyond the workload's window simulates it whole.
    pub measured_requests: u64,
    /// Fewest turnovers measured (default 4): one batch's latencies are correlated (they share
    /// its occupancy), so the measured span holds several independent batches.
    pub measured_turnovers: f64,
    /// Turnovers of warm-up, and of cool-down (default 1).
    pub settle_turnovers: f64,
}

/// The default of [`Window::measured_requests`].
pub const MEASURED_REQUESTS: u64 = 2000;

impl Default for Window {
    fn default() -> Self {
        Window {
            measured_requests: MEASURED_REQUESTS,
            measured_turnovers: 4.0,
            settle_turnovers: 1.0,
        }
    }
}

/// A candidate's window in requests: those before `measured.start` warm up, those in
/// `measured` count, the rest cool down.
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    measured: std::ops::Range<u64>,
    total: u64,
}

impl Window {
    fn validate(&self) -> Result<(), SearchError> {
        if self.measured_requests < 100 {
            return Err(SearchError::invalid(
                "measured_requests",
                self.measured_requests,
                "must be at least 100: a p99 of fewer rests on no request at all",
            ));
        }
        for (field, v) in [
            ("measured_turnovers", self.measured_turnovers),
            ("settle_turnovers", self.settle_turnovers),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(SearchError::invalid(
                    field,
                    v,
                    "must be a finite count, at least 0",
                ));
            }
        }
        Ok(())
    }

    /// The window of a unit offered `rate_per_s` whose turnover is `turnover_s`.
    fn plan(&self, rate_per_s: f64, turnover_s: f64) -> Planned {
        let turnover = (rate_per_s * turnover_s).max(1.0);
        let settle = (self.settle_turnovers * turnover).ceil() as u64;
        let measured = self
            .measured_requests
            .max((self.measured_turnovers * turnover).ceil() as u64);
        let end = settle.saturating_add(measured);
        Planned {
            measured: settle..end,
            total: end.saturating_add(settle),
        }
    }
}

/// What the simulator made of one candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimScore {
    /// Units simulated side by side: as many as share one scale-up domain, from 1 to
    /// [`SimOptions::max_units`].
    pub units: u32,
    /// GPUs of all the units simulated.
    pub gpus: u32,
    /// Offered requests per second, all units.
    pub rate_per_s: f64,
    /// Requests that arrived in the run, warm-up and cool-down included.
    pub arrived: u64,
    /// Of those, the requests that finished.
    pub completed: u64,
    /// Requests the latency percentiles rest on: those after the warm-up and before the
    /// cool-down of a sized window, else every completed one.
    pub measured: u64,
    /// Median time to first token of the measured requests, in seconds (NaN when none was
    /// measured).
    pub ttft_p50_s: f64,
    /// 99th-percentile time to first token of the measured requests, in seconds (NaN when
    /// none was measured).
    pub ttft_p99_s: f64,
    /// Median time per output token of the measured requests with more than one output
    /// token, in seconds (NaN when there are none).
    pub tpot_p50_s: f64,
    /// 99th-percentile time per output token, as `tpot_p50_s`, in seconds.
    pub tpot_p99_s: f64,
    /// Output tokens/s per GPU the fleet carries: the offered load (every request completes
    /// in an open-loop run; a run that cannot keep up is flagged `overloaded` instead), so
    /// that the ramp-up and drain of a short run do not count against it.
    pub output_tokens_per_s_per_gpu: f64,
    /// Busy time over elapsed time, averaged over replicas, in \[0, 1\]: between the first
    /// and the last measured arrival for a sized window, over the whole run otherwise.
    pub utilization: f64,
    /// Sequences evicted (and later recomputed) because the KV cache ran out, whole run.
    pub preemptions: u64,
    /// The run could not keep up: the requests waiting when the last one arrived exceeded
    /// 5 % of arrivals, so latency grows without bound.
    pub overloaded: bool,
    /// p99 TTFT and p99 TPOT within the targets, and not overloaded.
    pub meets_slo: bool,
    /// Dollars per million output tokens at the simulated throughput, with the GPU-hour
    /// price at the simulated utilization; `None` without a price.
    pub usd_per_m_output_tokens: Option<f64>,
}

impl SimScore {
    /// The worst ratio of a p99 latency to its target (infinite when overloaded).
    pub fn miss(&self, slo: &servemath_sim::Slo) -> f64 {
        if self.overloaded || self.measured == 0 {
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
        self.window.validate()
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
            // The one KV-link rule, for the unit the analytic pass chose the link for.
            let unit_gpus = u64::from(prefill_replicas) * u64::from(prefill.gpus())
                + u64::from(decode_replicas) * u64::from(decode.gpus());
            let handoff = servemath_cost::kv_link(hw, hw, prefill.gpus(), unit_gpus)
                .map_err(servemath_cost::DeployError::from)?;
            debug_assert_eq!(Link::from(handoff.kind), link);
            let kv = KvTransfer {
                bytes_per_s: handoff.bytes_per_s,
                latency_s: handoff.latency_s,
            };
            let mut replicas = vec![p; (prefill_replicas * units) as usize];
            replicas.extend(vec![d; (decode_replicas * units) as usize]);
            Ok((replicas, Some(kv)))
        }
    }
}

/// Simulates one candidate under `traffic` at `opts.load` of its capacity, over a window
/// sized by `opts.window`.
///
/// Fails with [`SearchError::Invalid`] when `opts` is out of range or `traffic` has no rate,
/// and with the deployment's, the workload's or the simulator's error when they refuse.
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
    let turnover_s = c.ttft_s + traffic.mean_output_tokens() * c.tpot_s;
    let plan = opts.window.plan(rate, turnover_s);
    let (workload, cut) = traffic.at_rate_at_most(rate, plan.total)?;
    let (replicas, kv_transfer) = fleet(spec, c, units)?;
    let cfg = SimConfig::new(replicas, Router::LeastOutstanding)
        .slo(spec.slo)
        .kv_transfer(kv_transfer)
        .keep_records(cut)
        // The step spans give the utilization of the measured span (below).
        .keep_steps(cut);
    let sim = simulate(cfg, workload)?;
    let measured = if cut {
        Measured::of(&sim, &plan.measured)
    } else {
        Measured {
            requests: sim.completed,
            ttft: sim.ttft,
            tpot: sim.tpot,
            utilization: sim.utilization,
        }
    };
    let offered = rate * traffic.mean_output_tokens();
    Ok(score(spec, c, units, rate, offered, &sim, &measured))
}

/// The latencies and utilization a score is judged on.
struct Measured {
    requests: u64,
    ttft: Percentiles,
    tpot: Percentiles,
    utilization: f64,
}

impl Measured {
    /// Of the requests that arrived `within` (ids count arrivals from 0), and the busy time
    /// of the replicas between the first and the last of those arrivals: the whole run's
    /// utilization would count the warm-up and the drain after the last arrival, when a
    /// short window's prefill pool sits idle for a good part of it.
    fn of(sim: &SimReport, within: &std::ops::Range<u64>) -> Measured {
        let (mut ttft, mut tpot) = (Histogram::default(), Histogram::default());
        let mut requests = 0;
        let (mut from_s, mut to_s) = (f64::INFINITY, f64::NEG_INFINITY);
        for r in sim.records.iter().filter(|r| within.contains(&r.id)) {
            requests += 1;
            ttft.add(r.ttft_s());
            // As the simulator counts it: a one-token output has no time per output token.
            if r.output_tokens > 1 {
                tpot.add(r.tpot_s());
            }
            from_s = from_s.min(r.arrival_s);
            to_s = to_s.max(r.arrival_s);
        }
        let busy_s: f64 = sim
            .step_spans
            .iter()
            .map(|s| (s.end_s.min(to_s) - s.start_s.max(from_s)).max(0.0))
            .sum();
        let replicas = sim
            .step_spans
            .iter()
            .map(|s| s.replica + 1)
            .max()
            .unwrap_or(1);
        let span_s = to_s - from_s;
        Measured {
            requests,
            ttft: (&ttft).into(),
            tpot: (&tpot).into(),
            utilization: if span_s > 0.0 {
                busy_s / (span_s * f64::from(replicas))
            } else {
                sim.utilization
            },
        }
    }
}

fn score(
    spec: &SearchSpec,
    c: &Candidate,
    units: u32,
    rate: f64,
    offered_tokens_per_s: f64,
    sim: &SimReport,
    m: &Measured,
) -> SimScore {
    let meets = !sim.overloaded
        && m.requests > 0
        && m.ttft.p99 <= spec.slo.ttft_s
        && m.tpot.p99 <= spec.slo.tpot_s;
    let opt = &spec.hardware[c.hardware];
    let carried = if sim.overloaded {
        sim.output_tokens_per_s
    } else {
        offered_tokens_per_s
    };
    let gpus = f64::from(sim.gpus.max(1));
    let usd = opt
        .usd_per_gpu_hour_at(m.utilization)
        .map(|p| servemath_econ::usd_per_mtok(p, gpus, carried));
    SimScore {
        units,
        gpus: sim.gpus,
        rate_per_s: rate,
        arrived: sim.arrived,
        completed: sim.completed,
        measured: m.requests,
        ttft_p50_s: m.ttft.p50,
        ttft_p99_s: m.ttft.p99,
        tpot_p50_s: m.tpot.p50,
        tpot_p99_s: m.tpot.p99,
        output_tokens_per_s_per_gpu: carried / gpus,
        utilization: m.utilization,
        preemptions: sim.preemptions,
        overloaded: sim.overloaded,
        meets_slo: meets,
        usd_per_m_output_tokens: usd.filter(|u| u.is_finite()),
    }
}

/// Simulates each of `candidates` with [`simulate_candidate`], in parallel; results in the
/// same order, each failing on its own.
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
