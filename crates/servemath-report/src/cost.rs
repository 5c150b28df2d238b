//! `servemath.cost/1`: what one GPU-hour of a hardware entry costs, broken down, and the same
//! money per rack and per megawatt.

use crate::Schema;
use serde::Serialize;
use servemath_econ::{CostInputs, GpuHourCost, ScaleView, INPUT_DOCS};

/// What one GPU-hour of a hardware entry costs in a cost mode, part by part, and the same
/// money per rack and per megawatt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    /// The hardware entry priced.
    pub hardware: CostHardware,
    /// `rental` or `owned`.
    pub mode: &'static str,
    /// Fraction of held hours doing useful work.
    pub utilization: f64,
    /// Every input as used, with its unit and source (`null` value: no public figure).
    pub inputs: Vec<CostInputReport>,
    /// Blended energy price: the agreement's share at its price, the rest at spot.
    pub energy_usd_per_mwh: f64,
    /// Dollars per held GPU-hour, part by part.
    pub gpu_hour: GpuHourReport,
    /// The GPU-hour scaled to a rack and to a megawatt at the meter.
    pub scale: ScaleReport,
}

impl Schema for CostReport {
    const SCHEMA_VERSION: &'static str = "servemath.cost/1";
}

/// The hardware entry a cost report prices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostHardware {
    /// Catalog id (`h100-sxm`).
    pub id: String,
    /// Marketing name from the catalog.
    pub name: String,
}

/// One cost input as used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostInputReport {
    /// The input's name, as `--cost NAME=VALUE` and a `--costs` file spell it.
    pub name: &'static str,
    /// Its value in `unit`; `null` when there is no public figure.
    pub value: Option<f64>,
    /// Unit of `value` as people read it (`$/GPU-hour`, `W`, `fraction`, `$/MWh`).
    pub unit: &'static str,
    /// What the input is, in a phrase.
    pub doc: &'static str,
    /// Where the value came from; `null` when unsourced.
    pub source: Option<String>,
}

/// Dollars per held GPU-hour by part; parts the mode does not use are 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GpuHourReport {
    /// Owned: straight-line depreciation of the purchase.
    pub capital_usd: f64,
    /// Owned: interest on the capital; rental: the cost of capital on a prepaid share.
    pub financing_usd: f64,
    /// Owned: energy at the meter at this utilization, at the blended energy price.
    pub power_usd: f64,
    /// Owned: colocation rent on the provisioned IT power.
    pub facility_usd: f64,
    /// Rental: the rental rate.
    pub rental_usd: f64,
    /// Sum of the parts: dollars per held GPU-hour.
    pub total_usd: f64,
    /// `total_usd / utilization`: dollars per GPU-hour of useful work.
    pub usd_per_busy_gpu_hour: f64,
    /// Watts one GPU draws at the meter at this utilization (system and PUE included);
    /// `null` without a TDP.
    pub power_w_at_meter: Option<f64>,
}

/// The GPU-hour scaled to a rack and to a megawatt at the meter (full draw, the power a site
/// must provision); the power figures are `null` without a TDP.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScaleReport {
    /// GPUs in one rack (a cost input).
    pub gpus_per_rack: f64,
    /// Dollars per held rack-hour.
    pub usd_per_rack_hour: f64,
    /// IT power of a rack at full draw, before PUE, in watts.
    pub rack_it_w: Option<f64>,
    /// GPUs one megawatt at the meter feeds at full draw (system and PUE included).
    pub gpus_per_mw: Option<f64>,
    /// Dollars per year for the GPUs one megawatt feeds, at this utilization.
    pub usd_per_mw_year: Option<f64>,
}

impl CostReport {
    /// The report for hardware `name` from its `inputs`, GPU-hour cost `g` and scale view `s`.
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
