//! The fuzz regression sets of the `--config` scenario file (`fuzz/regressions/`: a minimized corpus and every
//! crash input, see `fuzz/README.md`) replayed through the harness the fuzz targets run, so a
//! parser panic found once stays fixed and the replay needs no nightly toolchain.

#[path = "../../../../fuzz/src/cli.rs"]
mod harness;
#[path = "../../../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn scenario_regressions_replay_without_panics() {
    replay::check(env!("CARGO_MANIFEST_DIR"), "scenario", |data| {
        usize::from(harness::scenario(data))
    });
}
