//! The shape of the traffic a configuration is tested under (an arrival process and lengths,
//! or a timed trace), replayed at whatever rate a test needs: a synthetic process has its rate
//! scaled (a daily profile keeps its shape), a trace its timestamps divided.

use crate::error::SearchError;
use servemath_sim::workload::{Arrivals, Synthetic, Trace};
use servemath_sim::Workload;

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

    pub fn mean_input_tokens(&self) -> f64 {
        match self {
            Traffic::Synthetic(s) => s.lengths().mean_input_tokens(),
            Traffic::Trace(t) => mean(t, |r| r.input_tokens),
        }
    }

    pub fn mean_output_tokens(&self) -> f64 {
        match self {
            Traffic::Synthetic(s) => s.lengths().mean_output_tokens(),
            Traffic::Trace(t) => mean(t, |r| r.output_tokens),
        }
    }

    /// The same traffic at `rate_per_s` requests per second, as a simulator workload.
    pub fn at_rate(&self, rate_per_s: f64) -> Result<Workload, SearchError> {
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
        let k = rate_per_s / given;
        Ok(match self {
            Traffic::Synthetic(s) => {
                let scaled = Synthetic::new(
                    scale(s.arrivals(), k),
                    s.lengths().clone(),
                    s.seed(),
                    s.limit(),
                )?;
                Workload::Open(Box::new(scaled.into_iter()))
            }
            Traffic::Trace(t) => {
                let scaled = t.clone().scale_rate(k)?;
                Workload::Open(Box::new(scaled.requests.into_iter()))
            }
        })
    }
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
