//! The fuzz regression sets of the model-config parser (`fuzz/regressions/`: a minimized corpus and every
//! crash input, see `fuzz/README.md`) replayed through the harness the fuzz targets run, so a
//! parser panic found once stays fixed and the replay needs no nightly toolchain.

#[path = "../../../fuzz/src/model.rs"]
mod harness;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn model_config_regressions_replay_without_panics() {
    replay::check(env!("CARGO_MANIFEST_DIR"), "model_config", |data| {
        usize::from(harness::config(data))
    });
}
