//! The cost model of one forward step, priced kernel class by kernel class (each on its own
//! roofline, from measured kernel curves where they exist), plus communication,
//! with KV cache, MoE sparsity, precisions and tensor / expert / pipeline / attention-data
//! parallelism; memory fit; the floor and the balance batch.
//!
//! Pure: no files, no clock, no printing. Every non-physical constant is a named
//! [`CostParams`] field.

mod collective;
mod deployment;
mod kernels;
mod layout;
mod memory;
mod params;
#[cfg(test)]
mod proptests;
mod scenario;
mod step;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use collective::{Network, Phase};
pub use deployment::{expert_rank_imbalance, DeployError, Deployment};
pub use kernels::RateSource;
pub use layout::{compute_for, validate as validate_layout, LayoutError, Parallelism, Precisions};
pub use memory::MemoryFit;
pub use params::{Calibration, CostParams, ParamDoc, ParamError, PARAM_DOCS};
pub use scenario::{BatchEstimate, DecodeLine};
pub use step::{Bound, ByteTraffic, ClassTime, KernelTimes, StepCost, StepLoad};
