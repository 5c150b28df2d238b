//! Requests and where they come from: synthetic arrival processes and length distributions,
//! and readers for public serving traces. Pure: readers take `&str`, generators own a seeded RNG.

/// One request as the simulator sees it. Lengths are known to the simulator, not to the
/// scheduler (unless a scheduler is told).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Arrival time, seconds from the start of the run.
    pub arrival_s: f64,
    pub input_tokens: u32,
    pub output_tokens: u32,
    /// Prefix-block hashes where the trace carries them (Mooncake: 512-token blocks).
    pub prefix: Option<Prefix>,
}

/// The prompt's KV blocks as hashes: equal hashes are the same reusable prefix block.
#[derive(Debug, Clone, PartialEq)]
pub struct Prefix {
    pub block_tokens: u32,
    pub hashes: Box<[u64]>,
}
