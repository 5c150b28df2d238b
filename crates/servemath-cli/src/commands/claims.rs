//! `servemath claims`: the seed claims (shared/reference/seed-claims.md, items 1–14)
//! reproduced by [`servemath::claims`], as a list or JSON.

use crate::commands::write_json;
use clap::Args;
use servemath_report::Versioned;
use std::io::Write;

/// Reproduce the seed claims (batching, floor, balance batch, trains, scale-up vs scale-out, prices) from first principles.
#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// Print the JSON report instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ClaimsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let report = servemath::claims()?;
    if args.json {
        return write_json(out, &Versioned::new(report));
    }
    for c in &report.claims {
        writeln!(out, "[{}] {}", c.id, c.title)?;
        writeln!(out, "     inputs: {}", c.inputs)?;
        writeln!(out, "     figure: {}", c.display)?;
        writeln!(out, "     why:    {}", c.explanation)?;
        writeln!(out)?;
    }
    Ok(())
}
