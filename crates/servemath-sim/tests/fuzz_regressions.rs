//! The fuzz regression sets of the trace readers and workload specs (`fuzz/regressions/`: a minimized corpus and every
//! crash input, see `fuzz/README.md`) replayed through the harness the fuzz targets run, so a
//! parser panic found once stays fixed and the replay needs no nightly toolchain.

#[path = "../../../fuzz/src/sim.rs"]
mod harness;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn trace_regressions_replay_without_panics() {
    let seen = replay(env!("CARGO_MANIFEST_DIR"), "trace", harness::traces);
    assert!(
        seen.files >= 2,
        "regression set of trace is missing: {seen:?}"
    );
    // The seeds are real files: a set none of which parses no longer reaches the parser's
    // accepting paths.
    assert!(
        seen.accepted > 0,
        "no input of trace was accepted: {seen:?}"
    );
}

#[test]
fn workload_spec_regressions_replay_without_panics() {
    let seen = replay(
        env!("CARGO_MANIFEST_DIR"),
        "workload_spec",
        harness::workload_spec,
    );
    assert!(
        seen.files >= 2,
        "regression set of workload_spec is missing: {seen:?}"
    );
    // The seeds are real files: a set none of which parses no longer reaches the parser's
    // accepting paths.
    assert!(
        seen.accepted > 0,
        "no input of workload_spec was accepted: {seen:?}"
    );
}
