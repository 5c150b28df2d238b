//! Latency records and streaming percentiles whose memory does not grow with the run.

use serde::Serialize;

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Record {
    pub id: u64,
    pub replica: u32,
    pub arrival_s: f64,
    /// First time any of its prompt entered a step.
    pub admitted_s: f64,
    pub first_token_s: f64,
    pub completion_s: f64,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub preemptions: u32,
}

impl Record {
    pub fn queue_s(&self) -> f64 {
        self.admitted_s - self.arrival_s
    }
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
    pub fn e2e_s(&self) -> f64 {
        self.completion_s - self.arrival_s
    }
}

/// Log-bucketed histogram: buckets 0.1 % wide from 1 µs to 1e6 s, so percentiles carry at
/// most 0.1 % relative error and the memory is fixed (about 28,000 counters).
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
}

const LO: f64 = 1e-6;
const GROWTH: f64 = 1.001;

impl Default for Histogram {
    fn default() -> Self {
        let buckets = ((1e6f64 / LO).ln() / GROWTH.ln()).ceil() as usize + 2;
        Histogram {
            counts: vec![0; buckets],
            n: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: 0.0,
        }
    }
}

impl Histogram {
    pub fn add(&mut self, v: f64) {
        self.add_n(v, 1);
    }

    /// Adds `count` samples of value `v`.
    pub fn add_n(&mut self, v: f64, count: u64) {
        if count == 0 {
            return;
        }
        let i = if v <= LO {
            0
        } else {
            (((v / LO).ln() / GROWTH.ln()).floor() as usize + 1).min(self.counts.len() - 1)
        };
        self.counts[i] += count;
        self.n += count;
        self.sum += v * count as f64;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }

    pub fn max(&self) -> f64 {
        self.max
    }

    /// The `q`-quantile (0..=1), as the geometric middle of its bucket (the max for q = 1).
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
                if i == 0 {
                    // At or below 1 µs: the smallest value seen (often exactly 0).
                    return self.min;
                }
                let lo = LO * GROWTH.powi(i as i32 - 1);
                return (lo * GROWTH.sqrt()).min(self.max);
            }
        }
        self.max
    }
}

/// p50 / p90 / p99 / max and mean of one latency.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Percentiles {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl From<&Histogram> for Percentiles {
    fn from(h: &Histogram) -> Self {
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
