//! One replica: its running and waiting sequences, the step it composes with its scheduler
//! (`crate::scheduler`), and the bookkeeping when a step ends. KV blocks and preemption are in
//! `kv.rs`, the leap over runs of identical decode steps in `leap.rs`.

mod kv;
mod leap;

use crate::config::{Pool, SchedulerConfig};
use crate::metrics::{Histogram, Record};
use crate::prefix::PrefixCache;
use crate::scheduler::Scheduler;
use crate::workload::Prefix;
use kv::KvBlocks;
use leap::DecodeLines;
use servemath_cost::{DecodeLine, Deployment, StepLoad};
use std::collections::VecDeque;
use std::sync::Arc;

/// What a sequence does in the step in flight.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Idle,
    Decode,
    Prefill(u32),
}

/// What the scheduler seldom reads, kept out of line so passes over the batch stay in cache.
#[derive(Debug, Clone)]
pub(crate) struct Cold {
    pub id: u64,
    pub arrival_s: f64,
    pub input: u32,
    /// Closed-loop user who sent it.
    pub user: Option<u32>,
    /// Prompt-prefix block hashes, for prefix caching.
    pub prefix: Option<Prefix>,
    /// Leading prefix blocks this sequence holds pinned in the cache.
    pinned: usize,
    admitted_s: Option<f64>,
    first_token_s: Option<f64>,
    preemptions: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Seq {
    pub cold: Box<Cold>,
    pub output: u32,
    /// Tokens to prefill: the prompt, or prompt plus generated tokens after a recompute.
    prompt: u32,
    prefilled: u32,
    generated: u32,
    /// Tokens whose KV is cached.
    kv: u32,
    blocks: u32,
    role: Role,
    /// When its latest token came out.
    last_token_s: f64,
}

impl Seq {
    pub fn new(
        id: u64,
        arrival_s: f64,
        input: u32,
        output: u32,
        user: Option<u32>,
        prefix: Option<Prefix>,
    ) -> Seq {
        Seq {
            cold: Box::new(Cold {
                id,
                arrival_s,
                input,
                user,
                prefix,
                pinned: 0,
                admitted_s: None,
                first_token_s: None,
                preemptions: 0,
            }),
            output,
            prompt: input,
            prefilled: 0,
            generated: 0,
            kv: 0,
            blocks: 0,
            role: Role::Idle,
            last_token_s: 0.0,
        }
    }

    /// Tokens whose KV cache the sequence holds.
    pub fn kv_tokens(&self) -> u32 {
        self.kv
    }

    fn decoding(&self) -> bool {
        self.prefilled == self.prompt && self.generated < self.output
    }
}

/// The step or run of steps in flight.
#[derive(Debug, Clone, Copy)]
enum Flight {
    Step {
        start_s: f64,
        /// The priced duration of the step.
        time_s: f64,
        load: StepLoad,
        flops: f64,
        bytes: f64,
        prefill_share: f64,
    },
    Leap {
        start_s: f64,
        line: DecodeLine,
        steps: f64,
        load: StepLoad,
    },
}

/// Counters a replica keeps for the report.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReplicaStats {
    pub busy_s: f64,
    /// Busy time charged to prompt tokens: all of a prefill-only step, and of a mixed step the
    /// time it takes beyond its decodes alone (the marginal cost of the prompt chunks).
    pub prefill_busy_s: f64,
    pub steps: u64,
    pub preemptions: u64,
    pub peak_blocks: u64,
    /// Integral of used blocks over time (block·seconds), at step boundaries.
    pub block_seconds: f64,
    pub train_overruns: u64,
    pub flops: f64,
    pub bytes: f64,
    pub prompt_tokens: f64,
    pub output_tokens: f64,
}

/// A replica: its state and the scheduler that composes its steps.
pub(crate) struct Replica {
    pub state: ReplicaState,
    scheduler: Box<dyn Scheduler>,
}

impl Replica {
    pub fn new(
        id: u32,
        pool: Pool,
        dep: Arc<Deployment>,
        cfg: SchedulerConfig,
        leap: bool,
    ) -> Replica {
        let scheduler = cfg.policy.scheduler();
        let state = ReplicaState::new(id, pool, dep, cfg, leap && scheduler.can_leap());
        Replica { state, scheduler }
    }

