//! The fuzz regression sets of the `--costs` and price-list parsers (`fuzz/regressions/`: a minimized corpus and every
//! crash input, see `fuzz/README.md`) replayed through the harness the fuzz targets run, so a
//! parser panic found once stays fixed and the replay needs no nightly toolchain.

#[path = "../../../fuzz/src/econ.rs"]
mod harness;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn econ_costs_regressions_replay_without_panics() {
    replay::check(env!("CARGO_MANIFEST_DIR"), "econ_costs", |data| {
        usize::from(harness::costs(data))
    });
}

#[test]
fn econ_prices_regressions_replay_without_panics() {
    replay::check(env!("CARGO_MANIFEST_DIR"), "econ_prices", |data| {
        usize::from(harness::prices(data))
    });
}
