//! The serving simulator: replicas running cost-model steps back to back under the schedulers
//! real servers use, with KV memory as a hard limit, fed by synthetic or traced requests.
//!
//! Pure and deterministic: the simulation owns its seed and RNG, events are ordered by
//! (time, sequence number), nothing is read or printed from inside.
//!
//! Build a [`SimConfig`] of [`ReplicaSpec`]s (a `servemath_cost::Deployment` each, with a
//! scheduler and a pool), hand it to [`simulate`] with a [`Workload`] (requests from
//! [`workload`]: a synthetic stream, a trace, or closed-loop users) and read the
//! [`SimReport`]. Every figure is defined in `docs/metrics.md`.
//!
//! # Example
//!
//! Three requests of 1,000 prompt and 100 output tokens arrive 10 s apart at one replica of
//! Llama 3.1 8B on an H100. Each is served long before the next arrives, so all complete,
//! none waits for admission, and the fleet produces 3 × 100 = 300 output tokens in all.
//!
//! ```
//! use servemath_cost::{Calibration, Deployment, Parallelism, Precisions};
//! use servemath_hardware::Catalog;
//! use servemath_sim::workload::Request;
//! use servemath_sim::{
//!     simulate, Policy, Pool, ReplicaSpec, Router, SchedulerConfig, SimConfig, Workload,
//! };
//! use std::sync::Arc;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let model = servemath_model::builtin("llama-3.1-8b")?;
//! let catalog = Catalog::builtin();
//! let hw = catalog.get("h100-sxm")?;
//! let prec = Precisions::defaults_for(&model, |p| hw.peak_flop_per_s(p).is_ok());
//! let params = Calibration::builtin().for_family(&hw.family);
//! let deployment = Deployment::new(&model, hw, Parallelism::default(), prec, params)?;
//! let replica = ReplicaSpec {
//!     deployment: Arc::new(deployment),
//!     scheduler: SchedulerConfig::vllm(Policy::Chunked),
//!     pool: Pool::Unified,
//! };
//!
//! // Arrivals at 0, 10 and 20 s.
//! let requests = (0..3).map(|i| Request::new(10.0 * f64::from(i), 1000, 100));
//! let config = SimConfig::new(vec![replica], Router::RoundRobin);
//! let report = simulate(config, Workload::Open(Box::new(requests)))?;
//!
//! assert_eq!(report.completed, 3);
//! // Conservation: every arrival is completed, running, queued, rejected or dropped.
//! let accounted =
//!     report.completed + report.running + report.queued + report.rejected + report.dropped;
//! assert_eq!(report.arrived, accounted);
//! // Alone on the replica, each request enters a step the moment it arrives.
//! assert!(report.queue.max.abs() < 1e-12);
//! // The last request arrives at 20 s and then needs a prefill and 99 decode steps.
//! assert!(report.duration_s > 20.0);
//! // 300 output tokens over the run, by the definition of the rate.
//! let output_tokens = report.output_tokens_per_s * report.duration_s;
//! assert!((output_tokens - 300.0).abs() < 1e-9 * 300.0, "{output_tokens}");
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod config;
mod engine;
mod error;
mod metrics;
mod prefix;
mod replica;
mod scheduler;
#[cfg(test)]
mod tests;
pub mod workload;

pub use config::{
    KvTransfer, Policy, Pool, Progress, ReplicaSpec, Router, SchedulerConfig, SimConfig, Slo,
};
pub use engine::{simulate, ClosedLoop, Sample, SimReport, Workload};
pub use error::SimError;
pub use metrics::{Histogram, Percentiles, Record};
pub use replica::StepSpan;
