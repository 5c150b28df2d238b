//! Requests and where they come from: synthetic arrival processes and length distributions,
//! and readers for public serving traces. Pure: readers take `&str`, generators own a seeded RNG.

mod arrivals;
mod error;
mod lengths;
pub mod rng;
mod synthetic;
pub mod trace;

pub use arrivals::{ArrivalClock, Arrivals, DailyProfile, MAX_CV, MIN_RATE_PER_S};
pub use error::WorkloadError;
pub use lengths::{
    Empirical, LengthDist, LengthPair, LengthSampler, Lengths, MAX_SIGMA, MAX_TOKENS,
};
pub use synthetic::{Limit, Synthetic, SyntheticRequests};
pub use trace::{BucketReplay, ReadOptions, Trace, TraceContents, TraceError, TraceFormat};

/// One request as the simulator sees it. Lengths are known to the simulator, not to the
/// scheduler (unless a scheduler is told).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Arrival time, seconds from the start of the run.
    pub arrival_s: f64,
    /// Prompt tokens (the readers and distributions give 1 to `MAX_TOKENS`; the engine reads
    /// 0 as 1).
    pub input_tokens: u32,
    /// Output tokens to generate, the first included (as `input_tokens`, 0 is read as 1).
    pub output_tokens: u32,
    /// Prefix-block hashes where the trace carries them (Mooncake: 512-token blocks).
    pub prefix: Option<Prefix>,
}

impl Request {
    /// A request without prefix hashes.
    pub fn new(arrival_s: f64, input_tokens: u32, output_tokens: u32) -> Self {
        Self {
            arrival_s,
            input_tokens,
            output_tokens,
            prefix: None,
        }
    }
}

/// The prompt's KV blocks as hashes: equal hashes are the same reusable prefix block.
#[derive(Debug, Clone, PartialEq)]
pub struct Prefix {
    /// Prompt tokens each hash covers (Mooncake: [`MOONCAKE_BLOCK_TOKENS`](trace::MOONCAKE_BLOCK_TOKENS)).
    pub block_tokens: u32,
    /// One hash per block of the prompt, in prompt order; a request reuses the cached blocks
    /// its leading hashes match.
    pub hashes: Box<[u64]>,
}