    /// Composes and starts the next step at `now` (the replica is free).
    pub fn plan(&mut self, now: f64) -> Next {
        self.state.begin_plan(now);
        self.scheduler.plan(&mut self.state, now)
    }

    /// The step or run in flight ends at `now`: apply its progress and return the finished
    /// requests (see `ReplicaState::finish`).
    pub fn finish(
        &mut self,
        now: f64,
        done: &mut Vec<(Record, Option<u32>)>,
        handoff: &mut Vec<Seq>,
        itl: &mut Histogram,
    ) {
        if self.state.finish(now, done, handoff, itl) && self.state.running.is_empty() {
            self.scheduler.drained();
        }
    }
}

/// What a scheduler composes steps from: the sequences, the KV blocks and the step being
/// composed, with the operations a policy combines (admit, continue prompts, decode, launch).
pub(crate) struct ReplicaState {
    pub id: u32,
    pub pool: Pool,
    dep: Arc<Deployment>,
    cfg: SchedulerConfig,
    /// Leap over runs of identical decode steps (the engine asks it and the scheduler allows it).
    leap: bool,
    kv: KvBlocks,
    running: Vec<Seq>,
    pub waiting: VecDeque<Seq>,
    flight: Option<Flight>,
    /// Bumped whenever a scheduled wake-up becomes stale.
    pub epoch: u64,
    /// A wake-up the scheduler asked for with no step in flight (a train's next departure):
    /// the replica counts as busy until it comes.
    pub alarm: Option<f64>,
    pub stats: ReplicaStats,
    last_block_time_s: f64,
    /// The step or run of steps that just ended (for step traces).
    pub last_span: Option<StepSpan>,
    pub prefix_cache: Option<PrefixCache>,
    /// The step being composed.
    load: StepLoad,
    /// Decode steps until the first decoder finishes.
    decode_run: Option<u32>,
    /// Whether some running prompt is only partly prefilled.
    partial_prefills: bool,
    lines: DecodeLines,
}

/// Equal samples collected into one histogram update.
#[derive(Default)]
struct RunLength {
    value: f64,
    count: u64,
}

impl RunLength {
    fn add(&mut self, v: f64, h: &mut Histogram) {
        if self.count > 0 && v.to_bits() == self.value.to_bits() {
            self.count += 1;
        } else {
            self.flush(h);
            self.value = v;
            self.count = 1;
        }
    }

    fn flush(&mut self, h: &mut Histogram) {
        h.add_n(self.value, self.count);
        self.count = 0;
    }
}

/// One step, or a run of identical decode steps, of one replica.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSpan {
    /// Index in `SimConfig::replicas` of the replica that ran it.
    pub replica: u32,
    /// Simulated time the first step started, seconds.
    pub start_s: f64,
    /// Simulated time the last step ended, seconds.
    pub end_s: f64,
    /// Steps in the span (more than 1 for a leap over identical decode steps).
    pub steps: u32,
    /// Sequences decoding one token in each step.
    pub decode_seqs: u32,
    /// Prompt tokens prefilled in the step (0 for a run of decode steps).
    pub prefill_tokens: u32,
}

/// What the engine must do after the replica plans.
pub(crate) enum Next {
    /// Wake the replica at this time (end of its step or run of steps).
    Wake(f64),
    /// Nothing to do until an arrival, or a static batch's timeout at this time.
    Idle(Option<f64>),
}

impl ReplicaState {
    fn new(
        id: u32,
        pool: Pool,
        dep: Arc<Deployment>,
        cfg: SchedulerConfig,
        leap: bool,
    ) -> ReplicaState {
        let mut cfg = cfg;
        let kv = KvBlocks::size(&dep, &mut cfg);
        let lines = DecodeLines::new(&dep);
        ReplicaState {
            id,
            pool,
            dep,
            cfg,
            leap,
            kv,
            running: Vec::new(),
            waiting: VecDeque::new(),
            flight: None,
            epoch: 0,
            alarm: None,
            stats: ReplicaStats::default(),
            last_block_time_s: 0.0,
            last_span: None,
            prefix_cache: cfg.prefix_caching.then(PrefixCache::default),
            load: StepLoad::default(),
            decode_run: None,
            partial_prefills: false,
            lines,
        }
    }

