//! The event loop: arrivals, step ends and timers ordered by (time, sequence number), a router
//! in front of the replicas, closed-loop users, and the census and summary at the end.

use crate::config::{Pool, Router, SimConfig};
use crate::error::SimError;
use crate::metrics::{Histogram, Percentiles, Record};
use crate::replica::{Next, Replica, Seq, StepSpan};
use crate::workload::Request;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::atomic;

/// Closed-loop load: `users` clients each send their next request the moment the last completes.
pub struct ClosedLoop {
    /// Concurrent clients; each sends its first request at t = 0 (0 users send nothing).
    pub users: u32,
    /// Requests to send in all, over every user; the run ends when they have completed, or at
    /// the horizon (`SimConfig::horizon_s`), whichever comes first.
    pub requests: u64,
    /// Draws the (input, output) token counts of the next request (a
    /// [`LengthSampler`](crate::workload::LengthSampler)'s `next_pair`, say); counts of 0 are
    /// read as 1.
    pub lengths: Box<dyn FnMut() -> (u32, u32) + Send>,
}

/// The requests of a simulation: an open stream, or closed-loop users.
pub enum Workload {
    /// Requests in arrival order (non-decreasing `arrival_s`), drawn lazily: a synthetic
    /// stream or a trace. Token counts of 0 are read as 1.
    Open(Box<dyn Iterator<Item = Request> + Send>),
    /// Users who each send their next request when their last completes.
    Closed(ClosedLoop),
}

/// The fleet at one sampling instant, as it was just before the first event at or after it
/// (a row of `--timeseries-csv`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The sampling instant, seconds: a multiple of `SimConfig::timeseries_interval_s`.
    pub time_s: f64,
    /// Requests waiting for admission, all replicas.
    pub queued: u64,
    /// Requests admitted and not finished.
    pub running: u64,
    /// Fraction of KV blocks in use (0 to 1), the mean over replicas.
    pub kv_fraction: f64,
    /// Output tokens per second over the interval ending here.
    pub output_tokens_per_s: f64,
}

