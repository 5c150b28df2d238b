//! Open-loop synthetic workloads: an arrival process, a length source, a seed and a limit,
//! yielding [`Request`]s lazily in arrival order with constant memory.
//!
//! Closed-loop clients (N users, each sending the next request when the last finishes) are the
//! engine's business, since only it knows when a request finishes: it draws each new request's
//! lengths from a [`LengthSampler`].

use super::arrivals::{ArrivalClock, Arrivals};
use super::error::WorkloadError;
use super::lengths::{LengthSampler, Lengths};
use super::Request;

/// When a synthetic workload stops: after `requests` arrivals, at `duration_s` (arrivals at
/// `t < duration_s` only), or at whichever comes first. At least one must be set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Stop after this many arrivals (None: no count limit; 0 gives no requests).
    pub requests: Option<u64>,
    /// Keep arrivals before this many seconds (None: no time limit; else finite, above 0).
    pub duration_s: Option<f64>,
}

impl Limit {
    /// Stop after `n` arrivals, however long they take.
    pub fn requests(n: u64) -> Self {
        Self {
            requests: Some(n),
            duration_s: None,
        }
    }

    /// Keep the arrivals before `s` seconds, however many.
    pub fn duration_s(s: f64) -> Self {
        Self {
            requests: None,
            duration_s: Some(s),
        }
    }

    /// Refuses a limit with neither part set, or a duration that is not a finite number of
    /// seconds above 0.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        let spec = format!("{self:?}");
        match (self.requests, self.duration_s) {
            (None, None) => Err(WorkloadError::invalid(
                spec,
                "limit",
                "none",
                "give a number of requests, a duration or both",
            )),
            (_, Some(d)) if !(d.is_finite() && d > 0.0) => Err(WorkloadError::invalid(
                spec,
                "duration_s",
                d,
                "must be a positive, finite number of seconds",
            )),
            _ => Ok(()),
        }
    }
}

/// A validated synthetic workload, ready to iterate. Clone it to replay the same requests.
///
/// Arrivals and lengths draw from separate streams of `seed` (see [`super::rng`]), so the
/// same seed with a different length distribution gives the same arrival times.
#[derive(Debug, Clone)]
pub struct Synthetic {
    arrivals: Arrivals,
    limit: Limit,
    seed: u64,
    clock: ArrivalClock,
    lengths: LengthSampler,
}

impl Synthetic {
    /// A workload of `arrivals` and `lengths` seeded by `seed`, stopping at `limit`; fails
    /// with the first problem [`Limit::validate`], [`Arrivals::validate`] or
    /// [`Lengths::validate`] finds.
    pub fn new(
        arrivals: Arrivals,
        lengths: Lengths,
        seed: u64,
        limit: Limit,
    ) -> Result<Self, WorkloadError> {
        limit.validate()?;
        let clock = arrivals.clock(seed)?;
        let lengths = LengthSampler::new(lengths, seed)?;
        Ok(Self {
            arrivals,
            limit,
            seed,
            clock,
            lengths,
        })
    }

    /// The arrival process.
    pub fn arrivals(&self) -> &Arrivals {
        &self.arrivals
    }

    /// Where each request's lengths come from.
    pub fn lengths(&self) -> &Lengths {
        self.lengths.lengths()
    }

    /// The seed of both random streams.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// When the stream stops.
    pub fn limit(&self) -> Limit {
        self.limit
    }
}

impl IntoIterator for Synthetic {
    type Item = Request;
    type IntoIter = SyntheticRequests;

    fn into_iter(self) -> SyntheticRequests {
        SyntheticRequests {
            clock: self.clock,
            lengths: self.lengths,
            limit: self.limit,
            emitted: 0,
            done: false,
        }
    }
}

/// The lazy request stream of a [`Synthetic`] workload.
#[derive(Debug, Clone)]
pub struct SyntheticRequests {
    clock: ArrivalClock,
    lengths: LengthSampler,
    limit: Limit,
    emitted: u64,
    done: bool,
}

impl Iterator for SyntheticRequests {
    type Item = Request;

