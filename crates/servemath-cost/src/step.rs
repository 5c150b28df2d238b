//! The work in one forward step and what it costs.

use serde::Serialize;
use std::ops::Add;

/// What one replica computes in one step, as sums over its sequences (so it costs O(1) to price).
///
/// Contexts are averaged per kind when a layer has a sliding window or chunk (each sequence is
/// priced at the mean context); for full-attention layers the sums are exact.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct StepLoad {
    /// Sequences generating one token each.
    pub decode_seqs: f64,
    /// Sum over decode sequences of the tokens already in their KV cache.
    pub decode_context_sum: f64,
    /// Sequences with prompt tokens in this step (whole prompts or chunks).
    pub prefill_seqs: f64,
    /// New prompt tokens in this step.
    pub prefill_tokens: f64,
    /// Sum over prefill sequences of the tokens already cached before this chunk.
    pub prefill_prefix_sum: f64,
}

impl StepLoad {
    /// `batch` sequences each decoding one token after `context` cached tokens.
    pub fn decode(batch: f64, context: f64) -> StepLoad {
        StepLoad {
            decode_seqs: batch,
            decode_context_sum: batch * context,
            ..StepLoad::default()
        }
    }

    /// `seqs` prompts (or chunks) of `tokens` new tokens each after `prefix` cached tokens.
    pub fn prefill(seqs: f64, tokens: f64, prefix: f64) -> StepLoad {
        StepLoad {
            prefill_seqs: seqs,
            prefill_tokens: seqs * tokens,
            prefill_prefix_sum: seqs * prefix,
            ..StepLoad::default()
        }
    }

    /// Tokens through the network in this step.
    pub fn tokens(&self) -> f64 {
        self.decode_seqs + self.prefill_tokens
    }

    /// Sequences that produce logits (every decode and every prefill chunk).
    pub fn logit_rows(&self) -> f64 {
        self.decode_seqs + self.prefill_seqs
    }

    /// The same load scaled by `f` (a pipeline micro-batch is `1/pp` of the step).
    pub fn scaled(&self, f: f64) -> StepLoad {
        StepLoad {
            decode_seqs: self.decode_seqs * f,
            decode_context_sum: self.decode_context_sum * f,
            prefill_seqs: self.prefill_seqs * f,
            prefill_tokens: self.prefill_tokens * f,
            prefill_prefix_sum: self.prefill_prefix_sum * f,
        }
    }
}

impl Add for StepLoad {
    type Output = StepLoad;
    fn add(self, o: StepLoad) -> StepLoad {
        StepLoad {
            decode_seqs: self.decode_seqs + o.decode_seqs,
            decode_context_sum: self.decode_context_sum + o.decode_context_sum,
            prefill_seqs: self.prefill_seqs + o.prefill_seqs,
            prefill_tokens: self.prefill_tokens + o.prefill_tokens,
            prefill_prefix_sum: self.prefill_prefix_sum + o.prefill_prefix_sum,
        }
    }
}

/// Which resource sets a step's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    Compute,
    Memory,
    Communication,
    Overhead,
}

impl Bound {
    pub fn name(self) -> &'static str {
        match self {
            Bound::Compute => "compute",
            Bound::Memory => "memory",
            Bound::Communication => "communication",
            Bound::Overhead => "overhead",
        }
    }
}

/// HBM traffic of the busiest device in one step, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ByteTraffic {
    pub weights: f64,
    pub kv_read: f64,
    pub kv_write: f64,
    pub activations: f64,
}

impl ByteTraffic {
    pub fn total(&self) -> f64 {
        self.weights + self.kv_read + self.kv_write + self.activations
    }
}

/// The priced step. Times are for the whole step of the replica (all pipeline micro-batches);
/// FLOPs and bytes are those of the busiest device, summed over the step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepCost {
    /// Wall time of the step: `max(compute, memory) + exposed communication + overhead`, per stage, times the stages a token crosses.
    pub time_s: f64,
    pub compute_s: f64,
    pub memory_s: f64,
    /// Communication time not hidden behind compute.
    pub comm_s: f64,
    pub overhead_s: f64,
    pub flops: f64,
    pub bytes: ByteTraffic,
    /// Bytes each device sends over the network.
    pub comm_bytes: f64,
    pub bound: Bound,
    /// Fraction of the device's dense peak FLOP/s used (at the compute precision).
    pub mfu: f64,
    /// Fraction of the device's HBM bandwidth used.
    pub mbu: f64,
}
