//! `servemath prices`: a provider price list and its ratios (output/input, cached/uncached,
//! long-context tiers), set beside the ratios the cost model predicts for a deployment the user
//! names as the provider's likely setup, with a plain-language reading of each
//! ([`servemath::prices`]), as tables or JSON.

use crate::args::{apply_cost_flags, check_utilization, CostFlags};
use crate::commands::write_json;
use crate::common::fmt::money;
use crate::common::fmt::{self, Align, Table};
use crate::common::{self, DeployArgs};
use clap::Args;
use servemath::PricesRequest;
use servemath_econ::PriceList;
use servemath_report::{PricesReport, Versioned};
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

/// `200K`, `1M`, or the plain count.
fn threshold(t: f64) -> String {
    if t >= 1e6 && t % 1e6 == 0.0 {
        format!("{}M", t / 1e6)
    } else if t >= 1e3 && t % 1e3 == 0.0 {
        format!("{}K", t / 1e3)
    } else {
        fmt::int(t)
    }
}

fn opt_money(v: Option<f64>) -> String {
    v.map_or("-".to_string(), money)
}

/// The price list with its ratios, then the model's side and the readings.
pub fn render(r: &PricesReport) -> String {
    let mut s = String::new();
    s.push_str(&format!("price list   {} ($ per million tokens)\n", r.file));
    let mut t = Table::new(&[
        ("provider", Align::Left),
        ("model", Align::Left),
        ("input", Align::Right),
        ("output", Align::Right),
        ("cached", Align::Right),
        ("out/in", Align::Right),
        ("cached/in", Align::Right),
        ("long tier", Align::Left),
        ("date", Align::Left),
        ("checked", Align::Left),
    ]);
    for p in &r.prices {
        let q = &p.price;
        t.row(vec![
            q.provider.clone(),
            q.model.clone(),
            money(q.input_usd_per_mtok),
            money(q.output_usd_per_mtok),
            opt_money(q.cached_input_usd_per_mtok),
            format!("{}x", fmt::num(p.output_over_input)),
            p.cached_over_uncached.map_or("-".to_string(), fmt::percent),
            q.long_context.as_ref().map_or("-".to_string(), |l| {
                format!(
                    "> {}: {} / {}",
                    threshold(l.threshold_tokens),
                    money(l.input_usd_per_mtok),
                    money(l.output_usd_per_mtok)
                )
            }),
            q.date.clone(),
            if q.confirmed { "yes" } else { "unconfirmed" }.to_string(),
        ]);
    }
    s.push_str(&t.render(0));
    let m = &r.model;
    s.push_str(&format!(
        "\ncost model   {} on {} ({} = {} GPUs), batch {} of {} + {} tokens, {}/GPU-hour at {} utilization\n",
        m.model,
        m.hardware,
        m.layout,
        m.gpus,
        m.batch,
        fmt::int(m.input_tokens as f64),
        fmt::int(m.output_tokens as f64),
        money(m.usd_per_gpu_hour),
        fmt::percent(m.utilization)
    ));
    s.push_str(&format!(
        "             input {} /Mtok, output {} /Mtok: output/input {}x; cached/uncached {}; KV crossover {}\n\n",
        money(m.input_usd_per_mtok),
        money(m.output_usd_per_mtok),
        fmt::num(m.output_over_input),
        fmt::percent(m.cached_over_uncached),
        m.kv_crossover_tokens
            .map_or("none below 100 M tokens".to_string(), |c| format!(
                "{} tokens",
                fmt::int(c)
            ))
    ));
    for line in &m.readings {
        s.push_str(&format!("- {line}\n"));
    }
    s.push_str("sources: --json or the price file; definitions: docs/economics.md\n");
    s
}
