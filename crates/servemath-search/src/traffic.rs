//! The shape of the traffic a configuration is tested under (an arrival process and lengths,
//! or a timed trace), replayed at whatever rate a test needs: a synthetic process has its rate
//! scaled (a daily profile keeps its shape), a trace its timestamps divided.

use crate::error::SearchError;
use servemath_sim::workload::{Arrivals, Limit, Synthetic, Trace};
use servemath_sim::Workload;

/// Fewest requests a rescaled synthetic sample holds (see [`Traffic::at_rate`]): enough for a
/// p99 to rest on one request in a hundred.
pub const MIN_SAMPLE_REQUESTS: u64 = 100;

/// Most requests a rescaled synthetic sample holds: 300,000 keep a p99 on 3,000 requests and a
/// trial under a second or two, whatever the demand.
pub const MAX_SAMPLE_REQUESTS: u64 = 300_000;

/// The traffic a configuration is tested under: its arrival shape and lengths, with a rate
/// that [`Traffic::at_rate`] replaces by whatever rate a test needs.
#[derive(Debug, Clone)]
pub enum Traffic {
    /// An arrival process, lengths, a seed and a limit (requests, duration or both); boxed,
    /// being much larger than a trace's handle.
    Synthetic(Box<Synthetic>),
    /// A timed trace, arrivals in order.
    Trace(Trace),
}

impl Traffic {
    /// Requests per second as given: the process's long-run rate, or a trace's requests over
    /// its span.
    pub fn mean_rate_per_s(&self) -> f64 {
        match self {
            Traffic::Synthetic(s) => s.arrivals().mean_rate_per_s(),
            Traffic::Trace(t) if t.span_s() > 0.0 => (t.len() as f64 - 1.0) / t.span_s(),
            Traffic::Trace(_) => 0.0,
        }
    }

    /// Mean prompt length in tokens: the length distribution's mean, or a trace's average (0
    /// for an empty trace).
    pub fn mean_input_tokens(&self) -> f64 {
        match self {
            Traffic::Synthetic(s) => s.lengths().mean_input_tokens(),
            Traffic::Trace(t) => mean(t, |r| r.input_tokens),
        }
    }

    /// Mean output length in tokens: the length distribution's mean, or a trace's average (0
    /// for an empty trace).
    pub fn mean_output_tokens(&self) -> f64 {
        match self {
            Traffic::Synthetic(s) => s.lengths().mean_output_tokens(),
            Traffic::Trace(t) => mean(t, |r| r.output_tokens),
        }
    }

    /// The same traffic at `rate_per_s` requests per second, as a simulator workload; a
    /// synthetic window given as a duration holds at least 100 and at most 300,000 requests
    /// (`MIN_SAMPLE_REQUESTS`, `MAX_SAMPLE_REQUESTS`).
    ///
    /// Fails with [`SearchError::Invalid`] when `rate_per_s` is not positive and finite or
    /// the traffic has no rate to scale (a trace without two arrivals at different times),
    /// and with [`SearchError::Workload`] or [`SearchError::Trace`] when the rescaled process
    /// or trace is refused.
    pub fn at_rate(&self, rate_per_s: f64) -> Result<Workload, SearchError> {
        let k = self.factor(rate_per_s)?;
        Ok(match self {
            Traffic::Synthetic(s) => {
                // A window so short at this rate that it would hold fewer than
                // MIN_SAMPLE_REQUESTS requests is stretched to that many: the tail latency of an
                // empty or tiny sample says nothing (10 requests a day at peak would otherwise
                // simulate an empty window and call every fleet a miss).
                // One so long that it would hold more than MAX_SAMPLE_REQUESTS is cut to that
                // many: a fleet for 1e12 tokens a day would otherwise simulate 27 M requests per
                // trial.
                let limit = match (s.limit().requests, s.limit().duration_s) {
                    (None, Some(d)) if rate_per_s * d < MIN_SAMPLE_REQUESTS as f64 => {
                        Limit::requests(MIN_SAMPLE_REQUESTS)
                    }
                    (None, Some(d)) if rate_per_s * d > MAX_SAMPLE_REQUESTS as f64 => {
                        Limit::requests(MAX_SAMPLE_REQUESTS)
                    }
                    _ => s.limit(),
                };
                let scaled =
                    Synthetic::new(scale(s.arrivals(), k), s.lengths().clone(), s.seed(), limit)?;
                Workload::Open(Box::new(scaled.into_iter()))
            }
            Traffic::Trace(t) => {
                let scaled = t.clone().scale_rate(k)?;
                Workload::Open(Box::new(scaled.requests.into_iter()))
            }
        })
    }

