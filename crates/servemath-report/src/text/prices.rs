//! The price list and the cost model's ratios as the CLI prints them.

use super::{Align, Table};
use crate::human::{self, *};
use crate::*;

/// `200K`, `1M`, or the plain count.
fn threshold(t: f64) -> String {
    if t >= 1e6 && t % 1e6 == 0.0 {
        format!("{}M", t / 1e6)
    } else if t >= 1e3 && t % 1e3 == 0.0 {
        format!("{}K", t / 1e3)
    } else {
        human::int(t)
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
            format!("{}x", human::num(p.output_over_input)),
            p.cached_over_uncached
                .map_or("-".to_string(), human::percent),
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
        human::int(m.input_tokens as f64),
        human::int(m.output_tokens as f64),
        money(m.usd_per_gpu_hour),
        human::percent(m.utilization)
    ));
    s.push_str(&format!(
        "             input {} /Mtok, output {} /Mtok: output/input {}x; cached/uncached {}; KV crossover {}\n\n",
        money(m.input_usd_per_mtok),
        money(m.output_usd_per_mtok),
        human::num(m.output_over_input),
        human::percent(m.cached_over_uncached),
        m.kv_crossover_tokens
            .map_or("none below 100 M tokens".to_string(), |c| format!(
                "{} tokens",
                human::int(c)
            ))
    ));
    for line in &m.readings {
        s.push_str(&format!("- {line}\n"));
    }
    s.push_str("sources: --json or the price file; definitions: docs/economics.md\n");
    s
}
