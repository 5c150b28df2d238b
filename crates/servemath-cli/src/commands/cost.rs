//! `servemath cost`: what one GPU-hour of a hardware entry costs, rented or owned, broken into
//! capital amortization, financing, power and facility (or rental), at a utilization; and the
//! same money per rack and per megawatt.

use crate::args::{check_utilization, resolve_cost_inputs, CostFlags};
use crate::commands::write_json;
use crate::common::fmt::money;
use crate::common::fmt::{self, Align, Table};
use clap::Args;
use servemath_report::{CostReport, Versioned};
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

fn input(r: &CostReport, name: &str) -> f64 {
    r.inputs
        .iter()
        .find(|i| i.name == name)
        .and_then(|i| i.value)
        .unwrap_or(f64::NAN)
}

/// The breakdown, the scale view and the inputs with their sources.
pub fn render(r: &CostReport) -> String {
    let mut s = String::new();
    let g = &r.gpu_hour;
    let v = |name| input(r, name);
    s.push_str(&format!(
        "hardware     {}: {}\n",
        r.hardware.id, r.hardware.name
    ));
    s.push_str(&format!(
        "mode         {}, at {} utilization (useful hours over held hours)\n\n",
        r.mode,
        fmt::percent(r.utilization)
    ));
    let mut t = Table::new(&[
        ("$/GPU-hour", Align::Left),
        ("", Align::Right),
        ("share", Align::Right),
        ("from", Align::Left),
    ]);
    let share = |x: f64| fmt::percent(x / g.total_usd);
    if r.mode == "rental" {
        t.row(vec![
            "rental".into(),
            money(g.rental_usd),
            share(g.rental_usd),
            "the rate (power, facility and hardware inside it)".into(),
        ]);
        t.row(vec![
            "financing".into(),
            money(g.financing_usd),
            share(g.financing_usd),
            format!(
                "{} of a {}-year contract prepaid at {} a year",
                fmt::percent(v("prepaid_fraction")),
                fmt::num(v("contract_years")),
                fmt::percent(v("cost_of_capital"))
            ),
        ]);
    } else {
        t.row(vec![
            "capital".into(),
            money(g.capital_usd),
            share(g.capital_usd),
            format!(
                "{} per GPU over {} years, straight line",
                money(v("capital_usd_per_gpu")),
                fmt::num(v("amortization_years"))
            ),
        ]);
        t.row(vec![
            "financing".into(),
            money(g.financing_usd),
            share(g.financing_usd),
            format!(
                "interest at {} a year, level annuity",
                fmt::percent(v("cost_of_capital"))
            ),
        ]);
        t.row(vec![
            "power".into(),
            money(g.power_usd),
            share(g.power_usd),
            format!(
                "{} at the meter ({} TDP x {} system x {} draw x PUE {}) at {}/MWh",
                fmt::watts(g.power_w_at_meter.unwrap_or(f64::NAN)),
                fmt::watts(v("tdp_w")),
                fmt::num(v("server_power_over_tdp")),
                fmt::percent(
                    v("idle_power_fraction") + (1.0 - v("idle_power_fraction")) * r.utilization
                ),
                fmt::num(v("pue")),
                money(r.energy_usd_per_mwh)
            ),
        ]);
        t.row(vec![
            "facility".into(),
            money(g.facility_usd),
            share(g.facility_usd),
            format!(
                "{} IT provisioned at {}/kW-month",
                fmt::watts(v("tdp_w") * v("server_power_over_tdp")),
                money(v("facility_usd_per_kw_month"))
            ),
        ]);
    }
    t.row(vec![
        "total, held hour".into(),
        money(g.total_usd),
        String::new(),
        String::new(),
    ]);
    t.row(vec![
        "total, busy hour".into(),
        money(g.usd_per_busy_gpu_hour),
        String::new(),
        format!(
            "total / {} utilization: what token costs scale with",
            fmt::percent(r.utilization)
        ),
    ]);
    s.push_str(&t.render(0));
    let sc = &r.scale;
    s.push('\n');
    s.push_str(&format!(
        "per rack     {} GPUs: {}/hour{}\n",
        fmt::int(sc.gpus_per_rack),
        money(sc.usd_per_rack_hour),
        sc.rack_it_w
            .map(|w| format!(", {} IT at full draw", fmt::watts(w)))
            .unwrap_or_default()
    ));
    match (sc.gpus_per_mw, sc.usd_per_mw_year) {
        (Some(n), Some(y)) => s.push_str(&format!(
            "per MW       {} GPUs per MW at the meter (full draw): {} a year\n",
            fmt::num(n),
            money(y)
        )),
        _ => s.push_str("per MW       n/a: no TDP (set --cost tdp_w=W)\n"),
    }
    s.push_str("\ninputs\n");
    let mut t = Table::new(&[
        ("name", Align::Left),
        ("value", Align::Right),
        ("unit", Align::Left),
        ("source", Align::Left),
    ]);
    for i in &r.inputs {
        t.row(vec![
            i.name.to_string(),
            i.value.map_or("none".to_string(), fmt::num),
            i.unit.to_string(),
            i.source
                .as_deref()
                .map_or("no public figure".to_string(), short),
        ]);
    }
    s.push_str(&t.render(2));
    s.push_str("full sources: --json; formulas: docs/economics.md\n");
    s
}

/// A source cut to its first 70 characters for the table.
fn short(src: &str) -> String {
    let first = src.split(['(', ';']).next().unwrap_or(src).trim();
    if first.chars().count() > 70 {
        let cut: String = first.chars().take(67).collect();
        format!("{cut}...")
    } else {
        first.to_string()
    }
}
