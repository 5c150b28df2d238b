//! Fleet sizing: the smallest number of replicas that meets the latency targets at a demand's
//! peak, found with the simulator (the peak traffic replayed on `r` replicas behind a
//! least-outstanding router, judged on p99 TTFT and p99 TPOT), then what that fleet is in
//! GPUs, racks, megawatts and dollars, and the price of slack: the same peak at fixed target
//! utilizations with the tail latency each gives.
//!
//! The count is found by an exponential search from the analytic estimate and a bisection;
//! every trial uses the same seed, so runs at neighbouring counts see the same requests.

use crate::analytic::{largest, memory_use, steady, Steady};
use crate::error::SearchError;
use crate::space::MAX_BATCH;
use crate::traffic::Traffic;
use rayon::prelude::*;
use servemath_cost::Deployment;
use servemath_econ::CostInputs;
use servemath_sim::{simulate, Policy, Pool, ReplicaSpec, Router, SchedulerConfig, SimConfig, Slo};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One replica as the fleet runs it: its deployment (activation workspace sized for its
/// steps), its scheduler, and its analytic steady state.
#[derive(Debug, Clone)]
pub struct ReplicaPlan {
    /// The replica's deployment, its `max_batched_tokens` raised to the steady step's
    /// token budget so the activation workspace covers it.
    pub deployment: Deployment,
    /// Chunked prefill with `max_seqs` = `batch` and the steady step's token budget.
    pub scheduler: SchedulerConfig,
    /// Sequences per replica: `max_seqs`, or fewer when memory says so.
    pub batch: u32,
    /// The largest batch up to `batch` within the latency targets (cost model).
    pub slo_batch: u32,
    /// The steady state at `slo_batch`.
    pub steady: Steady,
    /// Requests per second one replica sustains at `slo_batch` (cost model).
    pub capacity_per_s: f64,
}

/// The plan for `dep` with at most `max_seqs` sequences of mean `input` + `output` tokens:
/// chunked prefill with the step budget the search uses. Its capacity is the steady state at
/// the largest of those batches whose TTFT and TPOT meet `slo` (at batch 1 when none does).
/// `None` when not one sequence fits.
pub fn replica_plan(
    dep: &Deployment,
    max_seqs: u32,
    input: f64,
    output: f64,
    slo: &Slo,
) -> Option<ReplicaPlan> {
    let context = input + output;
    let fits = |b: u32| {
        let s = steady(dep, f64::from(b), input, output);
        memory_use(dep, f64::from(b), context, s.step_tokens).fits
    };
    let batch = largest(max_seqs.min(MAX_BATCH), fits);
    if batch == 0 {
        return None;
    }
    let s = steady(dep, f64::from(batch), input, output);
    let step_tokens = s.step_tokens.ceil() as u32;
    let within = |b: u32| {
        let t = steady(dep, f64::from(b), input, output);
        t.ttft_s <= slo.ttft_s && t.tpot_s <= slo.tpot_s
    };
    let slo_batch = largest(batch, within).max(1);
    let at_slo = steady(dep, f64::from(slo_batch), input, output);
    // The scheduler's token budget also sizes the activation workspace the memory fit
    // reserves: one value, both owners.
    let mut params = dep.params();
    params.max_batched_tokens = params.max_batched_tokens.max(s.step_tokens.ceil());
    let deployment = dep.with_params(params).ok()?;
    Some(ReplicaPlan {
        deployment,
        scheduler: SchedulerConfig {
            max_seqs: batch,
            max_batched_tokens: step_tokens,
            ..SchedulerConfig::vllm(Policy::Chunked)
        },
        batch,
        slo_batch,
        steady: at_slo,
        capacity_per_s: at_slo.output_tokens_per_s / output,
    })
}

/// What to size.
#[derive(Debug, Clone)]
pub struct FleetSpec {
    /// The replica every fleet is made of (see [`replica_plan`]).
    pub replica: ReplicaPlan,
    /// The shape of the peak traffic; it is replayed at `peak_rate_per_s`.
    pub traffic: Traffic,
    /// The demand's peak, in requests per second: positive and finite.
    pub peak_rate_per_s: f64,
    /// Latency targets (p99 in the simulator), in seconds; `f64::INFINITY` where none is set.
    pub slo: Slo,
    /// No count above this is tried; at least 1.
    pub max_replicas: u32,
}

/// One simulated fleet size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// Replicas in the fleet.
    pub replicas: u32,
    /// GPUs of all the replicas.
    pub gpus: u32,
    /// Peak rate over the fleet's analytic capacity (above 1: more than the cost model says
    /// it sustains).
    pub utilization: f64,
    /// Requests that arrived in the run.
    pub arrived: u64,
    /// Of those, the requests that finished.
    pub completed: u64,
    /// Median time to first token, in seconds (NaN when nothing completed).
    pub ttft_p50_s: f64,
    /// 99th-percentile time to first token, in seconds (NaN when nothing completed).
    pub ttft_p99_s: f64,
    /// Median time per output token over requests with more than one output token, in
    /// seconds (NaN when there are none).
    pub tpot_p50_s: f64,
    /// 99th-percentile time per output token, as `tpot_p50_s`, in seconds.
    pub tpot_p99_s: f64,
    /// Output tokens/s the fleet produced over the run.
    pub output_tokens_per_s: f64,
    /// The fleet could not keep up: the requests waiting when the last one arrived exceeded
    /// 5 % of arrivals.
    pub overloaded: bool,
    /// p99 TTFT and p99 TPOT within the targets, something completed, and not overloaded.
    pub meets_slo: bool,
}

