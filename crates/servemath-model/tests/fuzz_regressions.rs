//! The fuzz regression sets of the model-config parser (`fuzz/regressions/`: a minimized corpus and every
//! crash input, see `fuzz/README.md`) replayed through the harness the fuzz targets run, so a
//! parser panic found once stays fixed and the replay needs no nightly toolchain.

#[path = "../../../fuzz/src/model.rs"]
mod harness;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn model_config_regressions_replay_without_panics() {
    let seen = replay(env!("CARGO_MANIFEST_DIR"), "model_config", |data| {
        usize::from(harness::config(data))
    });
    assert!(
        seen.files >= 2,
        "regression set of model_config is missing: {seen:?}"
    );
    // The seeds are real files: a set none of which parses no longer reaches the parser's
    // accepting paths.
    assert!(
        seen.accepted > 0,
        "no input of model_config was accepted: {seen:?}"
    );
}