    /// How much faster than given `rate_per_s` is, refusing a rate that is not positive and
    /// traffic without one.
    fn factor(&self, rate_per_s: f64) -> Result<f64, SearchError> {
        let given = self.mean_rate_per_s();
        if !(rate_per_s.is_finite() && rate_per_s > 0.0) {
            return Err(SearchError::invalid(
                "rate",
                rate_per_s,
                "must be a positive, finite number of requests per second",
            ));
        }
        if !(given.is_finite() && given > 0.0) {
            return Err(SearchError::invalid(
                "traffic",
                given,
                "has no rate to scale (a trace needs two arrivals at different times)",
            ));
        }
        Ok(rate_per_s / given)
    }

    /// Like [`Traffic::at_rate`], but cut to the first `most` requests when the arrivals are
    /// stationary (Poisson or gamma: any stretch of them is like any other) and the window
    /// would hold more; the `bool` says whether it was cut. A trace, or a process with a
    /// daily profile, is kept whole: a stretch of it is not the traffic asked about. Fails as
    /// [`Traffic::at_rate`] does.
    pub fn at_rate_at_most(
        &self,
        rate_per_s: f64,
        most: u64,
    ) -> Result<(Workload, bool), SearchError> {
        let k = self.factor(rate_per_s)?;
        match self {
            Traffic::Synthetic(s)
                if !matches!(s.arrivals(), Arrivals::Daily { .. })
                    && (most as f64) < window_requests(s, rate_per_s) =>
            {
                let first = Synthetic::new(
                    scale(s.arrivals(), k),
                    s.lengths().clone(),
                    s.seed(),
                    Limit::requests(most),
                )?;
                Ok((Workload::Open(Box::new(first.into_iter())), true))
            }
            _ => Ok((self.at_rate(rate_per_s)?, false)),
        }
    }
}

/// Requests `s`'s window holds at `rate_per_s` as [`Traffic::at_rate`] bounds it (expected,
/// for a window given as a duration).
fn window_requests(s: &Synthetic, rate_per_s: f64) -> f64 {
    let by_duration = s.limit().duration_s.map_or(f64::INFINITY, |d| {
        (rate_per_s * d).clamp(MIN_SAMPLE_REQUESTS as f64, MAX_SAMPLE_REQUESTS as f64)
    });
    let by_count = s.limit().requests.map_or(f64::INFINITY, |n| n as f64);
    by_duration.min(by_count)
}

fn mean(t: &Trace, f: fn(&servemath_sim::workload::Request) -> u32) -> f64 {
    if t.is_empty() {
        return 0.0;
    }
    t.requests.iter().map(|r| f64::from(f(r))).sum::<f64>() / t.len() as f64
}

/// `a` with every rate multiplied by `k` (shape, CV and daily profile kept).
fn scale(a: &Arrivals, k: f64) -> Arrivals {
    match a {
        Arrivals::Poisson { rate_per_s } => Arrivals::Poisson {
            rate_per_s: rate_per_s * k,
        },
        Arrivals::Gamma { rate_per_s, cv } => Arrivals::Gamma {
            rate_per_s: rate_per_s * k,
            cv: *cv,
        },
        Arrivals::Daily { base, profile } => scale(base, k).with_daily(profile.clone()),
    }
}
