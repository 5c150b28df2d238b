//! Fuzz harnesses for the econ crate's parsers: a `--costs` file, read as the CLI reads it
//! (a TOML table applied over a hardware entry's sourced defaults), and a price list. Shared
//! by the `econ_costs` and `econ_prices` fuzz targets and servemath-econ's
//! `tests/fuzz_regressions.rs`.

use servemath_econ::{cost_inputs_for, try_gpu_hour_cost, CostInputs, PriceList};
use servemath_hardware::Catalog;
use std::sync::OnceLock;

const FILE: &str = "fuzz/costs.toml";

/// Hardware entries whose defaults the costs file is laid over: one rented, one owned-only.
const HARDWARE: [&str; 2] = ["h100-sxm", "mi300x"];

/// Reads `data` as a `--costs` file over each entry's defaults, as
/// `servemath_cli::commands::cost::resolve_cost_inputs` does; an accepted file whose inputs
/// pass the check must give a finite, non-negative GPU-hour cost. Returns whether any entry
/// accepted it.
pub fn costs(data: &[u8]) -> bool {
    static BASE: OnceLock<Vec<CostInputs>> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return false;
    };
    let base = BASE.get_or_init(|| {
        let catalog = Catalog::builtin();
        HARDWARE
            .iter()
            .filter_map(|id| catalog.get(id).ok())
            .filter_map(|hw| cost_inputs_for(hw).ok())
            .collect()
    });
    assert_eq!(base.len(), HARDWARE.len(), "defaults of {HARDWARE:?}");
    let mut accepted = false;
    for inputs in base {
        let mut inputs = inputs.clone();
        if inputs.apply_table(&table, FILE).is_err() {
            continue;
        }
        accepted = true;
        for utilization in [1e-6, 0.5, 1.0] {
            if let Ok(cost) = try_gpu_hour_cost(&inputs, utilization) {
                let total = cost.total_usd;
                assert!(
                    total.is_finite() && total >= 0.0,
                    "total {total} of {inputs:?}"
                );
                assert!(cost.usd_per_busy_gpu_hour.is_finite(), "{cost:?}");
            }
        }
    }
    accepted
}

/// Parses `data` as a price list; the ratios the `prices` command prints must be numbers
/// (the parser refuses a zero input price, which they divide by). Returns whether it was
/// accepted.
pub fn prices(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(list) = PriceList::parse(text, "fuzz/prices.toml") else {
        return false;
    };
    for p in &list.prices {
        let ratios = [Some(p.output_over_input()), p.cached_over_uncached()];
        for r in ratios.into_iter().flatten() {
            assert!(!r.is_nan(), "ratio {r} of {p:?}");
        }
        let _ = (p.long_output_over_base(), p.long_input_over_base());
    }
    let _ = list.matching("a");
    true
}
