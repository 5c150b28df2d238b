//! Request-level figures from step costs: TTFT, time per output token, throughput, the floor and the balance batch.

use crate::deployment::Deployment;
use crate::memory::MemoryFit;
use crate::step::{StepCost, StepLoad};
use serde::Serialize;

/// A batch of identical requests served together.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BatchEstimate {
    pub batch: f64,
    /// Prefill of every prompt in the batch in one step (simultaneous arrival).
    pub ttft_s: f64,
    /// Decode step at the batch's mean context over the generation, `input + output/2`.
    pub tpot_s: f64,
    /// `ttft + (output − 1) · tpot`.
    pub e2e_s: f64,
    pub tokens_per_s_per_user: f64,
    /// `batch · output / (e2e · GPUs)`.
    pub output_tokens_per_s_per_gpu: f64,
    pub prefill: StepCost,
    pub decode: StepCost,
    pub memory: MemoryFit,
}

impl Deployment {
    /// Serves `batch` requests of `input` prompt tokens and `output` generated tokens.
    pub fn estimate(&self, batch: f64, input: f64, output: f64) -> BatchEstimate {
        let prefill = self.step(&StepLoad::prefill(batch, input, 0.0));
        let decode = self.step(&StepLoad::decode(batch, input + output / 2.0));
        let ttft_s = prefill.time_s;
        let tpot_s = decode.time_s;
        let e2e_s = ttft_s + (output - 1.0).max(0.0) * tpot_s;
        BatchEstimate {
            batch,
            ttft_s,
            tpot_s,
            e2e_s,
            tokens_per_s_per_user: 1.0 / tpot_s,
            output_tokens_per_s_per_gpu: batch * output / (e2e_s * f64::from(self.gpus())),
            prefill,
            decode,
            memory: self.memory(batch, input + output),
        }
    }

    /// Steady-state output tokens/s of one replica under continuous batching with chunked prefill:
    /// every step decodes `batch` sequences at the mean context `input + output/2` and carries
    /// the prompt tokens of the `batch/output` requests that replace the ones finishing.
    pub fn steady_output_tokens_per_s(&self, batch: f64, input: f64, output: f64) -> StepCost {
        let load = StepLoad::decode(batch, input + output / 2.0)
            + StepLoad::prefill(batch / output, input, 0.0);
        self.step(&load)
    }

    /// The latency floor: time to read the weights one single-token step touches, at the
    /// achievable bandwidth. No batch size makes a step faster.
    pub fn floor_s(&self) -> f64 {
        let s = self.step(&StepLoad::decode(1.0, 0.0));
        s.bytes.weights / (self.hardware.hbm_bytes_per_s * self.params.memory_efficiency)
    }

    /// Balance batch B*: the decode batch at which matmul compute time equals weight-read time
    /// (KV cache left out, context 0). Below it a step is weight-bound, above it compute-bound.
    /// Found by bisection: compute grows linearly with batch while the weights touched grow
    /// only until every expert is read.
    pub fn balance_batch(&self) -> f64 {
        let gap = |b: f64| {
            let s = self.step(&StepLoad::decode(b, 0.0));
            let compute = s.flops / (self.peak_flop_per_s() * self.params.compute_efficiency);
            let weights =
                s.bytes.weights / (self.hardware.hbm_bytes_per_s * self.params.memory_efficiency);
            compute - weights
        };
        let (mut lo, mut hi) = (1e-3, 1e9);
        if gap(lo) >= 0.0 {
            return lo;
        }
        if gap(hi) < 0.0 {
            return f64::INFINITY;
        }
        for _ in 0..200 {
            let mid = (lo * hi).sqrt();
            if gap(mid) < 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi / lo < 1.0 + 1e-9 {
                break;
            }
        }
        (lo * hi).sqrt()
    }
}