    fn next(&mut self) -> Option<Request> {
        if self.done || self.limit.requests.is_some_and(|n| self.emitted >= n) {
            self.done = true;
            return None;
        }
        let arrival_s = self.clock.next_arrival_s();
        if self.limit.duration_s.is_some_and(|d| arrival_s >= d) {
            self.done = true;
            return None;
        }
        // Lengths are drawn only for requests that are kept, so a duration limit does not
        // shift the length stream.
        let pair = self.lengths.next_pair();
        self.emitted += 1;
        Some(Request {
            arrival_s,
            input_tokens: pair.input_tokens,
            output_tokens: pair.output_tokens,
            prefix: None,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let left = self
            .limit
            .requests
            .map(|n| usize::try_from(n.saturating_sub(self.emitted)).unwrap_or(usize::MAX));
        (0, left)
    }
}

impl std::iter::FusedIterator for SyntheticRequests {}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use crate::workload::LengthDist;

    fn lognormal_chat() -> Lengths {
        Lengths::Independent {
            input: "lognormal:2000,1.0".parse().unwrap(),
            output: "lognormal:300,0.8".parse().unwrap(),
        }
    }

    #[test]
    fn a_count_limit_yields_that_many_in_order() {
        let w = Synthetic::new(
            "poisson:40".parse().unwrap(),
            lognormal_chat(),
            1,
            Limit::requests(10_000),
        )
        .unwrap();
        let reqs: Vec<Request> = w.into_iter().collect();
        assert_eq!(reqs.len(), 10_000);
        assert!(reqs.windows(2).all(|p| p[0].arrival_s <= p[1].arrival_s));
        assert!(reqs[0].arrival_s > 0.0);
        assert!(reqs
            .iter()
            .all(|r| r.input_tokens >= 1 && r.prefix.is_none()));
        // 10,000 Poisson(40/s) arrivals span ≈ 250 s (sd 2.5 s).
        let span = reqs[9999].arrival_s;
        assert!((span - 250.0).abs() < 12.5, "{span}");
    }

    #[test]
    fn a_duration_limit_stops_before_it() {
        let w = Synthetic::new(
            "gamma:20,2".parse().unwrap(),
            lognormal_chat(),
            2,
            Limit::duration_s(600.0),
        )
        .unwrap();
        let mut n = 0u64;
        let mut last = 0.0;
        for r in w {
            assert!(r.arrival_s < 600.0);
            last = r.arrival_s;
            n += 1;
        }
        // 12,000 expected; a gamma(cv 2) count over 600 s has sd ≈ cv·√12000 ≈ 220.
        assert!(n.abs_diff(12_000) < 1_100, "{n}");
        assert!(last > 590.0, "{last}");
        // Both limits: whichever first.
        let both = Limit {
            requests: Some(5),
            duration_s: Some(1e9),
        };
        let w = Synthetic::new("poisson:1".parse().unwrap(), lognormal_chat(), 2, both).unwrap();
        assert_eq!(w.into_iter().count(), 5);
    }

    #[test]
    fn same_seed_same_requests_and_lengths_do_not_move_arrivals() {
        let make = |lengths, seed| {
            Synthetic::new(
                "gamma:40,2".parse().unwrap(),
                lengths,
                seed,
                Limit::requests(500),
            )
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>()
        };
        let a = make(lognormal_chat(), 7);
        assert_eq!(a, make(lognormal_chat(), 7));
        assert_ne!(a, make(lognormal_chat(), 8));
        let fixed = Lengths::Independent {
            input: LengthDist::Fixed(100),
            output: LengthDist::Fixed(10),
        };
        let b = make(fixed, 7);
        assert!(a
            .iter()
            .zip(&b)
            .all(|(x, y)| x.arrival_s.to_bits() == y.arrival_s.to_bits()));
    }

    #[test]
    fn the_iterator_is_lazy() {
        // Ten billion requests would not fit in memory; taking three must still be instant.
        let w = Synthetic::new(
            "poisson:1000".parse().unwrap(),
            lognormal_chat(),
            3,
            Limit::requests(10_000_000_000),
        )
        .unwrap();
        let mut it = w.into_iter();
        assert_eq!(it.size_hint().1, usize::try_from(10_000_000_000u64).ok());
        assert_eq!(it.by_ref().take(3).count(), 3);
    }

    #[test]
    fn refuses_invalid_parts() {
        let none = Limit {
            requests: None,
            duration_s: None,
        };
        let err = Synthetic::new("poisson:1".parse().unwrap(), lognormal_chat(), 0, none)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("give a number of requests, a duration or both"),
            "{err}"
        );
        let err = Synthetic::new(
            "poisson:1".parse().unwrap(),
            lognormal_chat(),
            0,
            Limit::duration_s(-1.0),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("duration_s = `-1`"), "{err}");
        let bad = Lengths::Independent {
            input: LengthDist::Uniform { lo: 5, hi: 1 },
            output: LengthDist::Fixed(1),
        };
        let err = Synthetic::new("poisson:1".parse().unwrap(), bad, 0, Limit::requests(1))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "`uniform:5,1`: lo = `5`: must not exceed hi = 1");
    }
}
