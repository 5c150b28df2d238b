//! Fuzz harnesses for the cost crate's parsers: the calibration file (`calibration.toml`'s
//! format) and a `--params` file, read as the CLI reads it (a TOML table applied over the
//! calibrated parameters of a hardware family). Shared by the `cost_calibration` and
//! `cost_params` fuzz targets and servemath-cost's `tests/fuzz_regressions.rs`.

use servemath_cost::{Calibration, CostParams};
use servemath_hardware::FAMILIES;
use std::sync::OnceLock;

const FILE: &str = "fuzz/params.toml";

/// Parses `data` as a calibration file; an accepted one must give valid parameters for
/// every family. Returns whether it was accepted.
pub fn calibration(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(cal) = Calibration::parse(text, FILE) else {
        return false;
    };
    let families = cal.families.keys().map(String::as_str);
    for family in FAMILIES.into_iter().chain(families) {
        let p = cal.for_family(family);
        assert!(
            p.validate(FILE).is_ok(),
            "[family.{family}] accepted but invalid"
        );
    }
    true
}

/// Reads `data` as a `--params` file over each family's calibrated parameters, as
/// `servemath_cli::common::resolve_params` does. Returns whether any family accepted it.
pub fn params(data: &[u8]) -> bool {
    static BASE: OnceLock<Vec<CostParams>> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return false;
    };
    let base = BASE.get_or_init(|| {
        let cal = Calibration::builtin();
        FAMILIES.iter().map(|f| cal.for_family(f)).collect()
    });
    let mut accepted = false;
    for p in base {
        let mut p = *p;
        if p.apply_table(&table, FILE).is_ok() {
            assert!(p.validate(FILE).is_ok(), "params accepted but invalid");
            accepted = true;
        }
    }
    accepted
}
