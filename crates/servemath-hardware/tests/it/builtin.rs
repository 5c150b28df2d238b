//! The embedded catalog: complete, sourced, and matching its sources.

use servemath_hardware::{figure, Catalog, HardwareError, FAMILIES};
use servemath_model::MathPrecision;

use crate::{assert_close, builtin, figure_value};

const EXPECTED_IDS: [&str; 16] = [
    "a100-sxm",
    "h100-sxm",
    "h800",
    "h200",
    "b200",
    "gb200-nvl72",
    "gb300-nvl72",
    "rubin-nvl72",
    "mi300x",
    "mi325x",
    "mi355x",
    "tpu-v4",
    "tpu-v5e",
    "tpu-v5p",
    "tpu-v6e",
    "tpu-v7",
];

#[test]
fn builtin_has_every_expected_entry() {
    let catalog = Catalog::builtin();
    let ids: Vec<&str> = catalog.ids().collect();
    assert_eq!(ids, EXPECTED_IDS);
}

#[test]
fn every_stated_figure_has_a_source() {
    for h in Catalog::builtin().entries() {
        for key in h.stated_figures() {
            let source = h.source(key).unwrap_or_default();
            assert!(
                source.len() > 10 && !source.contains("no source given"),
                "{}: figure {key} has no real source: {source:?}",
                h.id
            );
        }
        if let Some(price) = &h.price {
            assert!(price.source.len() > 10, "{}: price has no source", h.id);
            assert_ne!(price.date, "unspecified", "{}: price has no date", h.id);
        }
    }
}

#[test]
fn entries_without_a_price_say_why() {
    for h in Catalog::builtin().entries() {
        if h.price.is_none() {
            assert!(
                h.notes.contains("No price"),
                "{}: no price and no reason in notes",
                h.id
            );
        }
    }
}

#[test]
fn families_are_the_calibration_families() {
    let catalog = Catalog::builtin();
    for h in catalog.entries() {
        assert!(
            FAMILIES.contains(&h.family.as_str()),
            "{}: {}",
            h.id,
            h.family
        );
    }
    for family in [
        "ampere",
        "hopper",
        "blackwell",
        "rubin",
        "cdna3",
        "cdna4",
        "tpu",
    ] {
        assert!(
            catalog.entries().iter().any(|h| h.family == family),
            "no entry of family {family}"
        );
    }
}

/// Figures checked against the values their sources state (see catalog/hardware.toml).
#[test]
fn figures_match_their_sources() {
    let cases: &[(&str, &str, f64)] = &[
        ("h100-sxm", figure::BF16, 989.4e12),
        ("h100-sxm", figure::FP8, 1978.9e12),
        ("h100-sxm", figure::HBM_BYTES, 80e9),
        ("h100-sxm", figure::HBM_BYTES_PER_S, 3.35e12),
        ("h100-sxm", figure::SCALE_UP_BYTES_PER_S, 450e9),
        ("h100-sxm", figure::SCALE_OUT_BYTES_PER_S, 50e9),
        ("h100-sxm", figure::SCALE_UP_DOMAIN, 8.0),
        ("h100-sxm", figure::TDP_W, 700.0),
        ("a100-sxm", figure::BF16, 312e12),
        ("a100-sxm", figure::INT8, 624e12),
        ("a100-sxm", figure::HBM_BYTES_PER_S, 2.039e12),
        ("a100-sxm", figure::SCALE_UP_BYTES_PER_S, 300e9),
        ("a100-sxm", figure::TDP_W, 400.0),
        ("h800", figure::SCALE_UP_BYTES_PER_S, 200e9),
        ("h200", figure::HBM_BYTES, 141e9),
        ("h200", figure::HBM_BYTES_PER_S, 4.8e12),
        ("b200", figure::FP4, 9000e12),
        ("gb200-nvl72", figure::BF16, 2500e12),
        ("gb200-nvl72", figure::SCALE_UP_DOMAIN, 72.0),
        ("gb300-nvl72", figure::FP4, 15000e12),
        ("gb300-nvl72", figure::HBM_BYTES, 288e9),
        ("rubin-nvl72", figure::FP4, 35e15),
        ("rubin-nvl72", figure::HBM_BYTES, 288e9),
        ("rubin-nvl72", figure::HBM_BYTES_PER_S, 20e12),
        ("rubin-nvl72", figure::SCALE_UP_BYTES_PER_S, 1800e9),
        ("mi300x", figure::BF16, 1307.4e12),
        ("mi300x", figure::SCALE_UP_BYTES_PER_S, 448e9),
        ("mi355x", figure::FP4, 10066.4e12),
        ("tpu-v4", figure::HBM_BYTES, 34.36e9),
        ("tpu-v5e", figure::INT8, 393e12),
        ("tpu-v5p", figure::FP8, 459e12),
        ("tpu-v6e", figure::BF16, 918e12),
        ("tpu-v7", figure::FP8, 4614e12),
        ("tpu-v7", figure::SCALE_UP_DOMAIN, 9216.0),
    ];
    for &(id, key, golden) in cases {
        let h = builtin(id);
        let actual = figure_value(&h, key).unwrap_or(f64::NAN);
        assert_close(&format!("{id} {key}"), golden, actual, 1e-12);
    }
}

