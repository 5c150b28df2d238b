//! Request-level figures from step costs: TTFT, time per output token, throughput, the floor and the balance batch.

use crate::deployment::Deployment;
use crate::memory::MemoryFit;
use crate::step::{StepCost, StepLoad};
use serde::Serialize;

/// A batch of identical requests served together.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BatchEstimate {
    /// Requests served together, `B` (across the replica's attention-DP ranks).
    pub batch: f64,
    /// The request front end (`request_overhead_s`) plus the prefill of every prompt of the
    /// batch in one step (simultaneous arrival).
    pub ttft_s: f64,
    /// Decode step at the batch's mean context over the generation, `input + output/2`.
    pub tpot_s: f64,
    /// `ttft + (output − 1) · tpot`.
    pub e2e_s: f64,
    /// Generation speed one user sees, `1 / tpot`, tokens/s.
    pub tokens_per_s_per_user: f64,
    /// `batch · output / (e2e · GPUs)`.
    pub output_tokens_per_s_per_gpu: f64,
    /// The prefill step of every prompt, no cached prefix.
    pub prefill: StepCost,
    /// The decode step that sets `tpot_s`.
    pub decode: StepCost,
    /// Memory of the busiest device with every sequence at `input + output` tokens.
    pub memory: MemoryFit,
}

impl Deployment {
    /// Serves `batch` requests of `input` prompt tokens and `output` generated tokens.
    pub fn estimate(&self, batch: f64, input: f64, output: f64) -> BatchEstimate {
        let prefill = self.step(&StepLoad::prefill(batch, input, 0.0));
        let decode = self.step(&StepLoad::decode(batch, input + output / 2.0));
        // What a client sees: the front end, then the prefill step.
        let ttft_s = self.params().request_overhead_s + prefill.time_s;
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
        s.bytes.weights / self.gemm_bytes_per_s()
    }

