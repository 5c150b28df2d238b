//! The fuzz regression sets of the `--costs` and price-list parsers (`fuzz/regressions/`: a minimized corpus and every
//! crash input, see `fuzz/README.md`) replayed through the harness the fuzz targets run, so a
//! parser panic found once stays fixed and the replay needs no nightly toolchain.

#[path = "../../../fuzz/src/econ.rs"]
mod harness;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn econ_costs_regressions_replay_without_panics() {
    let seen = replay(env!("CARGO_MANIFEST_DIR"), "econ_costs", |data| {
        usize::from(harness::costs(data))
    });
    assert!(
        seen.files >= 2,
        "regression set of econ_costs is missing: {seen:?}"
    );
    // The seeds are real files: a set none of which parses no longer reaches the parser's
    // accepting paths.
    assert!(
        seen.accepted > 0,
        "no input of econ_costs was accepted: {seen:?}"
    );
}

#[test]
fn econ_prices_regressions_replay_without_panics() {
    let seen = replay(env!("CARGO_MANIFEST_DIR"), "econ_prices", |data| {
        usize::from(harness::prices(data))
    });
    assert!(
        seen.files >= 2,
        "regression set of econ_prices is missing: {seen:?}"
    );
    // The seeds are real files: a set none of which parses no longer reaches the parser's
    // accepting paths.
    assert!(
        seen.accepted > 0,
        "no input of econ_prices was accepted: {seen:?}"
    );
}
