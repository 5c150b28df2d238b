//! The fuzz regression sets of the calibration and `--params` parsers (`fuzz/regressions/`: a minimized corpus and every
//! crash input, see `fuzz/README.md`) replayed through the harness the fuzz targets run, so a
//! parser panic found once stays fixed and the replay needs no nightly toolchain.

#[path = "../../../fuzz/src/cost.rs"]
mod harness;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn cost_calibration_regressions_replay_without_panics() {
    replay::check(env!("CARGO_MANIFEST_DIR"), "cost_calibration", |data| {
        usize::from(harness::calibration(data))
    });
}

#[test]
fn cost_params_regressions_replay_without_panics() {
    replay::check(env!("CARGO_MANIFEST_DIR"), "cost_params", |data| {
        usize::from(harness::params(data))
    });
}