    pub fn gpus(&self) -> u32 {
        self.dep.gpus()
    }

    /// Whether the waiting queue holds `max_waiting` requests already (a new arrival is dropped).
    pub fn queue_full(&self) -> bool {
        self.waiting.len() >= self.cfg.max_waiting as usize
    }

    /// Whether a wake-up is already scheduled (a step in flight or an alarm to wait for).
    pub fn busy(&self) -> bool {
        self.flight.is_some() || self.alarm.is_some()
    }

    /// Requests held: running plus waiting.
    pub fn outstanding(&self) -> usize {
        self.running.len() + self.waiting.len()
    }

    /// Running sequences (for the end-of-run census).
    pub fn running_len(&self) -> usize {
        self.running.len()
    }

    pub fn capacity_blocks(&self) -> u64 {
        self.kv.capacity
    }

    pub fn used_blocks(&self) -> u64 {
        self.kv.used()
    }

    /// Fraction of KV blocks in use.
    pub fn kv_fraction(&self) -> f64 {
        self.kv.fraction()
    }

    /// Leading blocks of `hashes` this replica's prefix cache holds.
    pub fn cached_blocks(&self, hashes: &[u64]) -> usize {
        self.prefix_cache
            .as_ref()
            .map_or(0, |c| c.leading_hits(hashes))
    }

    /// Most tokens in one step.
    pub(crate) fn max_batched_tokens(&self) -> u32 {
        self.cfg.max_batched_tokens
    }

    /// The priced duration of the single step in flight (None: none, or a leap).
    pub(crate) fn step_in_flight_s(&self) -> Option<f64> {
        match self.flight {
            Some(Flight::Step { time_s, .. }) => Some(time_s),
            _ => None,
        }
    }

    /// A request arrives at `now`. Returns a new wake-up time when a run of steps in flight
    /// had to be cut short at the first step boundary after `now` so the scheduler sees it.
    pub fn arrive(&mut self, seq: Seq, now: f64) -> Option<f64> {
        self.waiting.push_back(seq);
        self.cut_leap(now)
    }

    /// What every plan starts with, whatever the policy: account block occupancy up to `now`,
    /// clear the step being composed, and admit sequences whose KV cache has arrived.
    fn begin_plan(&mut self, now: f64) {
        self.track_blocks(now);
        self.load = StepLoad::default();
        self.decode_run = None;
        if self.pool == Pool::Decode {
            self.admit_transferred(now);
        }
    }

    /// Admits sequences prefilled elsewhere (their KV cache arrived), FIFO, blocks permitting.
    fn admit_transferred(&mut self, now: f64) {
        while self.running.len() < self.cfg.max_seqs as usize {
            let Some(front) = self.waiting.front() else {
                break;
            };
            if front.prefilled < front.prompt {
                break;
            }
            let need = u64::from(self.kv.blocks_for(front.kv));
            if need > self.kv.free {
                break;
            }
            let Some(mut seq) = self.waiting.pop_front() else {
                break;
            };
            seq.cold.admitted_s.get_or_insert(now);
            self.kv.free -= need;
            seq.blocks = need as u32;
            self.running.push(seq);
        }
    }

    /// Takes a prompt chunk of up to `budget` tokens for `seq`, if blocks allow.
    fn chunk_for(&self, seq: &Seq, budget: u32, whole: bool) -> Option<u32> {
        let left = seq.prompt - seq.prefilled;
        let chunk = if whole { left } else { left.min(budget) };
        if chunk == 0 || (!whole && budget == 0) {
            return None;
        }
        let need = u64::from(self.kv.blocks_for(seq.kv + chunk) - seq.blocks);
        (need <= self.kv.free).then_some(chunk)
    }

