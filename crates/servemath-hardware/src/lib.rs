//! The hardware catalog: sourced figures per accelerator in its scale-up system, compiled in
//! from `catalog/hardware.toml`, with a user-file overlay.
//!
//! Every figure is in SI base units (bytes, bytes/s, FLOP/s, seconds, watts) and carries its
//! source in the catalog file. Efficiencies are not here: they live in `servemath-cost`.
//! The schema is documented in `catalog/README.md`.

mod accelerator;
mod catalog;
mod raw;

pub use accelerator::{figure, Hardware, HardwareError, PeakFlops, Price};
pub use catalog::{Catalog, BUILTIN_FILE};
pub use raw::{normalize_name, FAMILIES};
pub mod kernels;
pub use kernels::{Confidence, KernelCurves};
