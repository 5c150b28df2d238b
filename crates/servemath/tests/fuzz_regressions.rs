//! The fuzz regression set of the application layer's text values (`fuzz/regressions/`: a
//! minimized corpus and every crash input, see `fuzz/README.md`) replayed through the harness
//! the fuzz target runs, so a panic found once stays fixed and the replay needs no nightly
//! toolchain.

#[path = "../../../fuzz/src/app.rs"]
mod harness;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn request_text_regressions_replay_without_panics() {
    replay::check(
        env!("CARGO_MANIFEST_DIR"),
        "request_text",
        harness::request_text,
    );
}