    /// Continues prompts already partly prefilled, in admission order, with chunks from
    /// `budget` tokens. Returns the budget left.
    pub(crate) fn continue_prefills(&mut self, mut budget: u32) -> u32 {
        let partial = if self.partial_prefills {
            self.running.len()
        } else {
            0
        };
        for i in 0..partial {
            let seq = &self.running[i];
            if seq.prefilled < seq.prompt && budget > 0 {
                if let Some(chunk) = self.chunk_for(seq, budget, false) {
                    let blocks = self.kv.blocks_for(seq.kv + chunk);
                    self.kv.free -= u64::from(blocks - seq.blocks);
                    self.load.prefill_seqs += 1.0;
                    self.load.prefill_tokens += f64::from(chunk);
                    self.load.prefill_prefix_sum += f64::from(seq.prefilled);
                    let s = &mut self.running[i];
                    s.blocks = blocks;
                    s.role = Role::Prefill(chunk);
                    budget -= chunk;
                }
            }
        }
        budget
    }

    /// Moves waiting sequences into the step, FIFO, stopping at the first that does not fit
    /// (no overtaking): prompts whole (`whole`: one larger than `budget` still runs alone) or
    /// in chunks from `budget` tokens, up to `limit` running sequences. Returns the prompt
    /// tokens taken and whether any sequence was admitted.
    pub(crate) fn admit(
        &mut self,
        now: f64,
        mut budget: u32,
        whole: bool,
        limit: usize,
    ) -> (u32, bool) {
        let mut used = 0;
        let mut any = false;
        while self.running.len() < limit.min(self.cfg.max_seqs as usize) {
            let Some(front) = self.waiting.front() else {
                break;
            };
            // Cached prefix blocks (looked up only when the prompt starts from scratch).
            let (hits, cached) = self.cached_prefix(front);
            let left = front.prompt - front.prefilled - cached;
            // A whole prompt larger than the budget still runs alone.
            if whole && any && left > budget {
                break;
            }
            let chunk = if whole { left } else { left.min(budget) };
            if chunk == 0 || (!whole && budget == 0) {
                break;
            }
            let need = u64::from(self.kv.blocks_for(front.kv + cached + chunk) - front.blocks);
            if need > self.kv.free {
                break;
            }
            let Some(mut seq) = self.waiting.pop_front() else {
                break;
            };
            if let (Some(cache), Some(p)) = (self.prefix_cache.as_mut(), seq.cold.prefix.as_ref()) {
                if seq.kv == 0 {
                    cache.record(seq.prompt, cached);
                    cache.pin(&p.hashes[..hits], p.block_tokens);
                    seq.cold.pinned = hits;
                }
            }
            seq.prefilled += cached;
            seq.kv += cached;
            seq.cold.admitted_s.get_or_insert(now);
            self.load.prefill_seqs += 1.0;
            self.load.prefill_tokens += f64::from(chunk);
            self.load.prefill_prefix_sum += f64::from(seq.prefilled);
            self.reserve(&mut seq, chunk);
            seq.role = Role::Prefill(chunk);
            budget = budget.saturating_sub(chunk);
            used += chunk;
            any = true;
            self.running.push(seq);
        }
        if any {
            self.trim_prefix_cache();
        }
        (used, any)
    }

    /// `(leading hit blocks, cached tokens)` for a sequence about to start its prompt: at most
    /// the prompt less one token, which must be computed to produce the first output token.
    fn cached_prefix(&self, seq: &Seq) -> (usize, u32) {
        match (&self.prefix_cache, &seq.cold.prefix) {
            (Some(cache), Some(p)) if seq.kv == 0 => {
                let hits = cache.leading_hits(&p.hashes);
                let tokens = (hits as u64 * u64::from(p.block_tokens))
                    .min(u64::from(seq.prompt.saturating_sub(1)));
                (hits, tokens as u32)
            }
            _ => (0, 0),
        }
    }