impl Trial {
    /// The worst ratio of a p99 latency to its target (infinite when overloaded).
    pub fn miss(&self, slo: &Slo) -> f64 {
        if self.overloaded || self.completed == 0 {
            return f64::INFINITY;
        }
        (self.ttft_p99_s / slo.ttft_s).max(self.tpot_p99_s / slo.tpot_s)
    }
}

/// The answer: the smallest count that meets the targets and the one below it, or, when no
/// count up to the limit does, the closest miss.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    /// The smallest replica count that meets the targets; `None` when none up to the limit
    /// does.
    pub smallest: Option<Trial>,
    /// The trial at `smallest − 1` replicas (absent when the smallest is 1).
    pub one_fewer: Option<Trial>,
    /// When infeasible: the trial nearest the targets.
    pub closest_miss: Option<Trial>,
    /// Why no count meets the targets, when none does.
    pub infeasible: Option<String>,
    /// Every trial run, by replica count.
    pub trials: Vec<Trial>,
}

impl FleetSpec {
    fn validate(&self) -> Result<(), SearchError> {
        if !(self.peak_rate_per_s.is_finite() && self.peak_rate_per_s > 0.0) {
            return Err(SearchError::invalid(
                "peak rate",
                self.peak_rate_per_s,
                "must be a positive, finite number of requests per second (zero demand needs no fleet)",
            ));
        }
        if self.max_replicas == 0 {
            return Err(SearchError::invalid(
                "max_replicas",
                0,
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// Simulates the peak on `replicas` replicas behind a least-outstanding router; fails
    /// when the traffic cannot be rescaled to the peak or the simulator refuses.
    pub fn trial(&self, replicas: u32) -> Result<Trial, SearchError> {
        let workload = self.traffic.at_rate(self.peak_rate_per_s)?;
        let spec = ReplicaSpec {
            deployment: Arc::new(self.replica.deployment.clone()),
            scheduler: self.replica.scheduler,
            pool: Pool::Unified,
        };
        let cfg =
            SimConfig::new(vec![spec; replicas as usize], Router::LeastOutstanding).slo(self.slo);
        let sim = simulate(cfg, workload)?;
        let meets = !sim.overloaded
            && sim.completed > 0
            && sim.ttft.p99 <= self.slo.ttft_s
            && sim.tpot.p99 <= self.slo.tpot_s;
        Ok(Trial {
            replicas,
            gpus: sim.gpus,
            utilization: self.peak_rate_per_s / (f64::from(replicas) * self.replica.capacity_per_s),
            arrived: sim.arrived,
            completed: sim.completed,
            ttft_p50_s: sim.ttft.p50,
            ttft_p99_s: sim.ttft.p99,
            tpot_p50_s: sim.tpot.p50,
            tpot_p99_s: sim.tpot.p99,
            output_tokens_per_s: sim.output_tokens_per_s,
            overloaded: sim.overloaded,
            meets_slo: meets,
        })
    }

    /// Replicas that put the peak at `utilization` of the fleet's analytic capacity.
    pub fn replicas_at(&self, utilization: f64) -> u32 {
        let r = (self.peak_rate_per_s / (utilization * self.replica.capacity_per_s)).ceil();
        r.clamp(1.0, f64::from(u32::MAX)) as u32
    }

    /// The price of slack: the peak on the fleet sized for each target utilization (those
    /// within the replica limit), as `(target, trial)` pairs in the order given. Fails with
    /// [`SearchError::Invalid`] for a target outside (0, 1], or as [`FleetSpec::trial`] does.
    pub fn at_utilizations(&self, targets: &[f64]) -> Result<Vec<(f64, Trial)>, SearchError> {
        for &u in targets {
            if !(u.is_finite() && u > 0.0 && u <= 1.0) {
                return Err(SearchError::invalid(
                    "utilization target",
                    u,
                    "must be in (0, 1]",
                ));
            }
        }
        // A target whose fleet exceeds the replica limit is left out, as sizing leaves it.
        targets
            .par_iter()
            .filter(|&&u| self.replicas_at(u) <= self.max_replicas)
            .map(|&u| Ok((u, self.trial(self.replicas_at(u))?)))
            .collect()
    }
}

/// Finds the smallest replica count meeting the targets at peak (see the module docs). An
/// infeasible demand is an answer, not an error: [`Sizing::infeasible`] says why. Fails with
/// [`SearchError::Invalid`] when the peak rate is not positive and finite or `max_replicas`
/// is 0, or as [`FleetSpec::trial`] does.
pub fn size(spec: &FleetSpec) -> Result<Sizing, SearchError> {
    spec.validate()?;
    let mut trials: BTreeMap<u32, Trial> = BTreeMap::new();
    let run = |r: u32, trials: &mut BTreeMap<u32, Trial>| -> Result<Trial, SearchError> {
        if let Some(t) = trials.get(&r) {
            return Ok(*t);
        }
        let t = spec.trial(r)?;
        trials.insert(r, t);
        Ok(t)
    };
    let max = spec.max_replicas;
    // Every replica at its analytic capacity is the least any fleet needs: beyond the limit
    // no simulation can succeed, and simulating it would take the limit's worth of replicas
    // under the whole peak (hours at 1e12 tokens a day).
    let needed = spec.replicas_at(1.0);
    if needed > max {
        return Ok(Sizing {
            smallest: None,
            one_fewer: None,
            closest_miss: None,
            infeasible: Some(format!(
                "the peak needs at least {needed} replicas at the cost model's capacity ({:.1} requests/s each), above the limit of {max} replicas tried",
                spec.replica.capacity_per_s
            )),
            trials: Vec::new(),
        });
    }
    let guess = needed;
    // Bracket: `lo` misses (0 always does), `hi` meets.
    let (mut lo, mut hi) = (0u32, None);
    let first = run(guess, &mut trials)?;
    if first.meets_slo {
        hi = Some(guess);
        let mut r = guess / 2;
        while r >= 1 {
            if run(r, &mut trials)?.meets_slo {
                hi = Some(r);
                r /= 2;
            } else {
                lo = r;
                break;
            }
        }
    } else {
        lo = guess;
        let mut last = first;
        while lo < max {
            let r = lo.saturating_mul(2).min(max);
            let t = run(r, &mut trials)?;
            if t.meets_slo {
                hi = Some(r);
                break;
            }
            // Doubling the fleet bought (almost) nothing: the targets sit below what an
            // unloaded replica achieves, and more replicas will not reach them.
            let saturated = !t.overloaded
                && !last.overloaded
                && t.miss(&spec.slo) > 0.98 * last.miss(&spec.slo);
            lo = r;
            last = t;
            if saturated {
                break;
            }
        }
    }
    let Some(mut hi) = hi else {
        let all: Vec<Trial> = trials.values().copied().collect();
        let closest = all
            .iter()
            .min_by(|a, b| a.miss(&spec.slo).total_cmp(&b.miss(&spec.slo)))
            .copied();
        let why = if lo >= max {
            format!("no replica count up to the limit of {max} meets the targets")
        } else {
            format!(
                "doubling to {lo} replicas no longer brings the tail latency down: the targets are below what an unloaded replica achieves"
            )
        };
        return Ok(Sizing {
            smallest: None,
            one_fewer: None,
            closest_miss: closest,
            infeasible: Some(why),
            trials: all,
        });
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if run(mid, &mut trials)?.meets_slo {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let smallest = trials.get(&hi).copied();
    let one_fewer = if hi > 1 {
        Some(run(hi - 1, &mut trials)?)
    } else {
        None
    };
    Ok(Sizing {
        smallest,
        one_fewer,
        closest_miss: None,
        infeasible: None,
        trials: trials.values().copied().collect(),
    })
}

/// What a fleet is in hardware, power and money.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Footprint {
    /// GPUs in the fleet.
    pub gpus: u32,
    /// Scale-up domains the GPUs fill (NVLink or XGMI systems; racks for NVL72).
    pub scale_up_domains: u32,
    /// Racks at the cost inputs' GPUs per rack; `None` without cost inputs.
    pub racks: Option<u32>,
    /// Mean draw at the meter at the fleet's mean utilization (system and PUE included).
    pub mw_at_meter: Option<f64>,
    /// Full draw at the meter: the power a site must provision; `None` without cost inputs
    /// or a TDP.
    pub mw_provisioned: Option<f64>,
    /// Dollars per held GPU-hour at the fleet's utilization; `None` without a price.
    pub usd_per_gpu_hour: Option<f64>,
    /// Dollars a year for all the GPUs (8,760 hours at `usd_per_gpu_hour`); `None` without a
    /// price.
    pub usd_per_year: Option<f64>,
}

/// The footprint of `gpus` GPUs in domains of `domain`, busy a fraction `utilization` of the
/// time, at `cost` (when there are cost inputs with the figures the mode needs).
pub fn footprint(gpus: u32, domain: u32, cost: Option<&CostInputs>, utilization: f64) -> Footprint {
    let u = utilization.clamp(servemath_econ::MIN_UTILIZATION, 1.0);
    let hour = cost.and_then(|c| servemath_econ::try_gpu_hour_cost(c, u).ok());
    let g = f64::from(gpus);
    let full_w = cost.and_then(|c| c.tdp_w.map(|t| t * c.server_power_over_tdp * c.pue));
    Footprint {
        gpus,
        scale_up_domains: gpus.div_ceil(domain.max(1)),
        racks: cost.map(|c| (g / c.gpus_per_rack).ceil() as u32),
        mw_at_meter: hour.and_then(|h| h.power_w_at_meter).map(|w| w * g / 1e6),
        mw_provisioned: full_w.map(|w| w * g / 1e6),
        usd_per_gpu_hour: hour.map(|h| h.total_usd).filter(|v| v.is_finite()),
        usd_per_year: hour
            .map(|h| h.total_usd * g * servemath_econ::HOURS_PER_YEAR)
            .filter(|v| v.is_finite()),
    }
}
