//! The roofline cost model of one forward step: compute vs memory-bandwidth vs communication,
//! with KV cache, MoE sparsity, precisions and tensor / expert / pipeline / attention-data
//! parallelism; memory fit; the floor and the balance batch.
//!
//! Pure: no files, no clock, no printing. Every non-physical constant is a named
//! [`CostParams`] field.

mod collective;
mod deployment;
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

pub use collective::Network;
pub use deployment::{DeployError, Deployment};
pub use layout::{compute_for, validate as validate_layout, LayoutError, Parallelism, Precisions};
pub use memory::MemoryFit;
pub use params::{Calibration, CostParams, ParamDoc, ParamError, PARAM_DOCS};
pub use scenario::{BatchEstimate, DecodeLine};
pub use step::{Bound, ByteTraffic, StepCost, StepLoad};
