//! A GPU-hour's cost as the CLI prints it.

use super::{Align, Table};
use crate::human::{self, *};
use crate::*;

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
        human::percent(r.utilization)
    ));
    let mut t = Table::new(&[
        ("$/GPU-hour", Align::Left),
        ("", Align::Right),
        ("share", Align::Right),
        ("from", Align::Left),
    ]);
    let share = |x: f64| human::percent(x / g.total_usd);
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
                human::percent(v("prepaid_fraction")),
                human::num(v("contract_years")),
                human::percent(v("cost_of_capital"))
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
                human::num(v("amortization_years"))
            ),
        ]);
        t.row(vec![
            "financing".into(),
            money(g.financing_usd),
            share(g.financing_usd),
            format!(
                "interest at {} a year, level annuity",
                human::percent(v("cost_of_capital"))
            ),
        ]);
        t.row(vec![
            "power".into(),
            money(g.power_usd),
            share(g.power_usd),
            format!(
                "{} at the meter ({} TDP x {} system x {} draw x PUE {}) at {}/MWh",
                human::watts(g.power_w_at_meter.unwrap_or(f64::NAN)),
                human::watts(v("tdp_w")),
                human::num(v("server_power_over_tdp")),
                human::percent(
                    v("idle_power_fraction") + (1.0 - v("idle_power_fraction")) * r.utilization
                ),
                human::num(v("pue")),
                money(r.energy_usd_per_mwh)
            ),
        ]);
        t.row(vec![
            "facility".into(),
            money(g.facility_usd),
            share(g.facility_usd),
            format!(
                "{} IT provisioned at {}/kW-month",
                human::watts(v("tdp_w") * v("server_power_over_tdp")),
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
            human::percent(r.utilization)
        ),
    ]);
    s.push_str(&t.render(0));
    let sc = &r.scale;
    s.push('\n');
    s.push_str(&format!(
        "per rack     {} GPUs: {}/hour{}\n",
        human::int(sc.gpus_per_rack),
        money(sc.usd_per_rack_hour),
        sc.rack_it_w
            .map(|w| format!(", {} IT at full draw", human::watts(w)))
            .unwrap_or_default()
    ));
    match (sc.gpus_per_mw, sc.usd_per_mw_year) {
        (Some(n), Some(y)) => s.push_str(&format!(
            "per MW       {} GPUs per MW at the meter (full draw): {} a year\n",
            human::num(n),
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
            i.value.map_or("none".to_string(), human::num),
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
