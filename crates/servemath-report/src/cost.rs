//! `servemath.cost/1`: what one GPU-hour of a hardware entry costs, broken down, and the same
//! money per rack and per megawatt.

use crate::Schema;
use serde::Serialize;
use servemath_econ::{CostInputs, GpuHourCost, ScaleView, INPUT_DOCS};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    pub hardware: CostHardware,
    /// `rental` or `owned`.
    pub mode: &'static str,
    /// Fraction of held hours doing useful work.
    pub utilization: f64,
    /// Every input as used, with its unit and source (`null` value: no public figure).
    pub inputs: Vec<CostInputReport>,
    /// Blended energy price: the agreement's share at its price, the rest at spot.
    pub energy_usd_per_mwh: f64,
    pub gpu_hour: GpuHourReport,
    pub scale: ScaleReport,
}

impl Schema for CostReport {
    const SCHEMA_VERSION: &'static str = "servemath.cost/1";
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostHardware {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostInputReport {
    pub name: &'static str,
    pub value: Option<f64>,
    pub unit: &'static str,
    pub doc: &'static str,
    pub source: Option<String>,
}

/// Dollars per held GPU-hour by part; parts the mode does not use are 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GpuHourReport {
    pub capital_usd: f64,
    pub financing_usd: f64,
    pub power_usd: f64,
    pub facility_usd: f64,
    pub rental_usd: f64,
    pub total_usd: f64,
    /// `total_usd / utilization`.
    pub usd_per_busy_gpu_hour: f64,
    pub power_w_at_meter: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScaleReport {
    pub gpus_per_rack: f64,
    pub usd_per_rack_hour: f64,
    pub rack_it_w: Option<f64>,
    pub gpus_per_mw: Option<f64>,
    pub usd_per_mw_year: Option<f64>,
}

impl CostReport {
    pub fn new(name: &str, inputs: &CostInputs, g: &GpuHourCost, s: &ScaleView) -> CostReport {
        CostReport {
            hardware: CostHardware {
                id: inputs.hardware.clone(),
                name: name.to_string(),
            },
            mode: inputs.mode.name(),
            utilization: g.utilization,
            inputs: INPUT_DOCS
                .iter()
                .map(|d| CostInputReport {
                    name: d.name,
                    value: inputs.get(d.name),
                    unit: d.unit,
                    doc: d.doc,
                    source: inputs.source(d.name).map(str::to_string),
                })
                .collect(),
            energy_usd_per_mwh: inputs.energy_usd_per_mwh(),
            gpu_hour: GpuHourReport {
                capital_usd: g.capital_usd,
                financing_usd: g.financing_usd,
                power_usd: g.power_usd,
                facility_usd: g.facility_usd,
                rental_usd: g.rental_usd,
                total_usd: g.total_usd,
                usd_per_busy_gpu_hour: g.usd_per_busy_gpu_hour,
                power_w_at_meter: g.power_w_at_meter,
            },
            scale: ScaleReport {
                gpus_per_rack: s.gpus_per_rack,
                usd_per_rack_hour: s.usd_per_rack_hour,
                rack_it_w: s.rack_it_w,
                gpus_per_mw: s.gpus_per_mw,
                usd_per_mw_year: s.usd_per_mw_year,
            },
        }
    }
}