    /// Balance batch B*: the decode batch at which matmul compute time equals weight-read time
    /// at the GEMMs' effective rates (KV cache left out, context 0). Below it a step is weight-bound, above it compute-bound.
    /// Found by bisection: compute grows linearly with batch while the weights touched grow
    /// only until every expert is read.
    pub fn balance_batch(&self) -> f64 {
        let gap = |b: f64| {
            let s = self.step(&StepLoad::decode(b, 0.0));
            let compute = s.flops / self.gemm_flop_per_s();
            let weights = s.bytes.weights / self.gemm_bytes_per_s();
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
/// in closed form: step `k` takes `max(c0 + k·dc, m0 + k·dm, floor) + fixed` seconds, exactly
/// as [`Deployment::step`] prices it, for `k < valid_steps` (beyond, a sliding window or chunk
/// caps some layer's attention and a new line starts). Only decode attention grows with the
/// context: `c0`/`m0` are the step's GPU time with decode attention on its compute or its
/// memory side; `floor` is the host time an overlapping engine hides behind the GPU (0
/// otherwise); `fixed` the fixed step cost (plus the host time when it is not overlapped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeLine {
    /// GPU time of step 0 with decode attention on its compute side, seconds.
    pub c0: f64,
    /// Growth of `c0` per step, seconds per step.
    pub dc: f64,
    /// GPU time of step 0 with decode attention on its memory side, seconds.
    pub m0: f64,
    /// Growth of `m0` per step, seconds per step.
    pub dm: f64,
    /// Host time hidden behind the GPU by an overlapping engine, seconds; 0 without overlap.
    pub floor: f64,
    /// Fixed cost of every step (plus host time when not overlapped), seconds.
    pub fixed: f64,
    /// Steps (from k = 0) for which the line is exact; `f64::INFINITY` when no window lies ahead.
    pub valid_steps: f64,
    /// FLOPs and HBM bytes of step `k` (busiest device): `flops0 + k·dflops`, `bytes0 + k·dbytes`.
    pub flops0: f64,
    /// FLOPs added per step (longer attention), FLOP.
    pub dflops: f64,
    /// HBM bytes of step 0, bytes.
    pub bytes0: f64,
    /// HBM bytes added per step (KV cache read), bytes.
    pub dbytes: f64,
}

impl DecodeLine {
    /// Time of step `k`.
    pub fn step_s(&self, k: f64) -> f64 {
        (self.c0 + k * self.dc)
            .max(self.m0 + k * self.dm)
            .max(self.floor)
            + self.fixed
    }

    /// FLOPs and bytes of steps `0..n`.
    pub fn work(&self, n: f64) -> (f64, f64) {
        let tri = n * (n - 1.0) / 2.0;
        (
            n * self.flops0 + tri * self.dflops,
            n * self.bytes0 + tri * self.dbytes,
        )
    }

    /// Time of steps `0..n`: arithmetic series over the stretches of integer `k` on which one
    /// of the three lines (compute, memory, floor) leads.
    pub fn total_s(&self, n: f64) -> f64 {
        if n <= 0.0 {
            return 0.0;
        }
        let lines = [(self.c0, self.dc), (self.m0, self.dm), (self.floor, 0.0)];
        // Where the upper envelope can change: every pairwise crossing inside (0, n).
        let mut cuts = [0.0f64; 5];
        let mut count = 0;
        for i in 0..3 {
            for j in (i + 1)..3 {
                let (a, b) = (lines[i], lines[j]);
                let slope = a.1 - b.1;
                // Exact comparison is intended: parallel lines never cross.
                if slope.abs() > 0.0 {
                    let x = (b.0 - a.0) / slope;
                    if x > 0.0 && x < n {
                        cuts[count] = x;
                        count += 1;
                    }
                }
            }
        }
        let cuts = &mut cuts[..count];
        cuts.sort_by(f64::total_cmp);
        // Sum of a + b·k over integer k in [from, to).
        let series = |(a, b): (f64, f64), from: f64, to: f64| {
            let c = to - from;
            if c <= 0.0 {
                0.0
            } else {
                c * a + b * (from + to - 1.0) * c / 2.0
            }
        };
        let mut total = 0.0;
        let mut from = 0.0;
        for end in cuts.iter().copied().chain(std::iter::once(n)) {
            // Integer steps whose k lies in [from, end): one line leads throughout.
            let to = end.ceil().min(n);
            if to > from {
                let mid = (from + to - 1.0) / 2.0;
                let lead = lines
                    .iter()
                    .copied()
                    .max_by(|x, y| (x.0 + x.1 * mid).total_cmp(&(y.0 + y.1 * mid)))
                    .unwrap_or(lines[0]);
                total += series(lead, from, to);
                from = to;
            }
        }
        total + n * self.fixed
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
            .model()
            .groups
            .iter()
            .flat_map(|g| {
                // Contexts at which a layer's attended keys stop growing as before.
                let bounds: [Option<u64>; 2] = match g.attention.span() {
                    servemath_model::AttentionSpan::Full
                    | servemath_model::AttentionSpan::Recurrent => [None, None],
                    servemath_model::AttentionSpan::Sliding { window }
                    | servemath_model::AttentionSpan::Chunked { chunk: window }
                    | servemath_model::AttentionSpan::Sparse { top_k: window } => {
                        [Some(window), None]
                    }
                    servemath_model::AttentionSpan::Compressed {
                        window,
                        ratio,
                        top_k,
                    } => [Some(window), top_k.map(|k| k.saturating_mul(ratio.max(1)))],
                };
                bounds.into_iter().flatten().filter_map(|window| {
                    let room = window as f64 - 1.0 - mean;
                    // Already capped: constant from here on.
                    (room > 0.0).then(|| room.floor() + 1.0)
                })
            })
            .fold(f64::INFINITY, f64::min);
        // GPU time with decode attention's roofline taken off; it is the only part that grows.
        let a0 = s0.kernels.decode_attention;
        let a1 = s1.kernels.decode_attention;
        let rest = s0.gpu_s - (a0.time_s - a0.launch_s);
        let (floor, fixed) = if self.params().host_overlap >= 1.0 {
            (s0.host_s, self.params().step_overhead_s)
        } else {
            (0.0, self.params().step_overhead_s + s0.host_s)
        };
        DecodeLine {
            c0: rest + a0.compute_s,
            dc: a1.compute_s - a0.compute_s,
            m0: rest + a0.memory_s,
            dm: a1.memory_s - a0.memory_s,
            floor,
            fixed,
            valid_steps: if valid_steps < 2.0 { 1.0 } else { valid_steps },
            flops0: s0.flops,
            dflops: s1.flops - s0.flops,
            bytes0: s0.bytes.total(),
            dbytes: s1.bytes.total() - s0.bytes.total(),
        }
    }
}
