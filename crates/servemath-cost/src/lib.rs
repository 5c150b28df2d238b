//! The cost model of one forward step, priced kernel class by kernel class (each on its own
//! roofline, from measured kernel curves where they exist), plus communication,
//! with KV cache, MoE sparsity, precisions and tensor / expert / pipeline / attention-data
//! parallelism; memory fit; the floor and the balance batch.
//!
//! Pure: no files, no clock, no printing. Every non-physical constant is a named
//! [`CostParams`] field.
//!
//! # Example
//!
//! Llama-3.1-70B in BF16 on four H100s (tensor parallel 4), one sequence decoding at 1024
//! tokens of context. A decode step must at least read every weight it uses once, so it cannot
//! be faster than the weight-read floor at the full HBM bandwidth:
//!
//! ```
//! use servemath_cost::{Bound, Calibration, Deployment, Parallelism, Precisions, StepLoad};
//! use servemath_hardware::Catalog;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let model = servemath_model::builtin("llama-3.1-70b")?;
//! let catalog = Catalog::builtin();
//! let h100 = catalog.get("h100-sxm")?;
//! let par = Parallelism { tp: 4, ..Parallelism::default() };
//! let prec = Precisions::defaults_for(&model, |p| h100.peak_flop_per_s(p).is_ok());
//! let params = Calibration::builtin().for_family(&h100.family);
//! let d = Deployment::new(&model, h100, par, prec, params)?;
//!
//! // 70.55e9 parameters × 2 bytes (BF16) = 141.1e9 bytes of weights, a quarter per GPU.
//! let per_gpu = 141.1e9 / 4.0;
//! assert!((d.weight_bytes_per_device() / per_gpu - 1.0).abs() < 1e-3);
//!
//! let step = d.step(&StepLoad::decode(1.0, 1024.0));
//! // Each GPU reads its quarter at 3.35e12 bytes/s at best: 141.1e9 / (4 × 3.35e12) ≈ 10.5 ms
//! // (1.5 % above the strict floor: a step reads one row of the 2.1e9-byte embedding table).
//! let floor_s = per_gpu / 3.35e12;
//! assert!(step.time_s >= floor_s);
//! // Launches, attention, the all-reduces and the fixed step cost add to it, but at batch 1
//! // reading the weights in the GEMMs dominates: well under twice the floor.
//! assert_eq!(step.bound, Bound::Gemm);
//! assert!(step.time_s < 2.0 * floor_s);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod collective;
mod deployment;
mod handoff;
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
pub use handoff::{kv_link, KvLink, LinkKind};
pub use kernels::RateSource;
pub use layout::{compute_for, validate as validate_layout, LayoutError, Parallelism, Precisions};
pub use memory::MemoryFit;
pub use params::{Calibration, CostParams, ParamDoc, ParamError, PARAM_DOCS};
pub use scenario::{BatchEstimate, DecodeLine};
pub use step::{Bound, ByteTraffic, ClassTime, KernelTimes, StepCost, StepLoad};
