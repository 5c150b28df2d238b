//! One replica: its running and waiting sequences, KV blocks, the scheduler that composes
//! each step, and the leap over runs of identical decode steps.

use crate::config::{Policy, Pool, SchedulerConfig};
use crate::metrics::{Histogram, Record};
use crate::prefix::PrefixCache;
use crate::workload::Prefix;
use servemath_cost::{DecodeLine, Deployment, StepLoad};
use std::collections::VecDeque;
use std::rc::Rc;

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

pub(crate) struct Replica {
    pub id: u32,
    pub pool: Pool,
    dep: Rc<Deployment>,
    cfg: SchedulerConfig,
    leap: bool,
    pub capacity_blocks: u64,
    free_blocks: u64,
    running: Vec<Seq>,
    pub waiting: VecDeque<Seq>,
    flight: Option<Flight>,
    /// Bumped whenever a scheduled wake-up becomes stale.
    pub epoch: u64,
    static_active: bool,
    /// A train departure the replica is waiting for.
    departure: Option<f64>,
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
    /// Every layer attends to its full context, so decode lines shift linearly with context.
    linear_in_context: bool,
    /// Decode lines at context 0, by batch size.
    line_cache: Vec<Option<DecodeLine>>,
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
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StepSpan {
    pub replica: u32,
    pub start_s: f64,
    pub end_s: f64,
    /// Steps in the span (more than 1 for a leap over identical decode steps).
    pub steps: u32,
    pub decode_seqs: u32,
    pub prefill_tokens: u32,
}

/// What the engine must do after the replica plans.
pub(crate) enum Next {
    /// Wake the replica at this time (end of its step or run of steps).
    Wake(f64),
    /// Nothing to do until an arrival, or a static batch's timeout at this time.
    Idle(Option<f64>),
}

impl Replica {
    pub fn new(
        id: u32,
        pool: Pool,
        dep: Rc<Deployment>,
        cfg: SchedulerConfig,
        leap: bool,
    ) -> Replica {
        // Recurrent layers (linear attention, Mamba) hold a fixed state per sequence: engines
        // preallocate it for every sequence slot (vLLM: `max_num_seqs`) and give the KV blocks
        // what is left. The slots take at most half the budget; a deployment that cannot hold
        // `max_seqs` of them runs with fewer (as a user lowering `max_num_seqs` would).
        let mut cfg = cfg;
        let state = dep.state_bytes_per_seq_per_device();
        // Bytes per token over a context whole in both the scheduler's blocks and the cost
        // model's allocation unit (`kv_block_tokens`), so that neither rounding inflates it
        // (a block of 8 under a 16-token unit would otherwise count 16 tokens' bytes).
        let unit = dep.params.kv_block_tokens.round().max(1.0) as u64;
        let span = lcm(u64::from(cfg.block_tokens.max(1)), unit) as f64;
        let per_token = (dep.kv_bytes_per_seq_per_device(span) - state) / span;
        let whole = dep.memory(1.0, 1.0).kv_budget_bytes.max(0.0);
        let dpa = f64::from(dep.par.dp_attn);
        let mut slots = f64::from(cfg.max_seqs) / dpa;
        if state > 0.0 {
            slots = slots.min((whole / (2.0 * state)).floor()).max(1.0);
            cfg.max_seqs = ((slots * dpa) as u32).max(1);
        }
        let budget = (whole - state * slots).max(0.0);
        // Blocks per attention-DP rank, times the ranks (each holds its own sequences). A model
        // with no attention layer needs no blocks: its capacity is the state slots alone.
        let per_rank = if per_token > 0.0 {
            (budget / (per_token * f64::from(cfg.block_tokens))).floor()
        } else if budget > 0.0 {
            f64::from(u32::MAX)
        } else {
            0.0
        };
        let capacity_blocks = (per_rank * f64::from(dep.par.dp_attn)) as u64;
        let linear_in_context = dep
            .model
            .groups
            .iter()
            .all(|g| g.attention.span() == servemath_model::AttentionSpan::Full);
        Replica {
            id,
            pool,
            dep,
            cfg,
            leap,
            capacity_blocks,
            free_blocks: capacity_blocks,
            running: Vec::new(),
            waiting: VecDeque::new(),
            flight: None,
            epoch: 0,
            static_active: false,
            departure: None,
            stats: ReplicaStats::default(),
            last_block_time_s: 0.0,
            last_span: None,
            prefix_cache: cfg.prefix_caching.then(PrefixCache::default),
            load: StepLoad::default(),
            decode_run: None,
            partial_prefills: false,
            linear_in_context,
            line_cache: Vec::new(),
        }
    }

