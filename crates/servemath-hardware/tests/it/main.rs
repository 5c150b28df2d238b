//! Integration tests of the hardware catalog: one binary, one module per feature.

mod builtin;
mod errors;
mod fuzz_regressions;
mod lookup;
mod overlay;

use servemath_hardware::{figure, Catalog, Hardware};

/// The value of the figure stored under catalog key `key`, if the entry states it.
pub fn figure_value(h: &Hardware, key: &str) -> Option<f64> {
    match key {
        figure::BF16 => h.peak.bf16,
        figure::FP8 => h.peak.fp8,
        figure::INT8 => h.peak.int8,
        figure::FP4 => h.peak.fp4,
        figure::HBM_BYTES => Some(h.hbm_bytes),
        figure::HBM_BYTES_PER_S => Some(h.hbm_bytes_per_s),
        figure::SCALE_UP_DOMAIN => Some(f64::from(h.scale_up_domain)),
        figure::SCALE_UP_BYTES_PER_S => Some(h.scale_up_bytes_per_s),
        figure::SCALE_OUT_BYTES_PER_S => h.scale_out_bytes_per_s,
        figure::SCALE_UP_LATENCY_S => Some(h.scale_up_latency_s),
        figure::SCALE_OUT_LATENCY_S => Some(h.scale_out_latency_s),
        figure::TDP_W => h.tdp_w,
        _ => panic!("not a figure key: {key}"),
    }
}

/// The builtin entry `id`, failing the test with the catalog's own message if absent.
pub fn builtin(id: &str) -> Hardware {
    match Catalog::builtin().get(id) {
        Ok(h) => h.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// Asserts `actual` is within `rel` of `golden`, printing both and the difference otherwise.
pub fn assert_close(what: &str, golden: f64, actual: f64, rel: f64) {
    let diff = (actual - golden) / golden;
    assert!(
        diff.abs() <= rel,
        "{what}: golden {golden:e}, actual {actual:e}, relative difference {diff:+.3e} (tolerance {rel:e})"
    );
}
