//! The serving simulator: replicas running cost-model steps back to back under the schedulers
//! real servers use, with KV memory as a hard limit, fed by synthetic or traced requests.
//!
//! Pure and deterministic: the simulation owns its seed and RNG, events are ordered by
//! (time, sequence number), nothing is read or printed from inside.

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
