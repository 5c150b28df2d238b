//! What a simulation is given: the replicas with their deployments and scheduler settings,
//! the router, the optional features (SLOs, horizon, time series, KV link between pools), and
//! the checks that refuse a configuration the engine cannot run.

use crate::error::SimError;
use servemath_cost::Deployment;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The scheduling policy of a replica.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    /// Collect a full batch (or wait `timeout_s` after the first arrival), prefill it in one
    /// step, decode until every sequence is done; admit nobody meanwhile.
    Static {
        /// Sequences per batch (at least 1): a batch departs as soon as this many wait.
        batch: u32,
        /// Seconds a partial batch waits after its oldest arrival before departing anyway
        /// (finite, 0 or more; 0 sends whoever is waiting at once).
        timeout_s: f64,
    },
    /// Iteration-level batching without chunking (vLLM V0's default): a step is either a
    /// prefill of newly admitted prompts (preferred when one can be admitted) or a decode step
    /// of every running sequence.
    Continuous,
    /// Chunked prefill: every step decodes every running sequence and fills the rest of the
    /// token budget with prompt chunks (vLLM V1, SGLang, TensorRT-LLM).
    Chunked,
    /// Fixed-period trains: a step departs every `period_s` carrying whoever is ready, composed
    /// as in chunked prefill; a step longer than the period delays the next departure.
    Train {
        /// Seconds between departures (finite, above 0), counted from t = 0.
        period_s: f64,
    },
}

impl Policy {
    /// The policy's lower-case name as `--scheduler` spells it and JSON's `kind` writes it:
    /// `static`, `continuous`, `chunked` or `train`.
    pub fn name(&self) -> &'static str {
        match self {
            Policy::Static { .. } => "static",
            Policy::Continuous => "continuous",
            Policy::Chunked => "chunked",
            Policy::Train { .. } => "train",
        }
    }
}

/// Scheduler limits, with vLLM's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SchedulerConfig {
    /// How each step is composed from the running and waiting sequences.
    pub policy: Policy,
    /// Most sequences running at once (vLLM `max_num_seqs`, default 256).
    pub max_seqs: u32,
    /// Most tokens in one step (vLLM `max_num_batched_tokens`; 2048 with chunked prefill,
    /// 8192 here for whole-prompt prefill so long prompts fit in one step).
    pub max_batched_tokens: u32,
    /// KV-cache block size in tokens (vLLM `block_size`, default 16).
    pub block_tokens: u32,
    /// Reuse cached prompt-prefix blocks where requests carry block hashes (vLLM V1 enables
    /// automatic prefix caching by default).
    pub prefix_caching: bool,
    /// Most requests waiting for admission on one replica; an arrival beyond it is dropped
    /// and counted (`SimReport::dropped`), as a server's front end refuses work it cannot
    /// queue (TGI's `max_concurrent_requests`, SGLang's `max_queued_requests`, Triton's
    /// `max_queue_size`). At least 1; default [`DEFAULT_MAX_WAITING`].
    pub max_waiting: u32,
}

/// Requests one replica holds waiting by default: 10,000, minutes of queueing at a replica's
/// typical rate (far past any latency target), and at a few hundred bytes each a few MB per
/// replica, so that memory stays bounded however far the offered load exceeds capacity.
/// Plausible range 1,000 to 100,000 (`--max-waiting`).
pub const DEFAULT_MAX_WAITING: u32 = 10_000;

impl SchedulerConfig {
    /// vLLM-like defaults for `policy`.
    pub fn vllm(policy: Policy) -> SchedulerConfig {
        let max_batched_tokens = match policy {
            Policy::Chunked | Policy::Train { .. } => 2048,
            Policy::Static { .. } | Policy::Continuous => 8192,
        };
        SchedulerConfig {
            policy,
            max_seqs: 256,
            max_batched_tokens,
            block_tokens: 16,
            prefix_caching: true,
            max_waiting: DEFAULT_MAX_WAITING,
        }
    }
}

/// Which part of the work a replica does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// Prefill and decode on the same replica.
    Unified,
    /// Prefill only; finished prompts hand their KV cache to a decode replica.
    Prefill,
    /// Decode only, of sequences prefilled elsewhere.
    Decode,
}

/// The network between prefill and decode pools.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KvTransfer {
    /// Bytes per second one sequence's KV cache moves at (all sending GPUs together).
    /// Infinity is an instant link; otherwise above 0.
    pub bytes_per_s: f64,
    /// Seconds added to every hand-off on top of its transfer time (finite, 0 or more).
    pub latency_s: f64,
}

/// How arrivals are spread over replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Router {
    /// Each replica of the pool in turn, in index order.
    RoundRobin,
    /// Fewest running plus waiting requests (ties: lowest index).
    LeastOutstanding,
    /// Lowest fraction of KV blocks in use (at the replica's last step boundary).
    LeastKv,
    /// The replica whose prefix cache holds the most leading blocks of the prompt (ties and
    /// prompts without hashes: fewest outstanding), as prefix-aware routers do.
    PrefixAffinity,
}