    /// Marks every running sequence that decodes in this step (slots were made) and reserves
    /// its block. Returns how many.
    pub(crate) fn mark_decoders(&mut self) -> u32 {
        let bs = self.kv.block_tokens;
        let (mut n, mut reserved, mut ctx, mut min_left, mut partial) =
            (0u32, 0u64, 0u64, u32::MAX, false);
        for s in &mut self.running {
            if s.decoding() {
                let blocks = (s.kv + 1).div_ceil(bs);
                reserved += u64::from(blocks - s.blocks);
                s.blocks = blocks;
                s.role = Role::Decode;
                ctx += u64::from(s.kv);
                min_left = min_left.min(s.output - s.generated);
                n += 1;
            } else {
                partial |= s.prefilled < s.prompt;
                if !matches!(s.role, Role::Prefill(_)) {
                    s.role = Role::Idle;
                }
            }
        }
        self.kv.free -= reserved;
        self.load.decode_seqs = f64::from(n);
        self.load.decode_context_sum = ctx as f64;
        self.decode_run = (n > 0).then_some(min_left);
        self.partial_prefills = partial;
        n
    }

    /// Prices the composed step (or a run of identical decode steps) and puts it in flight at
    /// `start`; nothing composed: idle until an arrival.
    pub(crate) fn launch(&mut self, start: f64) -> Next {
        let load = self.load;
        if load.tokens() == 0.0 {
            return Next::Idle(None);
        }
        if self.leap && load.prefill_seqs == 0.0 {
            if let Some(next) = self.try_leap(start, load) {
                return next;
            }
        }
        let cost = self.dep.step(&load);
        let prefill_share = if load.prefill_seqs == 0.0 {
            0.0
        } else if load.decode_seqs == 0.0 {
            1.0
        } else {
            let decode_only = StepLoad {
                prefill_seqs: 0.0,
                prefill_tokens: 0.0,
                prefill_prefix_sum: 0.0,
                ..load
            };
            (1.0 - self.dep.step(&decode_only).time_s / cost.time_s).clamp(0.0, 1.0)
        };
        let end_s = start + cost.time_s;
        self.flight = Some(Flight::Step {
            start_s: start,
            time_s: cost.time_s,
            load,
            flops: cost.flops,
            bytes: cost.bytes.total(),
            prefill_share,
        });
        Next::Wake(end_s)
    }