/// The simulation's answer. Figures are defined in `docs/metrics.md` ("Simulation figures");
/// rates and fractions are over `duration_s`. Latencies are over completed requests (ITL also
/// over running ones) and NaN when they have no sample.
#[derive(Debug, Clone, Default)]
pub struct SimReport {
    /// Requests that arrived: `arrived = completed + running + queued + rejected + dropped`
    /// always.
    pub arrived: u64,
    /// Requests that finished.
    pub completed: u64,
    /// Requests admitted but unfinished when the run stopped (at the horizon).
    pub running: u64,
    /// Requests still waiting for admission when the run stopped (at the horizon).
    pub queued: u64,
    /// Requests refused on arrival because their whole context (prompt and output) exceeds
    /// what one replica's KV cache or the model's context window can ever hold.
    pub rejected: u64,
    /// Requests dropped on arrival because their replica already held `max_waiting` waiting
    /// requests (overload); a run that drops any is `overloaded`.
    pub dropped: u64,
    /// Simulated time of the last event, seconds: the last completion, or the last event
    /// before the horizon; 0 for an empty workload.
    pub duration_s: f64,
    /// Arrival to admission (the first time any of the prompt entered a step), seconds.
    pub queue: Percentiles,
    /// Time to first token: arrival to the end of the step that produced the first output
    /// token, seconds.
    pub ttft: Percentiles,
    /// Time per output token: (completion − first token) / (output tokens − 1), seconds;
    /// requests with one output token are left out.
    pub tpot: Percentiles,
    /// Time between consecutive output tokens of a sequence, over all tokens after the first
    /// (stalls behind other requests' prefill included).
    pub itl: Percentiles,
    /// End to end: arrival to the end of the step that produced the last output token, seconds.
    pub e2e: Percentiles,
    /// Prompt tokens of completed requests per simulated second.
    pub input_tokens_per_s: f64,
    /// Output tokens of completed requests per simulated second.
    pub output_tokens_per_s: f64,
    /// `output_tokens_per_s` over every GPU of every pool.
    pub output_tokens_per_s_per_gpu: f64,
    /// GPUs in all pools (each replica's deployment's GPUs, summed).
    pub gpus: u32,
    /// Completed requests per second meeting both SLOs (if SLOs were given).
    pub goodput_rps: Option<f64>,
    /// Completed requests meeting both SLOs (if SLOs were given).
    pub goodput_requests: Option<u64>,
    /// KV-cache capacity of the fleet in tokens (blocks times block size, all replicas).
    pub kv_capacity_tokens: u64,
    /// Busy time over duration, averaged over replicas.
    pub utilization: f64,
    /// Share of busy GPU time charged to prompt tokens (prefill-only steps, and the marginal
    /// time prompt chunks add to mixed steps), weighted by GPUs; the rest is decode's.
    pub prefill_time_share: f64,
    /// Model FLOP/s utilization: FLOPs of each replica's busiest GPU, summed, over that GPU's
    /// dense peak at the compute precision times the duration, summed over replicas (0 to 1).
    pub mfu: f64,
    /// Memory-bandwidth utilization: HBM bytes of each replica's busiest GPU, summed, over its
    /// HBM bandwidth times the duration, summed over replicas (0 to 1).
    pub mbu: f64,
    /// Sequences evicted to free KV blocks for decodes, to be recomputed when readmitted.
    pub preemptions: u64,
    /// Σ of each replica's largest number of KV blocks in use (at step boundaries) over Σ of
    /// their capacities (0 to 1).
    pub kv_peak_fraction: f64,
    /// Time-integral of KV blocks in use, all replicas, over duration × total capacity (0 to 1).
    pub kv_mean_fraction: f64,
    /// Prompt tokens served from the prefix cache over prompt tokens looked up (None: no prefix hashes).
    pub prefix_hit_rate: Option<f64>,
    /// Forward steps run by all replicas (a leap over `k` identical decode steps counts `k`).
    pub steps: u64,
    /// Train steps that took longer than the period (train policy only; 0 otherwise).
    pub train_overruns: u64,
    /// Requests waiting when the last request arrived exceeded 5 % of arrivals: the offered
    /// load is beyond capacity and latency grows without bound.
    pub overloaded: bool,
    /// Every completed request, in completion order; empty unless `SimConfig::keep_records`.
    pub records: Vec<Record>,
    /// One sample every `SimConfig::timeseries_interval_s`; empty without one.
    pub timeseries: Vec<Sample>,
    /// Every step span of every replica, in the order they ended; empty unless
    /// `SimConfig::keep_steps`.
    pub step_spans: Vec<StepSpan>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    Arrival,
    Wake {
        replica: u32,
        epoch: u64,
    },
    Timer {
        replica: u32,
    },
    /// A prefilled sequence's KV cache reaches the decode pool.
    Handoff {
        slot: usize,
    },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    time: f64,
    seq: u64,
    event: Event,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Reversed so the heap pops the earliest (time, seq) first.
    fn cmp(&self, o: &Self) -> Ordering {
        o.time.total_cmp(&self.time).then(o.seq.cmp(&self.seq))
    }
}