    pub fn gpus(&self) -> u32 {
        self.dep.gpus()
    }

    /// Whether a wake-up is already scheduled (a step in flight or a train to wait for).
    pub fn busy(&self) -> bool {
        self.flight.is_some() || self.departure.is_some()
    }

    /// Requests held: running plus waiting.
    pub fn outstanding(&self) -> usize {
        self.running.len() + self.waiting.len()
    }

    pub fn used_blocks(&self) -> u64 {
        self.capacity_blocks - self.free_blocks
    }

    fn blocks_for(&self, tokens: u32) -> u32 {
        tokens.div_ceil(self.cfg.block_tokens)
    }

    /// Whether `seq` could ever run here: its whole context (prompt and every output token)
    /// fits one attention-DP rank's KV blocks, and the model's context window. A request that
    /// cannot would wait forever (engines reject it: vLLM refuses prompts over
    /// `max_model_len` and requests whose KV exceeds the cache).
    pub fn can_ever_hold(&self, seq: &Seq) -> bool {
        let tokens = u64::from(seq.prompt) + u64::from(seq.output);
        let per_rank = self.capacity_blocks / u64::from(self.dep.par.dp_attn.max(1));
        let blocks = tokens.div_ceil(u64::from(self.cfg.block_tokens.max(1)));
        blocks <= per_rank && tokens <= self.dep.model.max_context
    }

    /// A request arrives at `now`. Returns a new wake-up time when a run of steps in flight
    /// had to be cut short at the first step boundary after `now` so the scheduler sees it.
    pub fn arrive(&mut self, seq: Seq, now: f64) -> Option<f64> {
        self.waiting.push_back(seq);
        let Some(Flight::Leap {
            start_s,
            line,
            steps,
            load,
        }) = self.flight
        else {
            return None;
        };
        // Smallest k in [1, steps] whose boundary start + T(k) is at or after `now`.
        let target = now - start_s;
        let (mut lo, mut hi) = (1.0f64, steps);
        if line.total_s(hi) < target {
            return None;
        }
        while lo < hi {
            let mid = ((lo + hi) / 2.0).floor();
            if line.total_s(mid) >= target {
                hi = mid;
            } else {
                lo = mid + 1.0;
            }
        }
        if lo >= steps {
            return None;
        }
        let end_s = start_s + line.total_s(lo);
        self.flight = Some(Flight::Leap {
            start_s,
            line,
            steps: lo,
            load,
        });
        self.epoch += 1;
        Some(end_s)
    }

