//! Fuzz harness for the `--config` scenario file of `servemath simulate`. Shared by the
//! `scenario` fuzz target and servemath-cli's `tests/fuzz_regressions.rs`.

use servemath_cli::commands::simulate::parse_scenario;

/// Parses `data` as a scenario file; a refusal must name the file. Returns whether it was
/// accepted.
pub fn scenario(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    match parse_scenario(text, "fuzz/scenario.toml") {
        Ok(_) => true,
        Err(e) => {
            let message = e.to_string();
            assert!(message.starts_with("fuzz/scenario.toml"), "{message}");
            false
        }
    }
}