struct Queue {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl Queue {
    fn push(&mut self, time: f64, event: Event) {
        self.seq += 1;
        self.heap.push(Entry {
            time,
            seq: self.seq,
            event,
        });
    }
}

struct Tally {
    queue: Histogram,
    ttft: Histogram,
    tpot: Histogram,
    itl: Histogram,
    e2e: Histogram,
    good: u64,
    input_tokens: f64,
    output_tokens: f64,
}

/// Events between calls of the progress callback and checks of the cancel flag.
const POLL_EVENTS: u64 = 4096;

/// Runs the simulation to the end of the workload (or the horizon). Refuses a configuration
/// `SimConfig::validate` refuses; stops with `SimError::Cancelled` when the cancel flag rises.
pub fn simulate(mut cfg: SimConfig, workload: Workload) -> Result<SimReport, SimError> {
    cfg.validate()?;
    let mut progress = cfg.progress.take();
    let cancel = cfg.cancel.take();
    let cancelled = || {
        cancel
            .as_ref()
            .is_some_and(|c| c.load(atomic::Ordering::Relaxed))
    };
    let mut events = 0u64;
    let mut timeseries = Vec::new();
    let mut step_spans = Vec::new();
    let mut next_sample = cfg.timeseries_interval_s.unwrap_or(f64::INFINITY);
    let mut tokens_at_last_sample = 0.0;
    let mut replicas: Vec<Replica> = cfg
        .replicas
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Replica::new(
                i as u32,
                r.pool,
                r.deployment.clone(),
                r.scheduler,
                cfg.leap,
            )
        })
        .collect();
    let mut q = Queue {
        heap: BinaryHeap::new(),
        seq: 0,
    };
    let mut tally = Tally {
        queue: Histogram::default(),
        ttft: Histogram::default(),
        tpot: Histogram::default(),
        itl: Histogram::default(),
        e2e: Histogram::default(),
        good: 0,
        input_tokens: 0.0,
        output_tokens: 0.0,
    };
    let mut records = Vec::new();
    let mut next_id = 0u64;
    let mut arrived = 0u64;
    let mut rr = 0usize;
    let mut now = 0.0;
    let mut queued_at_last_arrival = 0usize;
    let mut rejected = 0u64;
    let mut dropped = 0u64;
    let mut done = Vec::new();
    let mut handoff = Vec::new();
    // Sequences on the wire between pools.
    let mut wire: Vec<Option<Seq>> = Vec::new();
    let disaggregated = replicas.iter().any(|r| r.state.pool == Pool::Prefill);
    let entry_pool = if disaggregated {
        Pool::Prefill
    } else {
        Pool::Unified
    };

    // Pending arrivals: the open stream's next request, or closed-loop users' next sends.
    let (mut open, mut closed) = match workload {
        Workload::Open(it) => (Some(it), None),
        Workload::Closed(c) => (None, Some(c)),
    };
    let mut pending: std::collections::VecDeque<(Request, Option<u32>)> = Default::default();
    let mut sent = 0u64;
    if let Some(it) = open.as_mut() {
        if let Some(r) = it.next() {
            q.push(r.arrival_s, Event::Arrival);
            pending.push_back((r, None));
        }
    }
    if let Some(c) = closed.as_mut() {
        for user in 0..c.users {
            if sent >= c.requests {
                break;
            }
            let (input, output) = (c.lengths)();
            sent += 1;
            q.push(0.0, Event::Arrival);
            pending.push_back((
                Request {
                    arrival_s: 0.0,
                    input_tokens: input,
                    output_tokens: output,
                    prefix: None,
                },
                Some(user),
            ));
        }
    }

    if cancelled() {
        return Err(SimError::Cancelled {
            completed: 0,
            simulated_s: 0.0,
        });
    }
    while let Some(entry) = q.heap.pop() {
        if cfg.horizon_s.is_some_and(|h| entry.time > h) {
            break;
        }
        // Samples describe the state just before this event, for every boundary it passes.
        if let Some(dt) = cfg.timeseries_interval_s {
            while entry.time >= next_sample {
                let produced: f64 = replicas.iter().map(|r| r.state.stats.output_tokens).sum();
                timeseries.push(Sample {
                    time_s: next_sample,
                    queued: replicas.iter().map(|r| r.state.waiting.len() as u64).sum(),
                    running: replicas.iter().map(|r| r.state.running_len() as u64).sum(),
                    kv_fraction: replicas.iter().map(|r| r.state.kv_fraction()).sum::<f64>()
                        / replicas.len().max(1) as f64,
                    output_tokens_per_s: (produced - tokens_at_last_sample) / dt,
                });
                tokens_at_last_sample = produced;
                next_sample += dt;
            }
        }
        events += 1;
        if events.is_multiple_of(POLL_EVENTS) {
            if let Some(p) = progress.as_mut() {
                p(tally.e2e.count(), entry.time);
            }
            if cancelled() {
                return Err(SimError::Cancelled {
                    completed: tally.e2e.count(),
                    simulated_s: now,
                });
            }
        }
        now = entry.time;
        match entry.event {
            Event::Arrival => {
                let Some((req, user)) = pending.pop_front() else {
                    continue;
                };
                arrived += 1;
                let r = route(
                    cfg.router,
                    &replicas,
                    &mut rr,
                    entry_pool,
                    req.prefix.as_ref(),
                );
                let seq = Seq::new(
                    next_id,
                    req.arrival_s,
                    req.input_tokens.max(1),
                    req.output_tokens.max(1),
                    user,
                    req.prefix,
                );
                next_id += 1;
                let rep = &mut replicas[r];
                if !rep.state.can_ever_hold(&seq) {
                    // It would wait forever and block the queue behind it: rejected, as
                    // engines reject it, and counted.
                    rejected += 1;
                } else if rep.state.queue_full() {
                    // The replica's queue is full: dropped, as a front end refuses it.
                    dropped += 1;
                } else if let Some(wake) = rep.state.arrive(seq, now) {
                    q.push(
                        wake,
                        Event::Wake {
                            replica: r as u32,
                            epoch: rep.state.epoch,
                        },
                    );
                } else if !rep.state.busy() {
                    schedule(rep, now, &mut q);
                }
                if let Some(it) = open.as_mut() {
                    if let Some(next) = it.next() {
                        q.push(next.arrival_s.max(now), Event::Arrival);
                        pending.push_back((next, None));
                    } else {
                        queued_at_last_arrival =
                            replicas.iter().map(|r| r.state.waiting.len()).sum();
                    }
                }
            }
            Event::Wake { replica, epoch } => {
                let rep = &mut replicas[replica as usize];
                if epoch != rep.state.epoch {
                    continue;
                }
                rep.finish(now, &mut done, &mut handoff, &mut tally.itl);
                if cfg.keep_steps {
                    step_spans.extend(rep.state.last_span.take());
                }
                schedule(rep, now, &mut q);
                // Only a prefill pool hands off, and validation ensured a link exists with one.
                let link = cfg.kv_transfer;
                for seq in handoff.drain(..) {
                    let Some(link) = link else {
                        continue;
                    };
                    let spec = &cfg.replicas[replica as usize].deployment;
                    let bytes = spec
                        .model()
                        .kv_bytes_for_context(u64::from(seq.kv_tokens()), spec.precisions().kv);
                    let slot = wire.len();
                    wire.push(Some(seq));
                    q.push(
                        now + bytes / link.bytes_per_s + link.latency_s,
                        Event::Handoff { slot },
                    );
                }
            }
            Event::Handoff { slot } => {
                let Some(seq) = wire.get_mut(slot).and_then(Option::take) else {
                    continue;
                };
                let r = route(cfg.router, &replicas, &mut rr, Pool::Decode, None);
                let rep = &mut replicas[r];
                if let Some(wake) = rep.state.arrive(seq, now) {
                    q.push(
                        wake,
                        Event::Wake {
                            replica: r as u32,
                            epoch: rep.state.epoch,
                        },
                    );
                } else if !rep.state.busy() {
                    schedule(rep, now, &mut q);
                }
            }
            Event::Timer { replica } => {
                let rep = &mut replicas[replica as usize];
                if !rep.state.busy() {
                    schedule(rep, now, &mut q);
                }
            }
        }
        for (rec, user) in done.drain(..) {
            tally.queue.add(rec.queue_s());
            tally.ttft.add(rec.ttft_s());
            if rec.output_tokens > 1 {
                tally.tpot.add(rec.tpot_s());
            }
            tally.e2e.add(rec.e2e_s());
            tally.input_tokens += f64::from(rec.input_tokens);
            tally.output_tokens += f64::from(rec.output_tokens);
            if let Some(slo) = cfg.slo {
                if rec.ttft_s() <= slo.ttft_s && rec.tpot_s() <= slo.tpot_s {
                    tally.good += 1;
                }
            }
            if cfg.keep_records {
                records.push(rec);
            }
            if let (Some(c), Some(user)) = (closed.as_mut(), user) {
                if sent < c.requests {
                    let (input, output) = (c.lengths)();
                    sent += 1;
                    q.push(now, Event::Arrival);
                    pending.push_back((
                        Request {
                            arrival_s: now,
                            input_tokens: input,
                            output_tokens: output,
                            prefix: None,
                        },
                        Some(user),
                    ));
                }
            }
        }
    }
    let mut report = summarize(
        &cfg,
        &replicas,
        tally,
        records,
        arrived,
        now,
        queued_at_last_arrival,
    );
    report.rejected = rejected;
    report.dropped = dropped;
    report.overloaded |= dropped > 0;
    report.timeseries = timeseries;
    report.step_spans = step_spans;
    Ok(report)
}

