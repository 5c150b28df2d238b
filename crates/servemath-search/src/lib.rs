//! Configuration search: every layout of a model on one or more machines (tensor, pipeline,
//! expert and attention-data parallelism, aggregated or prefill/decode-disaggregated with xPyD
//! ratios, weight and KV precisions, batch), scored with the cost model in parallel, filtered
//! by latency targets, ranked, reduced to a Pareto front, and re-scored in the serving
//! simulator so that tail latencies count. And fleet sizing: the smallest replica count that
//! meets the targets at a demand's peak, found with the simulator.
//!
//! Pure: no files, no clock, no printing. The caller resolves names and files into a
//! [`SearchSpec`] and a [`Traffic`], and renders what comes back.

mod analytic;
mod error;
pub mod fleet;
mod pareto;
mod rescore;
mod space;
#[cfg(test)]
mod tests;
mod traffic;

pub use analytic::{
    closest_miss, rank, search, steady, BatchLimit, Candidate, Counts, Link, SearchResult, Shape,
    Steady, Why,
};
pub use error::SearchError;
pub use pareto::{pareto_front, FrontAxis};
pub use rescore::{rescore, simulate_candidate, SimOptions, SimScore, Window, MEASURED_REQUESTS};
pub use space::{
    bulk_weights, layouts, precision_menu, HardwareOption, Objective, Restrict, SearchSpec,
    CHUNK_TOKENS, RATIOS_MAX,
};
pub use traffic::Traffic;

/// Latency targets; `f64::INFINITY` where none is set.
pub use servemath_sim::Slo;
