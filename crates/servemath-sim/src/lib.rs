//! The serving simulator: replicas running cost-model steps back to back under the schedulers
//! real servers use, with KV memory as a hard limit, fed by synthetic or traced requests.
//!
//! Pure and deterministic: the simulation owns its seed and RNG, events are ordered by
//! (time, sequence number), nothing is read or printed from inside.

mod config;
mod engine;
mod metrics;
mod prefix;
mod replica;
#[cfg(test)]
mod tests;
pub mod workload;

pub use config::{KvTransfer, Policy, Pool, SchedulerConfig};
pub use engine::{
    simulate, ClosedLoop, ReplicaSpec, Router, Sample, SimConfig, SimReport, Slo, Workload,
};
pub use metrics::{Histogram, Percentiles, Record};
pub use replica::StepSpan;