fn schedule(rep: &mut Replica, now: f64, q: &mut Queue) {
    match rep.plan(now) {
        Next::Wake(t) => q.push(
            t,
            Event::Wake {
                replica: rep.state.id,
                epoch: rep.state.epoch,
            },
        ),
        Next::Idle(Some(t)) => q.push(
            t,
            Event::Timer {
                replica: rep.state.id,
            },
        ),
        Next::Idle(None) => {}
    }
}

fn route(
    router: Router,
    replicas: &[Replica],
    rr: &mut usize,
    pool: Pool,
    prefix: Option<&crate::workload::Prefix>,
) -> usize {
    if replicas.len() == 1 {
        return 0;
    }
    let members = || (0..replicas.len()).filter(move |&i| replicas[i].state.pool == pool);
    match router {
        Router::RoundRobin => {
            let count = members().count().max(1);
            let k = *rr % count;
            *rr += 1;
            members().nth(k).unwrap_or(0)
        }
        Router::LeastOutstanding => members()
            .min_by_key(|&i| (replicas[i].state.outstanding(), i))
            .unwrap_or(0),
        Router::PrefixAffinity => members()
            .min_by_key(|&i| {
                let hits = prefix.map_or(0, |p| replicas[i].state.cached_blocks(&p.hashes));
                (std::cmp::Reverse(hits), replicas[i].state.outstanding(), i)
            })
            .unwrap_or(0),
        Router::LeastKv => members()
            .min_by(|&a, &b| {
                let f = |i: usize| {
                    replicas[i].state.used_blocks() as f64
                        / replicas[i].state.capacity_blocks().max(1) as f64
                };
                f(a).total_cmp(&f(b)).then(a.cmp(&b))
            })
            .unwrap_or(0),
    }
}

