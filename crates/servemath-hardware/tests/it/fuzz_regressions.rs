//! The fuzz regression sets of the hardware catalog and kernels parsers (`fuzz/regressions/`: a minimized corpus and every
//! crash input, see `fuzz/README.md`) replayed through the harness the fuzz targets run, so a
//! parser panic found once stays fixed and the replay needs no nightly toolchain.

#[path = "../../../../fuzz/src/hardware.rs"]
mod harness;
#[path = "../../../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn hardware_catalog_regressions_replay_without_panics() {
    replay::check(env!("CARGO_MANIFEST_DIR"), "hardware_catalog", |data| {
        usize::from(harness::catalog(data))
    });
}

#[test]
fn hardware_kernels_regressions_replay_without_panics() {
    replay::check(env!("CARGO_MANIFEST_DIR"), "hardware_kernels", |data| {
        usize::from(harness::kernels(data))
    });
}
