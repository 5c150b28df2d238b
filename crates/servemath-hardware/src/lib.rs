//! The hardware catalog: sourced figures per accelerator in its scale-up system, compiled in
//! from `catalog/hardware.toml`, with a user-file overlay.
//!
//! Every figure is in SI base units (bytes, bytes/s, FLOP/s, seconds, watts) and carries its
//! source in the catalog file. Efficiencies are not here: they live in `servemath-cost`.
//! The schema is documented in `catalog/README.md`.
//!
//! # Example
//!
//! Look an entry up by alias and derive its ridge point, the arithmetic intensity above which
//! a kernel at full peak is compute-bound rather than HBM-bound:
//!
//! ```
//! use servemath_hardware::{Catalog, HardwareError};
//! use servemath_model::MathPrecision;
//!
//! # fn main() -> Result<(), HardwareError> {
//! let catalog = Catalog::builtin();
//! let h100 = catalog.get("H100")?; // an alias, any case
//! assert_eq!(h100.id, "h100-sxm");
//! assert_eq!(h100.hbm_bytes_per_s, 3.35e12); // 3.35 TB/s of HBM3
//! assert_eq!(h100.scale_up_bytes_per_s, 450e9); // NVLink 4: 900 GB/s both ways, halved
//!
//! // Ridge point: 989.4e12 FLOP/s / 3.35e12 B/s ≈ 295 FLOP per byte read.
//! let ridge = h100.peak_flop_per_s(MathPrecision::Bf16)? / h100.hbm_bytes_per_s;
//! assert!((ridge - 295.3).abs() < 0.1);
//!
//! // H100 has no FP4 tensor cores: asking for the peak is an error, not a guess.
//! assert!(h100.peak_flop_per_s(MathPrecision::Fp4).is_err());
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod accelerator;
mod catalog;
mod raw;

pub use accelerator::{figure, Hardware, HardwareError, PeakFlops, Price};
pub use catalog::{Catalog, BUILTIN_FILE};
pub use raw::{normalize_name, FAMILIES};
pub mod kernels;
pub use kernels::{Confidence, KernelCurves};
