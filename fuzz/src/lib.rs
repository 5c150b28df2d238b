//! Harnesses for the fuzz targets in `fuzz_targets/`, one module per crate under test. Each
//! function takes the fuzzer's bytes, feeds them to the crate's parser, checks what an
//! accepted input promises, and returns whether (or how often) the input was accepted.
//! The crates' `tests/fuzz_regressions.rs` include the same modules by path and run them
//! over `regressions/<target>/`, so the committed corpus replays in `cargo test`.

pub mod app;
pub mod cli;
pub mod cost;
pub mod econ;
pub mod hardware;
pub mod model;
pub mod replay;
pub mod sim;
