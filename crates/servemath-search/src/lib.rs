//! Configuration search: every layout of a model on one or more machines (tensor, pipeline,
//! expert and attention-data parallelism, aggregated or prefill/decode-disaggregated with xPyD
//! ratios, weight and KV precisions, batch), scored with the cost model in parallel, filtered
//! by latency targets, ranked, reduced to a Pareto front, and re-scored in the serving
//! simulator so that tail latencies count. And fleet sizing: the smallest replica count that
//! meets the targets at a demand's peak, found with the simulator.
//!
//! Pure: no files, no clock, no printing. The caller resolves names and files into a
//! [`SearchSpec`] and a [`Traffic`], and renders what comes back.
//!
//! # Example
//!
//! Llama-3.1-8B on H100s, at most two GPUs per replica, aggregated only:
//!
//! ```
//! use servemath_cost::Calibration;
//! use servemath_hardware::Catalog;
//! use servemath_search::{rank, search, HardwareOption, Objective, Restrict, SearchSpec, Slo};
//!
//! let catalog = Catalog::builtin();
//! let h100 = catalog.get("h100-sxm")?.clone();
//! let params = Calibration::builtin().for_family(&h100.family);
//! let spec = SearchSpec {
//!     model: servemath_model::builtin("llama-3.1-8b")?,
//!     hardware: vec![HardwareOption::new(h100, None, params, None)],
//!     input_tokens: 2000.0,
//!     output_tokens: 300.0,
//!     slo: Slo { ttft_s: 2.0, tpot_s: 0.05 },
//!     max_gpus: 2,
//!     disaggregation: false,
//!     restrict: Restrict::default(),
//! };
//! let result = search(&spec)?;
//!
//! // By hand: 32 attention heads and 32 layers on at most 2 GPUs give 3 layouts (TP1 PP1,
//! // TP1 PP2, TP2 PP1). H100 has FP8 but no FP4 peak, so the bf16 checkpoint's weights are
//! // tried in bf16 and fp8, and the KV cache in bf16 and fp8: 2 x 2 = 4 formats.
//! // 3 x 4 = 12, and every one divides the model (1 and 2 divide 32 heads, 8 KV heads and
//! // 32 layers).
//! assert_eq!(result.counts.layouts, 12);
//! assert_eq!(result.counts.valid, 12);
//!
//! for c in &result.candidates {
//!     assert!(c.gpus <= spec.max_gpus);
//!     // Per-GPU throughput is the unit's over its GPUs.
//!     let unit = c.tokens_per_s_per_gpu() * f64::from(c.gpus);
//!     assert!((unit - c.output_tokens_per_s).abs() <= 1e-9 * c.output_tokens_per_s);
//! }
//!
//! // The best configuration by tokens/s per GPU meets both targets.
//! let best = &result.candidates[rank(&result, &spec.slo, Objective::TokensPerGpu)[0]];
//! assert!(best.ttft_s <= 2.0 && best.tpot_s <= 0.05);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

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
