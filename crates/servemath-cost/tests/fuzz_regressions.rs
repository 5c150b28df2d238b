//! The fuzz regression sets of the calibration and `--params` parsers (`fuzz/regressions/`: a minimized corpus and every
//! crash input, see `fuzz/README.md`) replayed through the harness the fuzz targets run, so a
//! parser panic found once stays fixed and the replay needs no nightly toolchain.

#[path = "../../../fuzz/src/cost.rs"]
mod harness;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn cost_calibration_regressions_replay_without_panics() {
    let seen = replay(env!("CARGO_MANIFEST_DIR"), "cost_calibration", |data| {
        usize::from(harness::calibration(data))
    });
    assert!(
        seen.files >= 2,
        "regression set of cost_calibration is missing: {seen:?}"
    );
    // The seeds are real files: a set none of which parses no longer reaches the parser's
    // accepting paths.
    assert!(
        seen.accepted > 0,
        "no input of cost_calibration was accepted: {seen:?}"
    );
}

#[test]
fn cost_params_regressions_replay_without_panics() {
    let seen = replay(env!("CARGO_MANIFEST_DIR"), "cost_params", |data| {
        usize::from(harness::params(data))
    });
    assert!(
        seen.files >= 2,
        "regression set of cost_params is missing: {seen:?}"
    );
    // The seeds are real files: a set none of which parses no longer reaches the parser's
    // accepting paths.
    assert!(
        seen.accepted > 0,
        "no input of cost_params was accepted: {seen:?}"
    );
}
