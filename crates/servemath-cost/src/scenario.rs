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
