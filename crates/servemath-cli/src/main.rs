//! The `servemath` binary; everything lives in the library so tests can reach the CLI types.

fn main() -> std::process::ExitCode {
    servemath_cli::main()
}
