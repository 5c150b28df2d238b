//! `servemath cost`: what one GPU-hour of a hardware entry costs, rented or owned, broken into
//! capital amortization, financing, power and facility (or rental), at a utilization; and the
//! same money per rack and per megawatt.

use crate::args::{check_utilization, resolve_cost_inputs, CostFlags};
use crate::commands::write_json;
use clap::Args;
use servemath_report::text::cost::render;
use servemath_report::Versioned;
use std::io::Write;
use std::path::PathBuf;

/// Price one GPU-hour of a hardware entry: rental, or ownership broken into capital
/// amortization, financing, power and facility, at a utilization; per rack and per megawatt.
///
/// Every input has a sourced default per hardware entry (crates/servemath-econ/data/costs.toml)
/// and can be overridden. Formulas: docs/economics.md.
#[derive(Debug, Clone, Args)]
pub struct CostArgs {
    /// Hardware catalog id (see `servemath hardware`).
    #[arg(long = "hardware", default_value = "h100-sxm", value_name = "ID")]
    pub hardware: String,

    /// TOML file adding or overriding hardware entries (repeatable; later files win).
    #[arg(long = "hardware-file", value_name = "FILE.toml")]
    pub hardware_file: Vec<PathBuf>,

    /// Fraction of held GPU-hours doing useful work, in (0, 1].
    #[arg(long, default_value_t = 0.7, value_name = "U")]
    pub utilization: f64,

    #[command(flatten)]
    pub costs: CostFlags,

    /// Print the versioned JSON report (`servemath.cost/1`) instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &CostArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let u = check_utilization(args.utilization)?;
    let catalog = crate::common::load_catalog(&args.hardware_file)?;
    let hw = catalog.get(&args.hardware)?;
    let inputs = resolve_cost_inputs(&args.costs, hw)?;
    let report = servemath::cost(hw, &inputs, u)?;
    if args.json {
        return write_json(out, &Versioned::new(report));
    }
    write!(out, "{}", render(&report))?;
    Ok(())
}
