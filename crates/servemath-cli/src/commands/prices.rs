//! `servemath prices`: a provider price list and its ratios (output/input, cached/uncached,
//! long-context tiers), set beside the ratios the cost model predicts for a deployment the user
//! names as the provider's likely setup, with a plain-language reading of each
//! ([`servemath::prices`]), as tables or JSON.

use crate::args::{apply_cost_flags, check_utilization, CostFlags};
use crate::commands::write_json;
use crate::common::{self, DeployArgs};
use clap::Args;
use servemath::PricesRequest;
use servemath_econ::PriceList;
use servemath_report::text::prices::render;
use servemath_report::Versioned;
use std::io::Write;
use std::path::PathBuf;

/// Compare a provider price list with what the cost model predicts for a deployment you name as
/// the provider's likely setup: output/input, cached/uncached, and where a long-context tier
/// would pay for its KV-cache reads.
///
/// The built-in list (crates/servemath-econ/data/prices.toml) has each price's source and
/// date. The model side serves `--batch` requests of `--input` + `--output` tokens; without
/// --tp, when one sequence does not fit at TP1, the smallest tensor-parallel degree that fits is
/// used and said so; a --tp given is kept.
#[derive(Debug, Clone, Args)]
pub struct PricesArgs {
    #[command(flatten)]
    pub deploy: DeployArgs,

    /// A TOML price list to read instead of the built-in one (same schema).
    #[arg(long = "prices", value_name = "FILE.toml")]
    pub prices_file: Option<PathBuf>,

    /// Only entries whose provider or model contains this (case-insensitive).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,

    /// Concurrent requests on the replica (a realistic serving batch).
    #[arg(long, default_value_t = 64, value_name = "B")]
    pub batch: u64,

    /// Prompt tokens per request.
    #[arg(long, default_value_t = 2048, value_name = "TOKENS")]
    pub input: u64,

    /// Generated tokens per request.
    #[arg(long, default_value_t = 256, value_name = "TOKENS")]
    pub output: u64,

    /// Share of the prompt found in the prompt cache, for the cached/uncached comparison.
    #[arg(long = "cached-fraction", default_value_t = 0.5, value_name = "F")]
    pub cached_fraction: f64,

    /// Fraction of held GPU-hours doing useful work, in (0, 1].
    #[arg(long, default_value_t = 0.7, value_name = "U")]
    pub utilization: f64,

    #[command(flatten)]
    pub costs: CostFlags,

    /// Print the versioned JSON report (`servemath.prices/1`) instead of the tables.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &PricesArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    check_utilization(args.utilization)?;
    let prices = load_prices(args.prices_file.as_ref())?;
    let deployment = common::deployment_request(&args.deploy)?;
    let costs = apply_cost_flags(&args.costs, &deployment.hardware)?;
    let (report, diagnostics) = servemath::prices(&PricesRequest {
        deployment,
        costs,
        prices,
        provider: args.provider.clone(),
        batch: args.batch,
        input: args.input,
        output: args.output,
        cached_fraction: args.cached_fraction,
        utilization: args.utilization,
    })?;
    crate::report_diagnostics(&diagnostics, false);
    if args.json {
        return write_json(out, &Versioned::new(report));
    }
    write!(out, "{}", render(&report))?;
    Ok(())
}

fn load_prices(file: Option<&PathBuf>) -> anyhow::Result<PriceList> {
    Ok(match file {
        Some(f) => {
            let text = crate::common::read_input(f, "price list")?;
            PriceList::parse(&text, &f.display().to_string())?
        }
        None => PriceList::builtin()?,
    })
}