/// One replica's deployment and scheduler.
#[derive(Clone)]
pub struct ReplicaSpec {
    /// The model on its hardware and layout, which prices every step and sizes the KV cache;
    /// shared, since replicas of a pool usually have the same one.
    pub deployment: Arc<Deployment>,
    /// The scheduling policy and its limits.
    pub scheduler: SchedulerConfig,
    /// Whether the replica prefills, decodes or does both.
    pub pool: Pool,
}

/// Latency targets for goodput: a completed request is good when its TTFT and its TPOT are
/// each at or below the target (definitions in `docs/metrics.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slo {
    /// Target time to first token, seconds (0 or more; infinity for no target).
    pub ttft_s: f64,
    /// Target time per output token, seconds (0 or more; infinity for no target). Requests
    /// with one output token have a TPOT of 0 and always meet it.
    pub tpot_s: f64,
}

/// Called every few thousand events with (completed requests, simulated seconds).
pub type Progress = Box<dyn FnMut(u64, f64) + Send>;

/// A simulation's configuration. Build it with `SimConfig::new` and the setters; `simulate`
/// checks it with `validate` before running.
#[non_exhaustive]
pub struct SimConfig {
    /// Every replica of every pool, indexed from 0 in this order (`Record::replica`). At
    /// least one; prefill replicas need decode replicas and the reverse.
    pub replicas: Vec<ReplicaSpec>,
    /// How arrivals (and, with disaggregation, hand-offs) pick a replica of their pool.
    pub router: Router,
    /// Jump over runs of identical decode steps (off: the step-by-step reference engine).
    pub leap: bool,
    /// Keep every request's record (memory grows with the run).
    pub keep_records: bool,
    /// Latency targets for goodput (None: no goodput figures in the report).
    pub slo: Option<Slo>,
    /// Stop at this simulated time; unfinished requests are counted as running or queued.
    pub horizon_s: Option<f64>,
    /// The network between prefill and decode pools (needed when any replica is a prefill replica).
    pub kv_transfer: Option<KvTransfer>,
    /// Sample queue, batch, KV occupancy and throughput every this many simulated seconds.
    pub timeseries_interval_s: Option<f64>,
    /// Keep every step span (for a Chrome trace; memory grows with the run).
    pub keep_steps: bool,
    /// Called every few thousand events with (completed requests, simulated seconds).
    pub progress: Option<Progress>,
    /// Raised from anywhere (another thread) to stop the run: `simulate` then returns
    /// `SimError::Cancelled`. Checked every few thousand events.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl SimConfig {
    /// `replicas` behind `router`, leaping over identical decode steps, keeping no per-request
    /// records or step spans, with no SLO, horizon, time series, KV link, progress or cancel.
    pub fn new(replicas: Vec<ReplicaSpec>, router: Router) -> SimConfig {
        SimConfig {
            replicas,
            router,
            leap: true,
            keep_records: false,
            slo: None,
            horizon_s: None,
            kv_transfer: None,
            timeseries_interval_s: None,
            keep_steps: false,
            progress: None,
            cancel: None,
        }
    }

    /// Leap over runs of identical decode steps (default) or step one at a time (the reference).
    pub fn leap(mut self, leap: bool) -> SimConfig {
        self.leap = leap;
        self
    }

    /// Keep every completed request's [`Record`](crate::Record) in `SimReport::records`
    /// (memory grows with the run; off by default).
    pub fn keep_records(mut self, keep: bool) -> SimConfig {
        self.keep_records = keep;
        self
    }

    /// Latency targets for goodput; `None` (the default) reports no goodput.
    pub fn slo(mut self, slo: impl Into<Option<Slo>>) -> SimConfig {
        self.slo = slo.into();
        self
    }

    /// Stop at this simulated time in seconds (finite, 0 or more); `None` (the default) runs
    /// until every request has completed.
    pub fn horizon_s(mut self, horizon_s: impl Into<Option<f64>>) -> SimConfig {
        self.horizon_s = horizon_s.into();
        self
    }

    /// The link between prefill and decode pools; required when the fleet has them, ignored
    /// otherwise. `None` by default.
    pub fn kv_transfer(mut self, link: impl Into<Option<KvTransfer>>) -> SimConfig {
        self.kv_transfer = link.into();
        self
    }

    /// Sample the fleet into `SimReport::timeseries` every this many simulated seconds (finite,
    /// above 0); `None` (the default) samples nothing.
    pub fn timeseries_interval_s(mut self, interval_s: impl Into<Option<f64>>) -> SimConfig {
        self.timeseries_interval_s = interval_s.into();
        self
    }

    /// Keep every step span in `SimReport::step_spans` (memory grows with the run; off by
    /// default).
    pub fn keep_steps(mut self, keep: bool) -> SimConfig {
        self.keep_steps = keep;
        self
    }

