//! The fuzz regression sets of the hardware catalog and kernels parsers (`fuzz/regressions/`: a minimized corpus and every
//! crash input, see `fuzz/README.md`) replayed through the harness the fuzz targets run, so a
//! parser panic found once stays fixed and the replay needs no nightly toolchain.

#[path = "../../../../fuzz/src/hardware.rs"]
mod harness;
#[path = "../../../../fuzz/src/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn hardware_catalog_regressions_replay_without_panics() {
    let seen = replay(env!("CARGO_MANIFEST_DIR"), "hardware_catalog", |data| {
        usize::from(harness::catalog(data))
    });
    assert!(
        seen.files >= 2,
        "regression set of hardware_catalog is missing: {seen:?}"
    );
    // The seeds are real files: a set none of which parses no longer reaches the parser's
    // accepting paths.
    assert!(
        seen.accepted > 0,
        "no input of hardware_catalog was accepted: {seen:?}"
    );
}

#[test]
fn hardware_kernels_regressions_replay_without_panics() {
    let seen = replay(env!("CARGO_MANIFEST_DIR"), "hardware_kernels", |data| {
        usize::from(harness::kernels(data))
    });
    assert!(
        seen.files >= 2,
        "regression set of hardware_kernels is missing: {seen:?}"
    );
    // The seeds are real files: a set none of which parses no longer reaches the parser's
    // accepting paths.
    assert!(
        seen.accepted > 0,
        "no input of hardware_kernels was accepted: {seen:?}"
    );
}
