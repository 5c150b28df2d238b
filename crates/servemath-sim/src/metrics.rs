//! Latency records and streaming percentiles whose memory does not grow with the run.

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record {
    /// Arrival order, from 0 (rejected requests take a number too).
    pub id: u64,
    /// Index in `SimConfig::replicas` of the replica it completed on (with disaggregation,
    /// the decode replica).
    pub replica: u32,
    /// Arrival time, seconds from the start of the run.
    pub arrival_s: f64,
    /// First time any of its prompt entered a step.
    pub admitted_s: f64,
    /// End of the step that produced the first output token, seconds.
    pub first_token_s: f64,
    /// End of the step that produced the last output token, seconds.
    pub completion_s: f64,
    /// Prompt tokens (at least 1).
    pub input_tokens: u32,
    /// Output tokens generated (at least 1).
    pub output_tokens: u32,
    /// Times it was evicted to free KV blocks and recomputed from scratch.
    pub preemptions: u32,
}

impl Record {
    /// Seconds from arrival to admission.
    pub fn queue_s(&self) -> f64 {
        self.admitted_s - self.arrival_s
    }
    /// Time to first token: seconds from arrival to the first output token.
    pub fn ttft_s(&self) -> f64 {
        self.first_token_s - self.arrival_s
    }
    /// Mean time per output token after the first (0 for one-token outputs).
    pub fn tpot_s(&self) -> f64 {
        if self.output_tokens > 1 {
            (self.completion_s - self.first_token_s) / f64::from(self.output_tokens - 1)
        } else {
            0.0
        }
    }
    /// End-to-end latency: seconds from arrival to the last output token.
    pub fn e2e_s(&self) -> f64 {
        self.completion_s - self.arrival_s
    }
}

/// Log-linear histogram (HDR style): one bucket per 1/1024 of each power of two from 2⁻²⁰ s
/// (about 1 µs) to 2²⁰ s, so percentiles carry at most 0.1 % relative error, a sample costs a
/// shift of its bits (no logarithm), and the memory is fixed (40,962 counters).
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
}

/// Mantissa bits kept per bucket: 2¹⁰ buckets per octave.
const SUB_BITS: u32 = 10;
const MIN_EXP: i64 = -20;
const MAX_EXP: i64 = 20;
const BUCKETS: usize = ((MAX_EXP - MIN_EXP) as usize) << SUB_BITS;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            // Bucket 0: at or below 2⁻²⁰ s; the last: at or above 2²⁰ s.
            counts: vec![0; BUCKETS + 2],
            n: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: 0.0,
        }
    }
}

/// Bucket of a positive finite value: biased exponent and top mantissa bits of its IEEE bits.
fn bucket(v: f64) -> usize {
    let bits = v.to_bits() >> (52 - SUB_BITS);
    let lo = ((MIN_EXP + 1023) as u64) << SUB_BITS;
    let hi = ((MAX_EXP + 1023) as u64) << SUB_BITS;
    if v.is_nan() || v <= 0.0 || bits < lo {
        0
    } else if bits >= hi {
        BUCKETS + 1
    } else {
        (bits - lo) as usize + 1
    }
}

/// The geometric middle of bucket `i` (1..=BUCKETS).
fn bucket_middle(i: usize) -> f64 {
    let lo_bits = ((i as u64 - 1) + (((MIN_EXP + 1023) as u64) << SUB_BITS)) << (52 - SUB_BITS);
    let lo = f64::from_bits(lo_bits);
    let hi = f64::from_bits(lo_bits + (1u64 << (52 - SUB_BITS)));
    (lo * hi).sqrt()
}

impl Histogram {
    /// Adds one sample of value `v` (seconds, or any positive quantity; 0 and values below
    /// 2⁻²⁰ share the lowest bucket, which reads back as the smallest value seen).
    pub fn add(&mut self, v: f64) {
        self.add_n(v, 1);
    }

    /// Adds `count` samples of value `v`.
    pub fn add_n(&mut self, v: f64, count: u64) {
        if count == 0 {
            return;
        }
        self.counts[bucket(v)] += count;
        self.n += count;
        self.sum += v * count as f64;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Samples added.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The exact mean of the samples; 0 when there are none.
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }

    /// The exact largest sample; 0 when there are none.
    pub fn max(&self) -> f64 {
        self.max
    }

    /// The `q`-quantile (0..=1), as the geometric middle of its bucket, clamped to the range
    /// seen (exact at the ends: 0 stays 0, q = 1 is the max).
    pub fn quantile(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        if q >= 1.0 {
            return self.max;
        }
        let rank = (q * self.n as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return match i {
                    0 => self.min,
                    i if i > BUCKETS => self.max,
                    i => bucket_middle(i).clamp(self.min, self.max),
                };
            }
        }
        self.max
    }
}

/// p50 / p90 / p99 / max and mean of one latency, in seconds; every field NaN when there is
/// no sample.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Percentiles {
    /// Exact mean.
    pub mean: f64,
    /// Median, within 0.1 % (the middle of its histogram bucket).
    pub p50: f64,
    /// 90th percentile, within 0.1 %.
    pub p90: f64,
    /// 99th percentile, within 0.1 %.
    pub p99: f64,
    /// Exact largest value.
    pub max: f64,
}

impl From<&Histogram> for Percentiles {
    /// An empty sample has no percentiles: every field is NaN (`null` in JSON, `-` in tables),
    /// never a latency of 0 s.
    fn from(h: &Histogram) -> Self {
        if h.count() == 0 {
            return Percentiles {
                mean: f64::NAN,
                p50: f64::NAN,
                p90: f64::NAN,
                p99: f64::NAN,
                max: f64::NAN,
            };
        }
        Percentiles {
            mean: h.mean(),
            p50: h.quantile(0.5),
            p90: h.quantile(0.9),
            p99: h.quantile(0.99),
            max: h.max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_latencies_read_as_zero() {
        let mut h = Histogram::default();
        for _ in 0..10 {
            h.add(0.0);
        }
        h.add(1.0);
        assert_eq!(h.quantile(0.5).to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn out_of_range_values_read_back_as_seen() {
        let mut h = Histogram::default();
        h.add(1e7);
        assert!((h.quantile(0.5) - 1e7).abs() < 1e-6);
        h.add(3e-9);
        assert!((h.quantile(0.1) - 3e-9).abs() < 1e-20);
    }

    #[test]
    fn quantiles_are_within_a_bucket() {
        let mut h = Histogram::default();
        for i in 1..=1000 {
            h.add(i as f64 * 1e-3);
        }
        // p50 of 1..1000 ms is 500 ms; p99 990 ms; bucket width 0.1 %.
        assert!(
            (h.quantile(0.5) / 0.5 - 1.0).abs() < 2e-3,
            "{}",
            h.quantile(0.5)
        );
        assert!((h.quantile(0.99) / 0.99 - 1.0).abs() < 2e-3);
        assert!((h.quantile(1.0) - 1.0).abs() < 1e-12);
        assert!((h.mean() - 0.5005).abs() < 1e-9);
    }
}
