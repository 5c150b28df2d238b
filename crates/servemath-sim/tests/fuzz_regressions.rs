//! The fuzz regression sets of the trace readers and workload specs (`fuzz/regressions/`: a minimized corpus and every
//! crash input, see `fuzz/README.md`) replayed through the harness the fuzz targets run, so a
//! parser panic found once stays fixed and the replay needs no nightly toolchain.

#[path = "../../../fuzz/src/sim.rs"]
mod harness;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn trace_regressions_replay_without_panics() {
    replay::check(env!("CARGO_MANIFEST_DIR"), "trace", harness::traces);
}

#[test]
fn workload_spec_regressions_replay_without_panics() {
    replay::check(
        env!("CARGO_MANIFEST_DIR"),
        "workload_spec",
        harness::workload_spec,
    );
}