    /// The step or run in flight ends at `now`: apply its progress and return the finished
    /// requests. Returns whether a step was in flight.
    fn finish(
        &mut self,
        now: f64,
        done: &mut Vec<(Record, Option<u32>)>,
        handoff: &mut Vec<Seq>,
        itl: &mut Histogram,
    ) -> bool {
        let Some(flight) = self.flight.take() else {
            return false;
        };
        let (start_s, steps, load, (flops, bytes), first_end_s) = match flight {
            Flight::Step {
                start_s,
                load,
                flops,
                bytes,
                prefill_share,
                ..
            } => {
                self.stats.prefill_busy_s += (now - start_s) * prefill_share;
                (start_s, 1u32, load, (flops, bytes), now)
            }
            Flight::Leap {
                start_s,
                steps,
                load,
                line,
            } => {
                // Inter-token latency: every decoder waits step k's time for its k-th token
                // of the run (k >= 1); its first gap is taken per sequence below.
                let mut k = 1.0;
                while k < steps {
                    itl.add_n(line.step_s(k), load.decode_seqs as u64);
                    k += 1.0;
                }
                (
                    start_s,
                    steps as u32,
                    load,
                    line.work(steps),
                    start_s + line.step_s(0.0),
                )
            }
        };
        self.stats.flops += flops;
        self.stats.bytes += bytes;
        self.last_span = Some(StepSpan {
            replica: self.id,
            start_s,
            end_s: now,
            steps,
            decode_seqs: load.decode_seqs as u32,
            prefill_tokens: load.prefill_tokens as u32,
        });
        self.stats.busy_s += now - start_s;
        self.stats.steps += u64::from(steps);
        let bs = self.kv.block_tokens;
        // Decoders of the previous step share their last token's time, so equal gaps come in runs.
        let mut gaps = RunLength::default();
        if load.prefill_seqs == 0.0 && self.decode_run.is_some_and(|left| left > steps) {
            // Only decoders, none finishing: advance them in place.
            let mut used = 0u64;
            for s in &mut self.running {
                if s.role == Role::Decode {
                    gaps.add(first_end_s - s.last_token_s, itl);
                    s.last_token_s = now;
                    s.kv += steps;
                    s.generated += steps;
                    let blocks = s.kv.div_ceil(bs);
                    used += u64::from(blocks - s.blocks);
                    s.blocks = blocks;
                    s.role = Role::Idle;
                }
            }
            gaps.flush(itl);
            self.kv.free -= used;
            self.stats.output_tokens += load.decode_seqs * f64::from(steps);
            // No trim here: the cache is trimmed to free memory only when the batch changes
            // (admissions, completions, preemptions), so a run of decode steps, leapt or
            // stepped, sees one cache and admission stays decided for the whole run.
            return true;
        }
        let id = self.id;
        let prefill_pool = self.pool == Pool::Prefill;
        let mut cache = self.prefix_cache.take();
        let (mut used, mut freed, mut prompt_tokens, mut output_tokens) = (0u64, 0u64, 0u64, 0u64);
        let leaves = |s: &Seq| s.generated >= s.output || (prefill_pool && s.prefilled == s.prompt);
        // Advance every sequence in place; count those leaving.
        let mut leaving = 0usize;
        for s in &mut self.running {
            match s.role {
                Role::Decode => {
                    gaps.add(first_end_s - s.last_token_s, itl);
                    s.last_token_s = now;
                    s.kv += steps;
                    s.generated += steps;
                    let blocks = s.kv.div_ceil(bs);
                    used += u64::from(blocks - s.blocks);
                    s.blocks = blocks;
                    output_tokens += u64::from(steps);
                }
                Role::Prefill(chunk) => {
                    s.kv += chunk;
                    s.prefilled += chunk;
                    prompt_tokens += u64::from(chunk);
                    if s.prefilled == s.prompt {
                        if let (Some(c), Some(p)) = (cache.as_mut(), s.cold.prefix.as_ref()) {
                            c.pin(&p.hashes[s.cold.pinned..], p.block_tokens);
                            s.cold.pinned = p.hashes.len();
                        }
                        s.generated += 1;
                        s.last_token_s = now;
                        s.cold.first_token_s.get_or_insert(now);
                        output_tokens += 1;
                    }
                }
                Role::Idle => {}
            }
            s.role = Role::Idle;
            leaving += usize::from(leaves(s));
        }
        gaps.flush(itl);
        // Trim at the low point of free memory, before anything leaves: a run of steps and
        // the same steps one at a time then evict the same blocks.
        self.kv.free -= used;
        used = 0;
        self.prefix_cache = cache.take();
        self.trim_prefix_cache();
        cache = self.prefix_cache.take();
        if leaving > 0 {
            self.running.retain_mut(|s| {
                if !leaves(s) {
                    return true;
                }
                if let (Some(c), Some(p)) = (cache.as_mut(), s.cold.prefix.as_ref()) {
                    c.unpin(&p.hashes[..s.cold.pinned]);
                    s.cold.pinned = 0;
                }
                freed += u64::from(s.blocks);
                if s.generated < s.output {
                    // Prefill done in a prefill pool: the KV cache leaves for a decode replica.
                    let mut moved = s.clone();
                    moved.blocks = 0;
                    handoff.push(moved);
                    return false;
                }
                done.push((
                    Record {
                        id: s.cold.id,
                        replica: id,
                        arrival_s: s.cold.arrival_s,
                        admitted_s: s.cold.admitted_s.unwrap_or(now),
                        first_token_s: s.cold.first_token_s.unwrap_or(now),
                        completion_s: now,
                        input_tokens: s.cold.input,
                        output_tokens: s.output,
                        preemptions: s.cold.preemptions,
                    },
                    s.cold.user,
                ));
                false
            });
        }
        self.kv.free = self.kv.free + freed - used;
        self.prefix_cache = cache;
        self.trim_prefix_cache();
        self.stats.prompt_tokens += prompt_tokens as f64;
        self.stats.output_tokens += output_tokens as f64;
        true
    }
}