    /// Call `progress` every few thousand events with (completed requests, simulated
    /// seconds), from the thread running the simulation.
    pub fn progress(mut self, progress: impl FnMut(u64, f64) + Send + 'static) -> SimConfig {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Stop the run with `SimError::Cancelled` once `flag` is set (checked every few thousand
    /// events, so the run may go on briefly after).
    pub fn cancel(mut self, flag: Arc<AtomicBool>) -> SimConfig {
        self.cancel = Some(flag);
        self
    }

    /// Refuses what the engine cannot run as given: no replicas, a prefill pool without a
    /// decode pool (or the reverse), pools without a KV link, and quantities out of range.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.replicas.is_empty() {
            return Err(SimError::NoReplicas);
        }
        let first = |pool| self.replicas.iter().position(|r| r.pool == pool);
        match (first(Pool::Prefill), first(Pool::Decode)) {
            (Some(replica), None) => return Err(SimError::NoDecodePool { replica }),
            (None, Some(replica)) => return Err(SimError::NoPrefillPool { replica }),
            (Some(_), Some(_)) if self.kv_transfer.is_none() => return Err(SimError::NoKvTransfer),
            _ => {}
        }
        for (i, r) in self.replicas.iter().enumerate() {
            r.scheduler.validate(&format!("replicas[{i}].scheduler"))?;
        }
        if let Some(link) = self.kv_transfer {
            // An infinite bandwidth is an instant link, a limit the search uses.
            check(
                "kv_transfer.bytes_per_s",
                link.bytes_per_s,
                link.bytes_per_s > 0.0,
                ABOVE_ZERO_OR_INFINITE,
            )?;
            check(
                "kv_transfer.latency_s",
                link.latency_s,
                finite_at_least_zero(link.latency_s),
                FINITE_AT_LEAST_ZERO,
            )?;
        }
        if let Some(slo) = self.slo {
            // An infinite target is no target.
            check("slo.ttft_s", slo.ttft_s, slo.ttft_s >= 0.0, AT_LEAST_ZERO)?;
            check("slo.tpot_s", slo.tpot_s, slo.tpot_s >= 0.0, AT_LEAST_ZERO)?;
        }
        if let Some(h) = self.horizon_s {
            check(
                "horizon_s",
                h,
                finite_at_least_zero(h),
                FINITE_AT_LEAST_ZERO,
            )?;
        }
        if let Some(dt) = self.timeseries_interval_s {
            check(
                "timeseries_interval_s",
                dt,
                finite_above_zero(dt),
                FINITE_ABOVE_ZERO,
            )?;
        }
        Ok(())
    }
}

impl SchedulerConfig {
    /// Refuses limits of zero and policy parameters out of range; `at` names the config in
    /// the error (`replicas[2].scheduler`).
    pub fn validate(&self, at: &str) -> Result<(), SimError> {
        for (name, value) in [
            ("max_seqs", self.max_seqs),
            ("max_batched_tokens", self.max_batched_tokens),
            ("block_tokens", self.block_tokens),
            ("max_waiting", self.max_waiting),
        ] {
            check(
                &format!("{at}.{name}"),
                f64::from(value),
                value >= 1,
                AT_LEAST_ONE,
            )?;
        }
        match self.policy {
            Policy::Static { batch, timeout_s } => {
                let b = f64::from(batch);
                check(&format!("{at}.policy.batch"), b, batch >= 1, AT_LEAST_ONE)?;
                let ok = finite_at_least_zero(timeout_s);
                check(
                    &format!("{at}.policy.timeout_s"),
                    timeout_s,
                    ok,
                    FINITE_AT_LEAST_ZERO,
                )
            }
            Policy::Train { period_s } => {
                let ok = finite_above_zero(period_s);
                check(
                    &format!("{at}.policy.period_s"),
                    period_s,
                    ok,
                    FINITE_ABOVE_ZERO,
                )
            }
            Policy::Continuous | Policy::Chunked => Ok(()),
        }
    }
}

const AT_LEAST_ONE: &str = "at least 1";
const AT_LEAST_ZERO: &str = "zero or more (infinity for no target)";
const ABOVE_ZERO_OR_INFINITE: &str = "above zero (infinity for an instant link)";
const FINITE_AT_LEAST_ZERO: &str = "a finite number, zero or more";
const FINITE_ABOVE_ZERO: &str = "a finite number above zero";

fn finite_at_least_zero(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

fn finite_above_zero(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

/// `Ok` when `ok`, else the error naming `quantity` and `value`. (NaN fails every comparison,
/// so a rule written as a comparison refuses it.)
fn check(quantity: &str, value: f64, ok: bool, expected: &'static str) -> Result<(), SimError> {
    if ok {
        Ok(())
    } else {
        Err(SimError::Invalid {
            quantity: quantity.to_string(),
            value,
            expected,
        })
    }
}
