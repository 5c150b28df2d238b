//! The workload's random streams: one `ChaCha8Rng` seed, a separate stream per purpose, so
//! that a change to one part of a workload (the length distribution, say) leaves the numbers
//! drawn by the others untouched, and runs are reproducible bit for bit on every platform.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Inter-arrival gaps of synthetic arrival processes.
pub const ARRIVAL_STREAM: u64 = 0;
/// Prompt and output lengths ([`super::LengthSampler`]).
pub const LENGTH_STREAM: u64 = 1;
/// Offsets that spread a trace's quantized timestamps within their buckets.
pub const SPREAD_STREAM: u64 = 2;

/// `ChaCha8Rng::seed_from_u64(seed)` switched to `stream`.
pub fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}
