//! `servemath.hardware/1` and `servemath.hardware-list/1`: catalog entries with their sources.

use crate::Schema;
use serde::Serialize;
use servemath_hardware::Hardware;
use std::collections::BTreeMap;

/// One accelerator in its scale-up system, every figure in base units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HardwareReport {
    /// Catalog id (`h100-sxm`).
    pub id: String,
    /// Marketing name.
    pub name: String,
    /// Maker (`NVIDIA`, `AMD`, `Google`).
    pub vendor: String,
    /// Calibration family: selects the cost-parameter set.
    pub family: String,
    /// Dense peak FLOP/s per accelerator by matmul precision; `null`: no published figure.
    pub peak_flop_per_s: PeakReport,
    /// HBM capacity per accelerator.
    pub hbm_bytes: f64,
    /// HBM bandwidth per accelerator (datasheet peak).
    pub hbm_bytes_per_s: f64,
    /// Accelerators in one scale-up domain.
    pub scale_up_domain: u32,
    /// Scale-up (NVLink, XGMI) bandwidth per accelerator, one direction.
    pub scale_up_bytes_per_s: f64,
    /// Scale-out (network) bandwidth per accelerator, one direction; `null`: unpublished.
    pub scale_out_bytes_per_s: Option<f64>,
    /// Latency of one collective step inside the scale-up domain.
    pub scale_up_latency_s: f64,
    /// Latency of one collective step across the scale-out network.
    pub scale_out_latency_s: f64,
    /// Thermal design power of one accelerator, in watts; `null`: unpublished.
    pub tdp_w: Option<f64>,
    /// A reference rental price; `null` when the catalog has none.
    pub price: Option<PriceReport>,
    /// Catalog field name -> where its figure comes from.
    pub sources: BTreeMap<String, String>,
    /// Free-text remarks from the catalog (empty when none).
    pub notes: String,
    /// How its kernel-level efficiencies were obtained: `measured` (fitted kernel tables),
    /// `derived` (a sibling's tables) or `datasheet` (calibrated fallbacks).
    pub kernel_confidence: &'static str,
    /// The engine whose kernel tables were fitted, when measured or derived.
    pub kernel_engine: Option<String>,
}

impl Schema for HardwareReport {
    const SCHEMA_VERSION: &'static str = "servemath.hardware/1";
}

/// Dense peak FLOP/s per accelerator by matmul rate class; `null`: no published figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PeakReport {
    /// BF16 matmul peak.
    pub bf16: Option<f64>,
    /// FP8 matmul peak.
    pub fp8: Option<f64>,
    /// INT8 matmul peak.
    pub int8: Option<f64>,
    /// FP4 matmul peak (the `mxfp4` and `nvfp4` formats).
    pub fp4: Option<f64>,
}

/// A catalog entry's reference rental price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceReport {
    /// Dollars per rented GPU-hour.
    pub usd_per_gpu_hour: f64,
    /// Where the price was read.
    pub source: String,
    /// ISO date the price was read.
    pub date: String,
}

/// Every catalog entry (built-in plus overlays), in catalog order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HardwareListReport {
    /// One entry per accelerator, each a `servemath.hardware/1` body.
    pub hardware: Vec<HardwareReport>,
}

impl Schema for HardwareListReport {
    const SCHEMA_VERSION: &'static str = "servemath.hardware-list/1";
}

impl HardwareReport {
    /// The report of catalog entry `h`, with its kernel-table confidence.
    pub fn new(h: &Hardware) -> HardwareReport {
        HardwareReport {
            id: h.id.clone(),
            name: h.name.clone(),
            vendor: h.vendor.clone(),
            family: h.family.clone(),
            peak_flop_per_s: PeakReport {
                bf16: h.peak.bf16,
                fp8: h.peak.fp8,
                int8: h.peak.int8,
                fp4: h.peak.fp4,
            },
            hbm_bytes: h.hbm_bytes,
            hbm_bytes_per_s: h.hbm_bytes_per_s,
            scale_up_domain: h.scale_up_domain,
            scale_up_bytes_per_s: h.scale_up_bytes_per_s,
            scale_out_bytes_per_s: h.scale_out_bytes_per_s,
            scale_up_latency_s: h.scale_up_latency_s,
            scale_out_latency_s: h.scale_out_latency_s,
            tdp_w: h.tdp_w,
            price: h.price.as_ref().map(|p| PriceReport {
                usd_per_gpu_hour: p.usd_per_gpu_hour,
                source: p.source.clone(),
                date: p.date.clone(),
            }),
            sources: h.sources.clone(),
            notes: h.notes.clone(),
            kernel_confidence: servemath_hardware::kernels::confidence(&h.id).name(),
            kernel_engine: servemath_hardware::kernels::builtin_curves(&h.id)
                .map(|c| c.engine.clone()),
        }
    }
}

impl<'a> FromIterator<&'a Hardware> for HardwareListReport {
    fn from_iter<I: IntoIterator<Item = &'a Hardware>>(iter: I) -> Self {
        HardwareListReport {
            hardware: iter.into_iter().map(HardwareReport::new).collect(),
        }
    }
}