fn summarize(
    cfg: &SimConfig,
    replicas: &[Replica],
    tally: Tally,
    records: Vec<Record>,
    arrived: u64,
    duration_s: f64,
    queued_at_last_arrival: usize,
) -> SimReport {
    let completed = tally.e2e.count();
    let running: u64 = replicas.iter().map(|r| r.state.running_len() as u64).sum();
    let queued: u64 = replicas.iter().map(|r| r.state.waiting.len() as u64).sum();
    let gpus: u32 = replicas.iter().map(|r| r.state.gpus()).sum();
    let d = duration_s.max(f64::MIN_POSITIVE);
    let busy: f64 = replicas.iter().map(|r| r.state.stats.busy_s).sum();
    let (mut flops_capacity, mut bytes_capacity, mut flops, mut bytes) = (0.0, 0.0, 0.0, 0.0);
    for (r, spec) in replicas.iter().zip(&cfg.replicas) {
        flops += r.state.stats.flops;
        bytes += r.state.stats.bytes;
        flops_capacity += spec.deployment.peak_flop_per_s() * d;
        bytes_capacity += spec.deployment.hardware().hbm_bytes_per_s * d;
    }
    let capacity: u64 = replicas.iter().map(|r| r.state.capacity_blocks()).sum();
    let peak: u64 = replicas.iter().map(|r| r.state.stats.peak_blocks).sum();
    let block_seconds: f64 = replicas.iter().map(|r| r.state.stats.block_seconds).sum();
    SimReport {
        arrived,
        completed,
        running,
        queued,
        rejected: 0,
        dropped: 0,
        duration_s,
        queue: (&tally.queue).into(),
        ttft: (&tally.ttft).into(),
        tpot: (&tally.tpot).into(),
        itl: (&tally.itl).into(),
        e2e: (&tally.e2e).into(),
        input_tokens_per_s: tally.input_tokens / d,
        output_tokens_per_s: tally.output_tokens / d,
        output_tokens_per_s_per_gpu: tally.output_tokens / d / f64::from(gpus.max(1)),
        gpus,
        goodput_rps: cfg.slo.map(|_| tally.good as f64 / d),
        goodput_requests: cfg.slo.map(|_| tally.good),
        kv_capacity_tokens: replicas
            .iter()
            .zip(&cfg.replicas)
            .map(|(r, spec)| r.state.capacity_blocks() * u64::from(spec.scheduler.block_tokens))
            .sum(),
        utilization: busy / (d * replicas.len().max(1) as f64),
        prefill_time_share: {
            let (pf, all) = replicas.iter().fold((0.0, 0.0), |(pf, all), r| {
                let g = f64::from(r.state.gpus());
                (
                    pf + g * r.state.stats.prefill_busy_s,
                    all + g * r.state.stats.busy_s,
                )
            });
            if all > 0.0 {
                pf / all
            } else {
                0.0
            }
        },
        // Per-device FLOPs and bytes of the busiest device, over each replica's per-device capacity.
        mfu: flops / flops_capacity.max(f64::MIN_POSITIVE),
        mbu: bytes / bytes_capacity.max(f64::MIN_POSITIVE),
        preemptions: replicas.iter().map(|r| r.state.stats.preemptions).sum(),
        kv_peak_fraction: peak as f64 / capacity.max(1) as f64,
        kv_mean_fraction: block_seconds / d / capacity.max(1) as f64,
        prefix_hit_rate: {
            let (hit, looked) = replicas
                .iter()
                .filter_map(|r| r.state.prefix_cache.as_ref())
                .fold((0u64, 0u64), |(h, l), c| {
                    (h + c.hit_tokens, l + c.lookup_tokens)
                });
            (looked > 0).then(|| hit as f64 / looked as f64)
        },
        steps: replicas.iter().map(|r| r.state.stats.steps).sum(),
        train_overruns: replicas.iter().map(|r| r.state.stats.train_overruns).sum(),
        overloaded: queued_at_last_arrival as f64 > (0.05 * arrived as f64).max(10.0),
        records,
        timeseries: Vec::new(),
        step_spans: Vec::new(),
    }
}