/// A run of pure-decode steps of a fixed batch whose contexts grow by one token per step,
/// in closed form: step `k` takes `max(c0 + k·dc, m0 + k·dm) + fixed` seconds, exactly as
/// [`Deployment::step`] prices it, for `k < valid_steps` (beyond, a sliding window or chunk
/// caps some layer's attention and a new line starts).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeLine {
    pub c0: f64,
    pub dc: f64,
    pub m0: f64,
    pub dm: f64,
    pub fixed: f64,
    /// Steps (from k = 0) for which the line is exact; `f64::INFINITY` when no window lies ahead.
    pub valid_steps: f64,
    /// FLOPs and HBM bytes of step `k` (busiest device): `flops0 + k·dflops`, `bytes0 + k·dbytes`.
    pub flops0: f64,
    pub dflops: f64,
    pub bytes0: f64,
    pub dbytes: f64,
}

impl DecodeLine {
    /// Time of step `k`.
    pub fn step_s(&self, k: f64) -> f64 {
        (self.c0 + k * self.dc).max(self.m0 + k * self.dm) + self.fixed
    }

    /// FLOPs and bytes of steps `0..n`.
    pub fn work(&self, n: f64) -> (f64, f64) {
        let tri = n * (n - 1.0) / 2.0;
        (
            n * self.flops0 + tri * self.dflops,
            n * self.bytes0 + tri * self.dbytes,
        )
    }

    /// Time of steps `0..n`: two arithmetic series, split where compute and memory cross.
    pub fn total_s(&self, n: f64) -> f64 {
        if n <= 0.0 {
            return 0.0;
        }
        // Sum of a + b·k over integer k in [from, to).
        let series = |a: f64, b: f64, from: f64, to: f64| {
            let count = to - from;
            count * a + b * (from + to - 1.0) * count / 2.0
        };
        let compute = (self.c0, self.dc);
        let memory = (self.m0, self.dm);
        // D(k) = compute − memory is linear; find the steps on each side of its root.
        // Equal slopes: one line leads throughout (exact comparison is intended: any other
        // difference has a root).
        let (before, after, split) = if (self.dc - self.dm).abs() <= 0.0 {
            let lead = if self.c0 >= self.m0 { compute } else { memory };
            (lead, lead, n)
        } else {
            let root = (self.m0 - self.c0) / (self.dc - self.dm);
            if self.dc > self.dm {
                (memory, compute, root.ceil().clamp(0.0, n))
            } else {
                (compute, memory, (root.floor() + 1.0).clamp(0.0, n))
            }
        };
        series(before.0, before.1, 0.0, split) + series(after.0, after.1, split, n) + n * self.fixed
    }
}

impl Deployment {
    /// The closed-form line of decode steps for `batch` sequences whose contexts sum to
    /// `context_sum`, growing by `batch` tokens per step.
    pub fn decode_line(&self, batch: f64, context_sum: f64) -> DecodeLine {
        let at = |k: f64| {
            self.step(&StepLoad {
                decode_seqs: batch,
                decode_context_sum: context_sum + k * batch,
                ..StepLoad::default()
            })
        };
        let s0 = at(0.0);
        let s1 = at(1.0);
        let mean = context_sum / batch;
        let valid_steps = self
            .model
            .groups
            .iter()
            .filter_map(|g| match g.attention.span() {
                servemath_model::AttentionSpan::Full => None,
                servemath_model::AttentionSpan::Sliding { window }
                | servemath_model::AttentionSpan::Chunked { chunk: window } => {
                    let room = window as f64 - 1.0 - mean;
                    // Already capped: constant from here on.
                    (room > 0.0).then(|| room.floor() + 1.0)
                }
            })
            .fold(f64::INFINITY, f64::min);
        DecodeLine {
            c0: s0.compute_s,
            dc: s1.compute_s - s0.compute_s,
            m0: s0.memory_s,
            dm: s1.memory_s - s0.memory_s,
            fixed: s0.time_s - s0.compute_s.max(s0.memory_s),
            valid_steps: if valid_steps < 2.0 { 1.0 } else { valid_steps },
            flops0: s0.flops,
            dflops: s1.flops - s0.flops,
            bytes0: s0.bytes.total(),
            dbytes: s1.bytes.total() - s0.bytes.total(),
        }
    }
}
