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

/// The kernel class that takes the largest share of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    /// Dense GEMMs: attention projections, dense MLP, shared experts, output head.
    Gemm,
    /// Grouped expert GEMMs of MoE layers.
    Experts,
    /// Attention kernels (decode and prefill).
    Attention,
    /// Norms, rotary, activations, residuals, MoE permutes: memory-bound small kernels.
    Elementwise,
    /// Exposed collectives and pipeline hand-offs.
    Communication,
    /// Fixed step cost and exposed host time.
    Overhead,
}

impl Bound {
    /// The lowercase label shown in tables and JSON: `gemm`, `experts`, `attention`,
    /// `elementwise`, `communication` or `overhead`.
    pub fn name(self) -> &'static str {
        match self {
            Bound::Gemm => "gemm",
            Bound::Experts => "experts",
            Bound::Attention => "attention",
            Bound::Elementwise => "elementwise",
            Bound::Communication => "communication",
            Bound::Overhead => "overhead",
        }
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// HBM traffic of the busiest device in one step, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ByteTraffic {
    /// Weights read, bytes: each touched weight once per micro-batch (pipeline and two-batch
    /// overlap; MoE: only the experts some token picked).
    pub weights: f64,
    /// KV cache (and recurrent state) read by attention, bytes.
    pub kv_read: f64,
    /// KV cache written for the step's new tokens, bytes.
    pub kv_write: f64,
    /// Activations read and written by the kernels, bytes.
    pub activations: f64,
}

impl ByteTraffic {
    /// All HBM traffic of the step, bytes: the numerator of MBU.
    pub fn total(&self) -> f64 {
        self.weights + self.kv_read + self.kv_write + self.activations
    }
}

/// One kernel class's time in a step: each kernel is bound by its own roofline, so the class
/// takes `launch + Σ max(compute, memory)` over its kernels. `compute_s` and `memory_s` are the
/// sums of the two sides, `launch_s` the fixed part.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ClassTime {
    /// The class's time, `launch_s + Σ max(compute, memory)` over its kernels, seconds.
    pub time_s: f64,
    /// Sum of the kernels' compute sides (FLOPs over the effective FLOP/s), seconds.
    pub compute_s: f64,
    /// Sum of the kernels' memory sides (HBM bytes over the effective bandwidth), seconds.
    pub memory_s: f64,
    /// Sum of the kernels' fixed launch (or latency) times, seconds.
    pub launch_s: f64,
}

impl ClassTime {
    /// Adds `count` kernels of `compute` and `memory` seconds each, plus their launches.
    pub(crate) fn add(&mut self, count: f64, compute: f64, memory: f64, launch: f64) {
        self.compute_s += count * compute;
        self.memory_s += count * memory;
        self.launch_s += count * launch;
        self.time_s += count * (compute.max(memory) + launch);
    }

    pub(crate) fn scaled(self, f: f64) -> ClassTime {
        ClassTime {
            time_s: self.time_s * f,
            compute_s: self.compute_s * f,
            memory_s: self.memory_s * f,
            launch_s: self.launch_s * f,
        }
    }

    /// Which side of the roofline dominates: `compute`, `memory` or `latency`.
    pub fn limit(&self) -> &'static str {
        let (c, m, l) = (self.compute_s, self.memory_s, self.launch_s);
        if l >= c && l >= m {
            "latency"
        } else if c >= m {
            "compute"
        } else {
            "memory"
        }
    }
}

/// A step's time by kernel class, summed over layers and pipeline stages (the busiest device).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct KernelTimes {
    /// Dense GEMMs: attention projections, dense MLP, shared experts, router, output head.
    pub gemm: ClassTime,
    /// Grouped expert GEMMs of MoE layers, on the busiest expert rank.
    pub experts: ClassTime,
    /// Attention of decoding sequences over their KV cache.
    pub decode_attention: ClassTime,
    /// Causal attention of prompt tokens (with their cached prefix).
    pub prefill_attention: ClassTime,
    /// Norms, rotary, activations, residuals, MoE permutes.
    pub elementwise: ClassTime,
    /// Exposed communication (after overlap) and pipeline hand-offs; `launch_s` holds latencies.
    pub communication: ClassTime,
    /// Fixed step cost, per-layer extra and exposed host time.
    pub overhead: ClassTime,
}

impl KernelTimes {
    /// Classes with their names, in step order.
    pub fn named(&self) -> [(&'static str, ClassTime); 7] {
        [
            ("gemm", self.gemm),
            ("experts", self.experts),
            ("decode_attention", self.decode_attention),
            ("prefill_attention", self.prefill_attention),
            ("elementwise", self.elementwise),
            ("communication", self.communication),
            ("overhead", self.overhead),
        ]
    }
}

/// The priced step. Times are for the whole step of the replica (all pipeline micro-batches);
/// FLOPs and bytes are those of the busiest device, summed over the step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepCost {
    /// Wall time of the step: the GPU time (kernel classes summed, plus exposed communication),
    /// or the host time where the engine overlaps it and it is longer, plus the fixed step cost.
    pub time_s: f64,
    /// Sum over kernel classes of their compute sides.
    pub compute_s: f64,
    /// Sum over kernel classes of their memory sides.
    pub memory_s: f64,
    /// Communication time not hidden behind compute.
    pub comm_s: f64,
    /// Fixed step cost, per-layer extras and exposed host time.
    pub overhead_s: f64,
    /// GPU busy time (every class but the fixed step cost and host time).
    pub gpu_s: f64,
    /// Host time for the step's sequences (exposed only beyond the GPU time with overlap).
    pub host_s: f64,
    /// The step's time by kernel class.
    pub kernels: KernelTimes,
    /// FLOPs of the busiest device in the step (2 per multiply-add), FLOP.
    pub flops: f64,
    /// HBM traffic of the busiest device in the step, by kind.
    pub bytes: ByteTraffic,
    /// Bytes each device sends over the network.
    pub comm_bytes: f64,
    /// The kernel class with the largest share of `time_s`.
    pub bound: Bound,
    /// Fraction of the device's dense peak FLOP/s used (at the compute precision).
    pub mfu: f64,
    /// Fraction of the device's HBM bandwidth used.
    pub mbu: f64,
}
