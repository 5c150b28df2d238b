//! The leap: a run of identical decode steps (no prompt in the batch, nobody finishing, blocks
//! enough) priced in closed form as one `DecodeLine`, and cut short at the first step boundary
//! after an arrival so the scheduler sees the newcomer when step-by-step stepping would.

use super::{Flight, Next, ReplicaState, Role};
use servemath_cost::{DecodeLine, Deployment, StepLoad};

/// Decode lines of one deployment, cached by batch size where that is exact.
#[derive(Debug, Clone)]
pub(super) struct DecodeLines {
    /// Every layer attends to its full context, so decode lines shift linearly with context.
    linear_in_context: bool,
    /// Decode lines at context 0, by batch size.
    cache: Vec<Option<DecodeLine>>,
}

impl DecodeLines {
    pub fn new(dep: &Deployment) -> DecodeLines {
        let linear_in_context = dep
            .model()
            .groups
            .iter()
            .all(|g| g.attention.span() == servemath_model::AttentionSpan::Full);
        DecodeLines {
            linear_in_context,
            cache: Vec::new(),
        }
    }

    /// The closed-form line of decode steps for `batch` sequences at `context_sum`. With full
    /// attention everywhere a step's times, FLOPs and bytes are linear in the context sum, so
    /// the line at context 0 is kept per batch size and shifted, instead of pricing two steps.
    fn line(&mut self, dep: &Deployment, batch: f64, context_sum: f64) -> DecodeLine {
        if !self.linear_in_context {
            return dep.decode_line(batch, context_sum);
        }
        let b = batch as usize;
        if self.cache.len() <= b {
            self.cache.resize(b + 1, None);
        }
        let base = match self.cache[b] {
            Some(line) => line,
            None => {
                let line = dep.decode_line(batch, 0.0);
                self.cache[b] = Some(line);
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
}

impl ReplicaState {
    /// Puts the composed decode-only step in flight as a run of at least two identical steps,
    /// if that many can run before a sequence finishes or blocks run out.
    pub(super) fn try_leap(&mut self, start: f64, load: StepLoad) -> Option<Next> {
        let steps = self.leap_steps();
        if steps < 2.0 {
            return None;
        }
        let line = self
            .lines
            .line(&self.dep, load.decode_seqs, load.decode_context_sum);
        let steps = steps.min(line.valid_steps);
        if steps < 2.0 {
            return None;
        }
        // The first step's block was reserved by mark_decoders; the rest at the end.
        let end_s = start + line.total_s(steps);
        self.flight = Some(Flight::Leap {
            start_s: start,
            line,
            steps,
            load,
        });
        Some(Next::Wake(end_s))
    }

    /// How many identical decode steps can run before a sequence finishes or KV blocks run out.
    fn leap_steps(&self) -> f64 {
        let Some(until_done) = self.decode_run else {
            return 0.0;
        };
        // After the first (reserved) step a decoder needs at most ceil((k-1)/bs) more blocks.
        let bs = self.kv.block_tokens;
        let decoders = self.load.decode_seqs as u64;
        if decoders * u64::from((until_done - 1).div_ceil(bs)) <= self.kv.free {
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
            if extra(mid) <= self.kv.free {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        f64::from(lo)
    }

    /// An arrival at `now` during a leap: cut the run at the first step boundary at or after
    /// `now` and return that boundary as the new wake-up time (None: no leap in flight, or the
    /// run ends at its last step anyway).
    pub(super) fn cut_leap(&mut self, now: f64) -> Option<f64> {
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
}
