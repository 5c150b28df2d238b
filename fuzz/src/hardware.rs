//! Fuzz harnesses for the hardware crate's parsers: a catalog file, parsed whole and laid
//! over the built-in catalog as `--hardware-file` does, and a kernels file. Shared by the
//! `hardware_catalog` and `hardware_kernels` fuzz targets and servemath-hardware's
//! `tests/fuzz_regressions.rs`.

use servemath_hardware::{kernels, Catalog};
use servemath_model::MathPrecision::{Bf16, Fp32, Fp4, Fp8, Int8};
use std::sync::OnceLock;

const FILE: &str = "fuzz/hardware.toml";

/// Parses `data` as a complete catalog and as an overlay on the built-in one; every entry of
/// an accepted catalog must be found by its id and its aliases. Returns whether either
/// reading was accepted.
pub fn catalog(data: &[u8]) -> bool {
    static BUILTIN: OnceLock<Catalog> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let parsed = Catalog::parse(text, FILE);
    if let Ok(c) = &parsed {
        check(c);
    }
    let mut overlaid = BUILTIN.get_or_init(Catalog::builtin).clone();
    let laid = overlaid.overlay(text, FILE);
    if laid.is_ok() {
        check(&overlaid);
    }
    parsed.is_ok() || laid.is_ok()
}

fn check(c: &Catalog) {
    for hw in c.entries() {
        let found = c.get(&hw.id).map(|h| h.id.as_str());
        assert_eq!(
            found.ok(),
            Some(hw.id.as_str()),
            "id {} does not resolve",
            hw.id
        );
        for alias in c.aliases_of(&hw.id) {
            let found = c.get(alias).map(|h| h.id.as_str());
            assert_eq!(
                found.ok(),
                Some(hw.id.as_str()),
                "alias {alias} does not resolve"
            );
        }
        for p in [Fp32, Bf16, Fp8, Int8, Fp4] {
            let _ = hw.peak_flop_per_s(p);
        }
        let _ = (hw.scale_out(), hw.stated_figures());
    }
}

/// Parses `data` as a kernels file. Returns whether it was accepted.
pub fn kernels(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    kernels::parse(text).is_ok()
}