    /// Sequences decoding once a step starts, freeing room by preempting the newest
    /// sequences (recompute) until every decoder has a slot for its next token.
    fn make_room_for_decodes(&mut self) -> bool {
        // Each decoder needs at most one new block: with that many free, nothing to check.
        if self.free_blocks >= self.running.len() as u64 {
            return false;
        }
        let mut preempted = false;
        let bs = self.cfg.block_tokens;
        loop {
            let need: u64 = self
                .running
                .iter()
                .filter(|s| s.decoding())
                .map(|s| u64::from((s.kv + 1).div_ceil(bs) - s.blocks))
                .sum();
            if need <= self.free_blocks || self.running.is_empty() {
                return preempted;
            }
            let Some(mut victim) = self.running.pop() else {
                return preempted;
            };
            self.free_blocks += u64::from(victim.blocks);
            if let (Some(c), Some(p)) = (self.prefix_cache.as_mut(), victim.cold.prefix.as_ref()) {
                c.unpin(&p.hashes[..victim.cold.pinned]);
                victim.cold.pinned = 0;
            }
            victim.prompt = victim.cold.input + victim.generated;
            victim.prefilled = 0;
            victim.kv = 0;
            victim.blocks = 0;
            victim.cold.preemptions += 1;
            victim.role = Role::Idle;
            self.stats.preemptions += 1;
            self.waiting.push_front(victim);
            preempted = true;
        }
    }

    /// Takes a prompt chunk of up to `budget` tokens for `seq`, if blocks allow.
    fn chunk_for(&self, seq: &Seq, budget: u32, whole: bool) -> Option<u32> {
        let left = seq.prompt - seq.prefilled;
        let chunk = if whole { left } else { left.min(budget) };
        if chunk == 0 || (!whole && budget == 0) {
            return None;
        }
        let need = u64::from(self.blocks_for(seq.kv + chunk) - seq.blocks);
        (need <= self.free_blocks).then_some(chunk)
    }

