//! What one GPU-hour costs: rental, or ownership broken into capital, financing, power and
//! facility; and the same money per rack and per megawatt.

use crate::inputs::{CostInputs, Mode};

/// Hours in a (non-leap) year.
pub const HOURS_PER_YEAR: f64 = 8760.0;

/// The cost of holding one GPU for one wall-clock hour at a utilization, broken down. Unused
/// parts of the breakdown are zero (power in rental mode is inside the rate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuHourCost {
    /// How the GPU-hours are paid for: which of the fields below can be non-zero.
    pub mode: Mode,
    /// Fraction of held hours doing useful work, in (0, 1].
    pub utilization: f64,
    /// Owned: straight-line depreciation, capital / (amortization years x 8760 h).
    pub capital_usd: f64,
    /// Owned: interest in a level annuity over the amortization period at the cost of capital.
    /// Rental: the cost of capital on the contract's prepaid share.
    pub financing_usd: f64,
    /// Owned: energy at the meter (TDP x system ratio x draw at this utilization x PUE) at the
    /// blended energy price.
    pub power_usd: f64,
    /// Owned: colocation rent on the provisioned IT power.
    pub facility_usd: f64,
    /// Rental: the rate.
    pub rental_usd: f64,
    /// Sum of the above: dollars per held GPU-hour.
    pub total_usd: f64,
    /// `total_usd / utilization`: dollars per GPU-hour of useful work. Token costs use this.
    pub usd_per_busy_gpu_hour: f64,
    /// Power per GPU at the meter at this utilization (system and PUE included); `None`
    /// without a TDP.
    pub power_w_at_meter: Option<f64>,
}

/// Dollars per held GPU-hour at `utilization` (the caller checks it is in (0, 1], e.g. with
/// [`crate::check_utilization`], and that [`CostInputs::check`] passes; a missing figure
/// gives NaN).
///
/// Owned: capital C over A years at annual rate r, level annuity C·r/(1−(1+r)^−A) a year, of
/// which C/A is depreciation and the rest financing. Power: TDP·s·(i + (1−i)·u)·PUE watts at
/// the blended $/MWh. Facility: TDP·s kW at $/kW-month × 12 / 8760.
/// Rental: the rate R, plus financing of a prepaid share p of a T-year contract drawn down
/// evenly: R·p·r·T/2 per hour (the prepayment's average balance p·R·T·8760/2 at rate r).
pub fn gpu_hour_cost(inputs: &CostInputs, utilization: f64) -> GpuHourCost {
    let u = utilization;
    let mut c = GpuHourCost {
        mode: inputs.mode,
        utilization: u,
        capital_usd: 0.0,
        financing_usd: 0.0,
        power_usd: 0.0,
        facility_usd: 0.0,
        rental_usd: 0.0,
        total_usd: 0.0,
        usd_per_busy_gpu_hour: 0.0,
        power_w_at_meter: power_w_at_meter(inputs, u),
    };
    match inputs.mode {
        Mode::Rental => {
            let rate = inputs.rental_usd_per_gpu_hour.unwrap_or(f64::NAN);
            c.rental_usd = rate;
            c.financing_usd =
                rate * inputs.prepaid_fraction * inputs.cost_of_capital * inputs.contract_years
                    / 2.0;
        }
        Mode::Owned => {
            let capital = inputs.capital_usd_per_gpu.unwrap_or(f64::NAN);
            let years = inputs.amortization_years;
            let annual = annuity_per_year(capital, inputs.cost_of_capital, years);
            c.capital_usd = capital / years / HOURS_PER_YEAR;
            c.financing_usd = annual / HOURS_PER_YEAR - c.capital_usd;
            let watts = c.power_w_at_meter.unwrap_or(f64::NAN);
            c.power_usd = watts / 1e6 * inputs.energy_usd_per_mwh();
            c.facility_usd = it_kw_provisioned(inputs).unwrap_or(f64::NAN)
                * inputs.facility_usd_per_kw_month
                * 12.0
                / HOURS_PER_YEAR;
        }
    }
    c.total_usd = c.capital_usd + c.financing_usd + c.power_usd + c.facility_usd + c.rental_usd;
    c.usd_per_busy_gpu_hour = c.total_usd / u;
    c
}

/// The yearly payment that repays `capital` with interest at `rate` over `years` (a level
/// annuity); `capital / years` at a zero rate. The denominator `1 − (1+r)^−A` is computed as
/// `−expm1(−A·ln_1p(r))`, exact to rounding at any rate: the direct form cancels
/// catastrophically below r ≈ 1e−12 (1e−15 gave a negative financing charge).
pub fn annuity_per_year(capital: f64, rate: f64, years: f64) -> f64 {
    if rate == 0.0 {
        capital / years
    } else {
        capital * rate / -(-years * rate.ln_1p()).exp_m1()
    }
}

/// IT power provisioned per GPU (full draw, before PUE), kW.
fn it_kw_provisioned(inputs: &CostInputs) -> Option<f64> {
    inputs
        .tdp_w
        .map(|t| t * inputs.server_power_over_tdp / 1000.0)
}

/// Power per GPU at the meter at utilization `u`: TDP·s·(i + (1−i)·u)·PUE.
fn power_w_at_meter(inputs: &CostInputs, u: f64) -> Option<f64> {
    let draw = inputs.idle_power_fraction + (1.0 - inputs.idle_power_fraction) * u;
    inputs
        .tdp_w
        .map(|t| t * inputs.server_power_over_tdp * draw * inputs.pue)
}

/// The same money per rack and per megawatt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleView {
    /// GPUs in one rack, from the cost input `gpus_per_rack` (at least 1).
    pub gpus_per_rack: f64,
    /// Dollars per rack per held hour.
    pub usd_per_rack_hour: f64,
    /// IT power of a rack at full draw (before PUE), watts; `None` without a TDP.
    pub rack_it_w: Option<f64>,
    /// GPUs one megawatt at the meter feeds at full draw (system and PUE included).
    pub gpus_per_mw: Option<f64>,
    /// Dollars per year for the GPUs one megawatt at the meter feeds, at this utilization.
    pub usd_per_mw_year: Option<f64>,
}

/// Scales a GPU-hour cost to a rack and to a megawatt at the meter (full draw, the power a
/// site must provision).
pub fn scale_view(inputs: &CostInputs, cost: &GpuHourCost) -> ScaleView {
    let full_w_at_meter = inputs
        .tdp_w
        .map(|t| t * inputs.server_power_over_tdp * inputs.pue);
    let gpus_per_mw = full_w_at_meter.map(|w| 1e6 / w);
    ScaleView {
        gpus_per_rack: inputs.gpus_per_rack,
        usd_per_rack_hour: cost.total_usd * inputs.gpus_per_rack,
        rack_it_w: inputs
            .tdp_w
            .map(|t| t * inputs.server_power_over_tdp * inputs.gpus_per_rack),
        gpus_per_mw,
        usd_per_mw_year: gpus_per_mw.map(|g| g * cost.total_usd * HOURS_PER_YEAR),
    }
}
