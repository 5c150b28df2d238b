//! One module per subcommand: its arguments (clap derive; doc comments are the help) and its
//! `run`, which writes data to the given output and returns errors for `main` to print.

pub mod claims;
pub mod cost;
pub mod estimate;
pub mod fleet;
pub mod hardware;
pub mod lifecycle;
pub mod model;
pub mod models;
pub mod prices;
pub mod search;
pub mod simulate;
pub mod validate;

use serde::Serialize;
use std::io::Write;

/// Writes `value` as pretty JSON with a trailing newline.
pub(crate) fn write_json<T: Serialize>(out: &mut dyn Write, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}
