//! What one GPU-hour of a hardware entry costs, rented or owned, broken into capital
//! amortization, financing, power and facility (or rental), at a utilization; and the same
//! money per rack and per megawatt.

use servemath_econ::CostInputs;
use servemath_hardware::Hardware;
use servemath_report::CostReport;

/// The GPU-hour of `hardware` priced with `costs` (checked) at `utilization` in (0, 1].
pub fn cost(
    hardware: &Hardware,
    costs: &CostInputs,
    utilization: f64,
) -> anyhow::Result<CostReport> {
    let u = servemath_econ::check_utilization(utilization, "utilization")?;
    costs.check()?;
    let g = servemath_econ::gpu_hour_cost(costs, u);
    let s = servemath_econ::scale_view(costs, &g);
    Ok(CostReport::new(&hardware.name, costs, &g, &s))
}
