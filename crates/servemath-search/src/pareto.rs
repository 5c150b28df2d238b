//! The Pareto front of tokens/s per user against tokens/s per GPU (or dollars per million
//! output tokens): the configurations no other beats on both.

use crate::analytic::Candidate;
use serde::Serialize;

/// The second axis of the front (the first is tokens/s per user, higher is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FrontAxis {
    /// Output tokens/s per GPU, higher is better.
    TokensPerGpu,
    /// Dollars per million output tokens, lower is better (candidates without a price are
    /// left out).
    Cost,
}

/// The value to maximise on `axis`, or `None` when the candidate has none.
fn value(c: &Candidate, axis: FrontAxis) -> Option<f64> {
    match axis {
        FrontAxis::TokensPerGpu => Some(c.tokens_per_s_per_gpu()),
        FrontAxis::Cost => c.usd_per_m_output_tokens.map(|u| -u),
    }
}

/// Indices (into `candidates`) of the front among `among`, by tokens/s per user descending.
/// A point is kept when no other point is at least as good on both axes and better on one;
/// of identical points the first is kept.
pub fn pareto_front(
    candidates: &[Candidate],
    among: impl IntoIterator<Item = usize>,
    axis: FrontAxis,
) -> Vec<usize> {
    let mut pts: Vec<(usize, f64, f64)> = among
        .into_iter()
        .filter_map(|i| {
            let c = candidates.get(i)?;
            let v = value(c, axis)?;
            let u = c.tokens_per_s_per_user();
            (u.is_finite() && v.is_finite()).then_some((i, u, v))
        })
        .collect();
    // Per user descending, then the axis descending, then index: the sweep keeps a point only
    // when it beats every point with at least its per-user rate.
    pts.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(b.2.total_cmp(&a.2))
            .then(a.0.cmp(&b.0))
    });
    let mut front = Vec::new();
    let mut best = f64::NEG_INFINITY;
    for (i, _, v) in pts {
        if v > best {
            front.push(i);
            best = v;
        }
    }
    front
}