    /// Moves waiting sequences into the step while `admit` allows, FIFO, stopping at the first
    /// that does not fit (no overtaking).
    fn admit(&mut self, now: f64, mut budget: u32, whole: bool, limit: usize) -> (u32, bool) {
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
            let need = u64::from(self.blocks_for(front.kv + cached + chunk) - front.blocks);
            if need > self.free_blocks {
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

    /// Cached blocks live in memory no sequence holds: evict down to what fits there.
    fn trim_prefix_cache(&mut self) {
        let free_tokens = self.free_blocks * u64::from(self.cfg.block_tokens);
        if let Some(cache) = self.prefix_cache.as_mut() {
            // Idle cached blocks fill free memory, in units of the prompts' hash blocks.
            let per_entry = u64::from(cache.block_tokens.max(1));
            cache.shrink_idle_to((free_tokens / per_entry) as usize);
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
            let need = u64::from(self.blocks_for(front.kv));
            if need > self.free_blocks {
                break;
            }
            let Some(mut seq) = self.waiting.pop_front() else {
                break;
            };
            seq.cold.admitted_s.get_or_insert(now);
            self.free_blocks -= need;
            seq.blocks = need as u32;
            self.running.push(seq);
        }
    }

    fn reserve(&mut self, seq: &mut Seq, tokens: u32) {
        let blocks = self.blocks_for(seq.kv + tokens);
        self.free_blocks -= u64::from(blocks - seq.blocks);
        seq.blocks = blocks;
    }

    fn track_blocks(&mut self, now: f64) {
        let used = self.used_blocks();
        self.stats.block_seconds += used as f64 * (now - self.last_block_time_s);
        self.last_block_time_s = now;
        self.stats.peak_blocks = self.stats.peak_blocks.max(used);
    }

    /// Composes and starts the next step at `now` (the replica is free).
    pub fn plan(&mut self, now: f64) -> Next {
        self.track_blocks(now);
        self.load = StepLoad::default();
        self.decode_run = None;
        let start = now;
        if self.pool == Pool::Decode {
            self.admit_transferred(now);
        }
        if let Policy::Train { period_s } = self.cfg.policy {
            if self.departure.take().is_none() {
                // Wait for the next departure and compose the step then, with whoever is ready.
                let departure = (now / period_s).ceil() * period_s;
                if departure > now {
                    if self.running.is_empty() && self.waiting.is_empty() {
                        return Next::Idle(None);
                    }
                    self.departure = Some(departure);
                    return Next::Wake(departure);
                }
            }
        }
        match self.cfg.policy {
            Policy::Static { batch, timeout_s } => {
                if !self.static_active {
                    let Some(oldest) = self.waiting.front().map(|s| s.cold.arrival_s) else {
                        return Next::Idle(None);
                    };
                    let deadline = oldest + timeout_s;
                    if self.waiting.len() < batch as usize && now < deadline {
                        return Next::Idle(Some(deadline));
                    }
                    let (_, any) = self.admit(now, u32::MAX, true, batch as usize);
                    if !any {
                        return Next::Idle(None);
                    }
                    self.static_active = true;
                    return self.launch(start);
                }
                self.make_room_for_decodes();
                self.mark_decoders();
                self.launch(start)
            }
            Policy::Continuous => {
                let preempted = self.make_room_for_decodes();
                if !preempted && !self.waiting.is_empty() {
                    let (_, any) = self.admit(start, self.cfg.max_batched_tokens, true, usize::MAX);
                    if any {
                        return self.launch(start);
                    }
                }
                self.mark_decoders();
                self.launch(start)
            }
            Policy::Chunked | Policy::Train { .. } => {
                self.make_room_for_decodes();
                let decoders = self.mark_decoders();
                let mut budget = self.cfg.max_batched_tokens.saturating_sub(decoders);
                // Continue prompts already partly prefilled, in admission order.
                let partial = if self.partial_prefills {
                    self.running.len()
                } else {
                    0
                };
                for i in 0..partial {
                    let seq = &self.running[i];
                    if seq.prefilled < seq.prompt && budget > 0 {
                        if let Some(chunk) = self.chunk_for(seq, budget, false) {
                            let blocks = self.blocks_for(seq.kv + chunk);
                            self.free_blocks -= u64::from(blocks - seq.blocks);
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
                self.admit(start, budget, false, usize::MAX);
                self.launch(start)
            }
        }
    }

    /// Marks every running sequence that decodes in this step (slots were made) and reserves
    /// its block. Returns how many.
    fn mark_decoders(&mut self) -> u32 {
        let bs = self.cfg.block_tokens;
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
        self.free_blocks -= reserved;
        self.load.decode_seqs = f64::from(n);
        self.load.decode_context_sum = ctx as f64;
        self.decode_run = (n > 0).then_some(min_left);
        self.partial_prefills = partial;
        n
    }

    /// Prices the composed step (or a run of identical decode steps) and puts it in flight.
    fn launch(&mut self, start: f64) -> Next {
        let load = self.load;
        if load.tokens() == 0.0 {
            return Next::Idle(None);
        }
        let leapable = self.leap
            && load.prefill_seqs == 0.0
            && !matches!(self.cfg.policy, Policy::Train { .. });
        if leapable {
            let steps = self.leap_steps();
            if steps >= 2.0 {
                let line = self.decode_line(load.decode_seqs, load.decode_context_sum);
                let steps = steps.min(line.valid_steps);
                if steps >= 2.0 {
                    // The first step's block was reserved by mark_decoders; the rest at the end.
                    let end_s = start + line.total_s(steps);
                    self.flight = Some(Flight::Leap {
                        start_s: start,
                        line,
                        steps,
                        load,
                    });
                    return Next::Wake(end_s);
                }
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
        if let Policy::Train { period_s } = self.cfg.policy {
            if cost.time_s > period_s {
                self.stats.train_overruns += 1;
            }
        }
        let end_s = start + cost.time_s;
        self.flight = Some(Flight::Step {
            start_s: start,
            load,
            flops: cost.flops,
            bytes: cost.bytes.total(),
            prefill_share,
        });
        Next::Wake(end_s)
    }

    /// The closed-form line of decode steps for `batch` sequences at `context_sum`. With full
    /// attention everywhere a step's times, FLOPs and bytes are linear in the context sum, so
    /// the line at context 0 is kept per batch size and shifted, instead of pricing two steps.
    fn decode_line(&mut self, batch: f64, context_sum: f64) -> DecodeLine {
        if !self.linear_in_context {
            return self.dep.decode_line(batch, context_sum);
        }
        let b = batch as usize;
        if self.line_cache.len() <= b {
            self.line_cache.resize(b + 1, None);
        }
        let base = match self.line_cache[b] {
            Some(line) => line,
            None => {
                let line = self.dep.decode_line(batch, 0.0);
                self.line_cache[b] = Some(line);
                line
            }
        };
        // A step adds `batch` tokens of context: k steps' worth of context is context_sum / batch.
        let k = context_sum / batch;
        DecodeLine {
            c0: base.c0 + base.dc * k,
            m0: base.m0 + base.dm * k,
            flops0: base.flops0 + base.dflops * k,
            bytes0: base.bytes0 + base.dbytes * k,
            ..base
        }
    }

    /// How many identical decode steps can run before a sequence finishes or KV blocks run out.
    fn leap_steps(&self) -> f64 {
        let Some(until_done) = self.decode_run else {
            return 0.0;
        };
        // After the first (reserved) step a decoder needs at most ceil((k-1)/bs) more blocks.
        let bs = self.cfg.block_tokens;
        let decoders = self.load.decode_seqs as u64;
        if decoders * u64::from((until_done - 1).div_ceil(bs)) <= self.free_blocks {
            return f64::from(until_done);
        }
        // Blocks needed beyond those already reserved after k steps.
        let extra = |k: u32| -> u64 {
            self.running
                .iter()
                .filter(|s| s.role == Role::Decode)
                .map(|s| u64::from((s.kv + k).div_ceil(bs) - s.blocks))
                .sum()
        };
        // Largest k with extra(k) <= free; extra(1) = 0 since the first step is reserved.
        let (mut lo, mut hi) = (1u32, until_done);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if extra(mid) <= self.free_blocks {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        f64::from(lo)
    }

    /// The step or run in flight ends at `now`: apply its progress and return the finished
    /// requests.
    pub fn finish(
        &mut self,
        now: f64,
        done: &mut Vec<(Record, Option<u32>)>,
        handoff: &mut Vec<Seq>,
        itl: &mut Histogram,
    ) {
        let Some(flight) = self.flight.take() else {
            return;
        };
        let (start_s, steps, load, (flops, bytes), first_end_s) = match flight {
            Flight::Step {
                start_s,
                load,
                flops,
                bytes,
                prefill_share,
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
        let bs = self.cfg.block_tokens;
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
            self.free_blocks -= used;
            self.stats.output_tokens += load.decode_seqs * f64::from(steps);
            // No trim here: the cache is trimmed to free memory only when the batch changes
            // (admissions, completions, preemptions), so a run of decode steps, leapt or
            // stepped, sees one cache and admission stays decided for the whole run.
            return;
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
        self.free_blocks -= used;
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
        self.free_blocks = self.free_blocks + freed - used;
        self.prefix_cache = cache;
        self.trim_prefix_cache();
        self.stats.prompt_tokens += prompt_tokens as f64;
        self.stats.output_tokens += output_tokens as f64;
        if self.running.is_empty() {
            self.static_active = false;
        }
    }

    /// Running sequences (for the end-of-run census).
    pub fn running_len(&self) -> usize {
        self.running.len()
    }

    /// Leading blocks of `hashes` this replica's prefix cache holds.
    pub fn cached_blocks(&self, hashes: &[u64]) -> usize {
        self.prefix_cache
            .as_ref()
            .map_or(0, |c| c.leading_hits(hashes))
    }

    /// Fraction of KV blocks in use.
    pub fn kv_fraction(&self) -> f64 {
        self.used_blocks() as f64 / self.capacity_blocks.max(1) as f64
    }
}

/// Least common multiple of two positive integers.
fn lcm(a: u64, b: u64) -> u64 {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    a / x.max(1) * b
}
