//! The cost flags `cost`, `estimate`, `simulate`, `search`, `fleet`, `prices` and `lifecycle`
//! share, and their resolution into `CostInputs` (sourced defaults, then a file, then flags).

use clap::{Args, ValueEnum};
use servemath_econ::{CostInputs, Mode, INPUT_DOCS};
use servemath_hardware::Hardware;
use std::path::PathBuf;

/// How GPU-hours are paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Rented at `rental_usd_per_gpu_hour` (power and facility inside the rate).
    Rental,
    /// Owned: capital amortization, financing, power, facility.
    Owned,
}

/// The cost flags every pricing command shares.
#[derive(Debug, Clone, Default, Args)]
pub struct CostFlags {
    /// Rental or ownership. Default: rental where the hardware has a rental price, else owned.
    #[arg(long, value_enum, value_name = "MODE")]
    pub mode: Option<ModeArg>,

    /// Set a cost input, e.g. `--cost ppa_usd_per_mwh=80` (repeatable; applied after --costs).
    /// `servemath cost --help` lists the names.
    #[arg(long = "cost", value_name = "NAME=VALUE", long_help = cost_long_help())]
    pub cost: Vec<String>,

    /// A TOML file of `name = value` cost inputs (and `mode = "owned"`), applied over the
    /// hardware entry's defaults.
    #[arg(long = "costs", value_name = "FILE.toml")]
    pub costs_file: Option<PathBuf>,
}

/// The long help of `--cost`: every input with its unit, from the econ crate's own table.
fn cost_long_help() -> String {
    let mut help = String::from(
        "Set a cost input, e.g. `--cost ppa_usd_per_mwh=80` (repeatable; applied after --costs). \
         Definitions and sources: docs/economics.md. Names:",
    );
    for d in INPUT_DOCS {
        help.push_str(&format!("\n  {:<26} {} ({})", d.name, d.doc, d.unit));
    }
    help
}

/// The cost inputs for `hw`: sourced defaults, then the `--costs` file, then each `--cost`,
/// then `--mode`; checked for the figures the mode needs.
pub fn resolve_cost_inputs(flags: &CostFlags, hw: &Hardware) -> anyhow::Result<CostInputs> {
    let inputs = apply_cost_flags(flags, hw)?;
    inputs.check()?;
    Ok(inputs)
}

/// [`resolve_cost_inputs`] without the final check, for callers that can do without a price.
pub fn apply_cost_flags(flags: &CostFlags, hw: &Hardware) -> anyhow::Result<CostInputs> {
    let mut inputs = servemath_econ::cost_inputs_for(hw)?;
    if let Some(file) = &flags.costs_file {
        let origin = file.display().to_string();
        let text = crate::common::read_input(file, "cost file")?;
        let table: toml::Table = text
            .parse()
            .map_err(|e| crate::common::toml_error(&origin, &text, &e))?;
        inputs.apply_table(&table, &origin)?;
    }
    for c in &flags.cost {
        let origin = format!("--cost {c}");
        let Some((name, value)) = c.split_once('=') else {
            return Err(crate::usage!("{origin}: expected NAME=VALUE"));
        };
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| crate::usage!("{origin}: `{}` is not a number", value.trim()))?;
        inputs.set(name.trim(), value, &origin)?;
    }
    if let Some(m) = flags.mode {
        inputs.mode = match m {
            ModeArg::Rental => Mode::Rental,
            ModeArg::Owned => Mode::Owned,
        };
    }
    Ok(inputs)
}

/// Checks a `--utilization` flag.
pub fn check_utilization(u: f64) -> anyhow::Result<f64> {
    Ok(servemath_econ::check_utilization(u, "--utilization")?)
}
