//! How a replica schedules its steps.

use serde::Serialize;

/// The scheduling policy of a replica.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Policy {
    /// Collect a full batch (or wait `timeout_s` after the first arrival), prefill it in one
    /// step, decode until every sequence is done; admit nobody meanwhile.
    Static { batch: u32, timeout_s: f64 },
    /// Iteration-level batching without chunking (vLLM V0's default): a step is either a
    /// prefill of newly admitted prompts (preferred when one can be admitted) or a decode step
    /// of every running sequence.
    Continuous,
    /// Chunked prefill: every step decodes every running sequence and fills the rest of the
    /// token budget with prompt chunks (vLLM V1, SGLang, TensorRT-LLM).
    Chunked,
    /// Fixed-period trains: a step departs every `period_s` carrying whoever is ready, composed
    /// as in chunked prefill; a step longer than the period delays the next departure.
    Train { period_s: f64 },
}

impl Policy {
    pub fn name(&self) -> &'static str {
        match self {
            Policy::Static { .. } => "static",
            Policy::Continuous => "continuous",
            Policy::Chunked => "chunked",
            Policy::Train { .. } => "train",
        }
    }
}

/// Scheduler limits, with vLLM's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SchedulerConfig {
    pub policy: Policy,
    /// Most sequences running at once (vLLM `max_num_seqs`, default 256).
    pub max_seqs: u32,
    /// Most tokens in one step (vLLM `max_num_batched_tokens`; 2048 with chunked prefill,
    /// 8192 here for whole-prompt prefill so long prompts fit in one step).
    pub max_batched_tokens: u32,
    /// KV-cache block size in tokens (vLLM `block_size`, default 16).
    pub block_tokens: u32,
    /// Reuse cached prompt-prefix blocks where requests carry block hashes (vLLM V1 enables
    /// automatic prefix caching by default).
    pub prefix_caching: bool,
}

impl SchedulerConfig {
    /// vLLM-like defaults for `policy`.
    pub fn vllm(policy: Policy) -> SchedulerConfig {
        let max_batched_tokens = match policy {
            Policy::Chunked | Policy::Train { .. } => 2048,
            Policy::Static { .. } | Policy::Continuous => 8192,
        };
        SchedulerConfig {
            policy,
            max_seqs: 256,
            max_batched_tokens,
            block_tokens: 16,
            prefix_caching: true,
        }
    }
}

/// Which part of the work a replica does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    /// Prefill and decode on the same replica.
    Unified,
    /// Prefill only; finished prompts hand their KV cache to a decode replica.
    Prefill,
    /// Decode only, of sequences prefilled elsewhere.
    Decode,
}

/// The network between prefill and decode pools.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KvTransfer {
    /// Bytes per second one sequence's KV cache moves at (all sending GPUs together).
    pub bytes_per_s: f64,
    pub latency_s: f64,
}
