//! KV memory of one replica: how many blocks the deployment's HBM holds, the block accounting
//! of the running sequences, recompute preemption when decoders run out of blocks, and the
//! prefix cache's claim on the free blocks.

use super::{ReplicaState, Role, Seq};
use crate::config::SchedulerConfig;
use servemath_cost::Deployment;

/// The KV blocks of a replica (all attention-DP ranks together).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KvBlocks {
    pub capacity: u64,
    pub free: u64,
    /// Tokens per block (the scheduler's `block_tokens`).
    pub block_tokens: u32,
}

impl KvBlocks {
    /// The blocks `dep` holds under `cfg`. Lowers `cfg.max_seqs` where recurrent state slots
    /// would take more than half the memory.
    pub fn size(dep: &Deployment, cfg: &mut SchedulerConfig) -> KvBlocks {
        // Recurrent layers (linear attention, Mamba) hold a fixed state per sequence: engines
        // preallocate it for every sequence slot (vLLM: `max_num_seqs`) and give the KV blocks
        // what is left. The slots take at most half the budget; a deployment that cannot hold
        // `max_seqs` of them runs with fewer (as a user lowering `max_num_seqs` would).
        let state = dep.state_bytes_per_seq_per_device();
        // Bytes per token over a context whole in both the scheduler's blocks and the cost
        // model's allocation unit (`kv_block_tokens`), so that neither rounding inflates it
        // (a block of 8 under a 16-token unit would otherwise count 16 tokens' bytes).
        let unit = dep.params().kv_block_tokens.round().max(1.0) as u64;
        let span = lcm(u64::from(cfg.block_tokens.max(1)), unit) as f64;
        let per_token = (dep.kv_bytes_per_seq_per_device(span) - state) / span;
        let whole = dep.memory(1.0, 1.0).kv_budget_bytes.max(0.0);
        let dpa = f64::from(dep.parallelism().dp_attn);
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
        let capacity = (per_rank * f64::from(dep.parallelism().dp_attn)) as u64;
        KvBlocks {
            capacity,
            free: capacity,
            block_tokens: cfg.block_tokens,
        }
    }

    /// Blocks that hold `tokens` tokens of one sequence.
    pub fn blocks_for(&self, tokens: u32) -> u32 {
        tokens.div_ceil(self.block_tokens)
    }

    pub fn used(&self) -> u64 {
        self.capacity - self.free
    }

    /// Fraction of blocks in use.
    pub fn fraction(&self) -> f64 {
        self.used() as f64 / self.capacity.max(1) as f64
    }
}

impl ReplicaState {
    /// Whether `seq` could ever run here: its whole context (prompt and every output token)
    /// fits one attention-DP rank's KV blocks, and the model's context window. A request that
    /// cannot would wait forever (engines reject it: vLLM refuses prompts over
    /// `max_model_len` and requests whose KV exceeds the cache).
    pub fn can_ever_hold(&self, seq: &Seq) -> bool {
        let tokens = u64::from(seq.prompt) + u64::from(seq.output);
        let per_rank = self.kv.capacity / u64::from(self.dep.parallelism().dp_attn.max(1));
        let blocks = tokens.div_ceil(u64::from(self.kv.block_tokens.max(1)));
        blocks <= per_rank && tokens <= self.dep.model().max_context
    }

    /// Sequences decoding once a step starts, freeing room by preempting the newest
    /// sequences (recompute) until every decoder has a slot for its next token. Returns
    /// whether any was preempted.
    pub(crate) fn make_room_for_decodes(&mut self) -> bool {
        // Each decoder needs at most one new block: with that many free, nothing to check.
        if self.kv.free >= self.running.len() as u64 {
            return false;
        }
        let mut preempted = false;
        let bs = self.kv.block_tokens;
        loop {
            let need: u64 = self
                .running
                .iter()
                .filter(|s| s.decoding())
                .map(|s| u64::from((s.kv + 1).div_ceil(bs) - s.blocks))
                .sum();
            if need <= self.kv.free || self.running.is_empty() {
                return preempted;
            }
            let Some(mut victim) = self.running.pop() else {
                return preempted;
            };
            self.kv.free += u64::from(victim.blocks);
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

    /// Takes the blocks `seq` needs for `tokens` more tokens.
    pub(super) fn reserve(&mut self, seq: &mut Seq, tokens: u32) {
        let blocks = self.kv.blocks_for(seq.kv + tokens);
        self.kv.free -= u64::from(blocks - seq.blocks);
        seq.blocks = blocks;
    }

    /// Adds the blocks in use since the last call to the occupancy integral and the peak.
    pub(super) fn track_blocks(&mut self, now: f64) {
        let used = self.kv.used();
        self.stats.block_seconds += used as f64 * (now - self.last_block_time_s);
        self.last_block_time_s = now;
        self.stats.peak_blocks = self.stats.peak_blocks.max(used);
    }

    /// Cached blocks live in memory no sequence holds: evict down to what fits there.
    pub(super) fn trim_prefix_cache(&mut self) {
        let free_tokens = self.kv.free * u64::from(self.kv.block_tokens);
        if let Some(cache) = self.prefix_cache.as_mut() {
            // Idle cached blocks fill free memory, in units of the prompts' hash blocks.
            let per_entry = u64::from(cache.block_tokens.max(1));
            cache.shrink_idle_to((free_tokens / per_entry) as usize);
        }
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