#[test]
fn figures_left_out_are_absent_not_guessed() {
    let cases: &[(&str, &str)] = &[
        ("a100-sxm", figure::FP8),
        ("rubin-nvl72", figure::BF16),
        ("rubin-nvl72", figure::FP8),
        ("rubin-nvl72", figure::SCALE_OUT_BYTES_PER_S),
        ("rubin-nvl72", figure::TDP_W),
        ("tpu-v4", figure::SCALE_OUT_BYTES_PER_S),
        ("tpu-v7", figure::TDP_W),
    ];
    for &(id, key) in cases {
        assert_eq!(figure_value(&builtin(id), key), None, "{id} {key}");
    }
}

#[test]
fn h100_flop_per_byte_is_about_295() {
    // Seed claim 4: 989.4e12 FLOP/s / 3.35e12 B/s = 295.34 FLOP per byte.
    let h = builtin("h100-sxm");
    let ratio = h.peak_flop_per_s(MathPrecision::Bf16).unwrap_or(f64::NAN) / h.hbm_bytes_per_s;
    assert_close("h100 bf16 FLOP/s / HBM B/s", 295.34, ratio, 1e-3);
}

#[test]
fn rubin_seed_reads_all_hbm_in_14_4_ms() {
    // Seed claim 7: 288e9 B / 20e12 B/s = 14.4e-3 s.
    let h = builtin("rubin");
    assert_close(
        "rubin full-HBM read",
        14.4e-3,
        h.hbm_bytes / h.hbm_bytes_per_s,
        1e-12,
    );
}

#[test]
fn a_missing_peak_is_an_error_not_a_guess() {
    let h = builtin("rubin-nvl72");
    let err = h.peak_flop_per_s(MathPrecision::Bf16).err();
    assert!(matches!(err, Some(HardwareError::NoPeak { .. })), "{err:?}");
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("rubin-nvl72 has no published dense bf16"),
        "{message}"
    );
}

#[test]
fn lower_precision_is_never_slower() {
    for h in Catalog::builtin().entries() {
        if let (Some(bf16), Some(fp8)) = (h.peak.bf16, h.peak.fp8) {
            assert!(fp8 >= bf16, "{}: fp8 {fp8:e} < bf16 {bf16:e}", h.id);
        }
        if let (Some(fp8), Some(fp4)) = (h.peak.fp8, h.peak.fp4) {
            assert!(fp4 >= fp8, "{}: fp4 {fp4:e} < fp8 {fp8:e}", h.id);
        }
    }
}

#[test]
fn scale_out_is_slower_than_scale_up() {
    for h in Catalog::builtin().entries() {
        if let Some(out) = h.scale_out_bytes_per_s {
            assert!(out < h.scale_up_bytes_per_s, "{}", h.id);
        }
    }
}
