//! The human view of a search: what was searched, the top configurations with why each sits
//! where it does, the best per machine, and the Pareto front.

use super::{Align, Table};
use crate::human as fmt;
use crate::human::{layout, money};
use crate::{SearchReport, SearchRestrict, SearchRow, SearchSlo};

/// `TTFT ≤ 2.00 s and TPOT ≤ 50.0 ms`, or `no latency targets`.
pub fn targets(slo: &SearchSlo) -> String {
    let mut parts = Vec::new();
    if let Some(t) = slo.ttft_s {
        parts.push(format!("TTFT ≤ {}", fmt::seconds(t)));
    }
    let tpot = match (slo.tpot_s, slo.min_tokens_per_s_per_user) {
        (Some(t), Some(x)) => Some(t.min(1.0 / x)),
        (t, x) => t.or(x.map(|x| 1.0 / x)),
    };
    if let Some(t) = tpot {
        parts.push(format!("TPOT ≤ {}", fmt::seconds(t)));
    }
    if parts.is_empty() {
        "no latency targets".to_string()
    } else {
        parts.join(" and ")
    }
}

/// The unit: `TP4`, `DP-attn8 · EP8 · PP2`, or `1P2D: TP8 → TP4` (prefill → decode).
pub fn unit(r: &SearchRow) -> String {
    match (&r.prefill_layout, r.prefill_replicas, r.decode_replicas) {
        (Some(p), Some(x), Some(y)) => {
            format!("{x}P{y}D: {} → {}", layout(p), layout(&r.layout))
        }
        _ => layout(&r.layout),
    }
}

fn usd(v: Option<f64>) -> String {
    v.map_or("-".to_string(), money)
}

/// `256`, or `348 (TPOT)` when the batch is the largest within a target or memory.
fn batch(r: &SearchRow) -> String {
    let limit = match r.batch_limit {
        servemath_search::BatchLimit::Grid => "",
        servemath_search::BatchLimit::Memory => " mem",
        servemath_search::BatchLimit::Tpot => " tpot",
        servemath_search::BatchLimit::Ttft => " ttft",
    };
    format!("{}{limit}", fmt::int(f64::from(r.batch)))
}

fn header(r: &SearchReport) -> String {
    let mut s = String::new();
    let mut line = |label: &str, value: String| s.push_str(&format!("{label:<12}{value}\n"));
    line(
        "model",
        format!(
            "{} ({}): {} params, {} active",
            r.model.name,
            r.model.model_type,
            fmt::count(r.model.total_params as f64),
            fmt::count(r.model.active_params as f64)
        ),
    );
    for h in &r.hardware {
        let price = match (h.usd_per_gpu_hour, h.cost_mode) {
            (Some(p), Some(m)) => format!("{}/GPU-hour {m}", money(p)),
            _ => "no price".to_string(),
        };
        line(
            "hardware",
            format!(
                "{}: {}; scale-up domain of {} GPUs; {price}",
                h.label, h.name, h.scale_up_domain
            ),
        );
    }
    line(
        "requests",
        format!(
            "{} input + {} output tokens (the workload's means); {}",
            fmt::int(r.input_tokens),
            fmt::int(r.output_tokens),
            targets(&r.slo)
        ),
    );
    let c = &r.counts;
    line(
        "searched",
        format!(
            "{} layouts x formats up to {} GPUs ({} fit){}; {} configurations, {} meet the targets",
            fmt::int(c.layouts as f64),
            r.max_gpus,
            fmt::int(c.fit as f64),
            if r.disaggregation {
                format!(
                    ", {} xPyD combinations",
                    fmt::int(c.disaggregated_combinations as f64)
                )
            } else {
                String::new()
            },
            fmt::int(c.candidates as f64),
            fmt::int(c.meeting as f64)
        ),
    );
    if let Some(held) = restrictions(&r.restrict) {
        line("held to", held);
    }
    if let Some(sim) = &r.simulation {
        line(
            "simulated",
            format!(
                "the top {} at {} of each one's capacity: {}",
                sim.candidates,
                fmt::percent(sim.load),
                fmt::workload(&sim.workload)
            ),
        );
        if sim.sized > 0 {
            line(
                "window",
                format!(
                    "{} a stretch of it: a warm-up, then at least {} requests over at least 4 end-to-end latencies measured (p50, p99), then a cool-down (--sim-requests)",
                    if sim.sized == sim.candidates {
                        "each".to_string()
                    } else {
                        format!("{} of the {}", sim.sized, sim.candidates)
                    },
                    fmt::int(sim.measured_requests as f64)
                ),
            );
        }
    }
    let by = match r.objective {
        "cost" => "$ per million output tokens",
        _ => "output tokens/s per GPU",
    };
    let how = if r.simulation.is_some() {
        "simulated; those meeting the targets at p99 first"
    } else {
        "cost model"
    };
    line("ranked by", format!("{by} ({how})"));
    s
}

fn top_table(r: &SearchReport) -> String {
    let mut t = Table::new(&[
        ("#", Align::Right),
        ("hardware", Align::Left),
        ("unit", Align::Left),
        ("GPUs", Align::Right),
        ("w/kv", Align::Left),
        ("batch", Align::Right),
        ("TTFT", Align::Right),
        ("TPOT", Align::Right),
        ("tok/s/user", Align::Right),
        ("tok/s/GPU", Align::Right),
        ("$/Mtok", Align::Right),
        ("p99 TTFT", Align::Right),
        ("p99 TPOT", Align::Right),
        ("SLO", Align::Left),
    ]);
    for row in &r.top {
        let a = &row.analytic;
        let (p99_ttft, p99_tpot, per_gpu, usd_m, ok) = match &row.simulated {
            Some(s) => (
                fmt::seconds(s.ttft_p99_s),
                fmt::seconds(s.tpot_p99_s),
                s.output_tokens_per_s_per_gpu,
                s.usd_per_m_output_tokens,
                if s.overloaded {
                    "overload"
                } else if s.meets_slo {
                    "yes"
                } else {
                    "no"
                },
            ),
            None => (
                "-".to_string(),
                "-".to_string(),
                a.output_tokens_per_s_per_gpu,
                a.usd_per_m_output_tokens,
                if a.meets_slo { "yes" } else { "no" },
            ),
        };
        t.row(vec![
            row.rank.map_or(String::new(), |k| k.to_string()),
            row.hardware.clone(),
            unit(row),
            row.gpus.to_string(),
            format!("{}/{}", row.weights, row.kv),
            batch(row),
            fmt::seconds(a.ttft_s),
            fmt::seconds(a.tpot_s),
            fmt::num(a.tokens_per_s_per_user),
            fmt::num(per_gpu),
            usd(usd_m),
            p99_ttft,
            p99_tpot,
            ok.to_string(),
        ]);
    }
    t.render(0)
}

fn front_table(rows: &[SearchRow]) -> String {
    let mut t = Table::new(&[
        ("hardware", Align::Left),
        ("unit", Align::Left),
        ("GPUs", Align::Right),
        ("w/kv", Align::Left),
        ("batch", Align::Right),
        ("tok/s/user", Align::Right),
        ("tok/s/GPU", Align::Right),
        ("$/Mtok", Align::Right),
        ("TTFT", Align::Right),
        ("TPOT", Align::Right),
        ("bound", Align::Left),
        ("HBM", Align::Right),
        ("comm", Align::Right),
    ]);
    for row in rows {
        let a = &row.analytic;
        t.row(vec![
            row.hardware.clone(),
            unit(row),
            row.gpus.to_string(),
            format!("{}/{}", row.weights, row.kv),
            batch(row),
            fmt::num(a.tokens_per_s_per_user),
            fmt::num(a.output_tokens_per_s_per_gpu),
            usd(a.usd_per_m_output_tokens),
            fmt::seconds(a.ttft_s),
            fmt::seconds(a.tpot_s),
            row.why.bound.to_string(),
            fmt::percent(row.why.memory_fraction),
            fmt::percent(row.why.comm_share),
        ]);
    }
    t.render(0)
}

/// The whole report as text.
pub fn render(r: &SearchReport, front_cost: bool) -> String {
    let mut s = header(r);
    s.push_str("\nTop configurations (TTFT, TPOT, tok/s/user: cost model; tok/s/GPU, $/Mtok, p99s: simulated where run)\n");
    s.push_str(&top_table(r));
    s.push_str("why:\n");
    for row in &r.top {
        s.push_str(&format!(
            "{:>3}  {}\n",
            row.rank.map_or(String::new(), |k| k.to_string()),
            row.why.text
        ));
    }
    if r.hardware.len() > 1 {
        s.push_str("\nBest per machine (cost model)\n");
        s.push_str(&front_table(&r.best_per_hardware));
    }
    if front_cost {
        s.push_str("\nPareto front: tokens/s per user against $ per million output tokens, all machines (cost model, batch grid, meeting the targets)\n");
        s.push_str(&front_table(&r.pareto_cost));
    } else {
        s.push_str("\nPareto front per machine: tokens/s per user against output tokens/s per GPU (cost model, batch grid, meeting the targets)\n");
        s.push_str(&front_table(&r.pareto));
    }
    s.push_str("batch: `mem` the largest that fits, `tpot`/`ttft` the largest within that target; HBM: used of usable on the busiest GPU; comm: exposed communication share of the step. Definitions: docs/search.md\n");
    s
}

/// `weights bf16; kv bf16,fp8; tp 8`: the restrictions as their flags spell them, or `None`.
pub fn restrictions(r: &SearchRestrict) -> Option<String> {
    let mut parts = Vec::new();
    for (flag, formats) in [("--weights", &r.weights), ("--kv", &r.kv)] {
        if !formats.is_empty() {
            parts.push(format!("{flag} {}", formats.join(",")));
        }
    }
    for (flag, degrees) in [("--tp", &r.tp), ("--pp", &r.pp), ("--ep", &r.ep)] {
        if !degrees.is_empty() {
            let d: Vec<String> = degrees.iter().map(u32::to_string).collect();
            parts.push(format!("{flag} {}", d.join(",")));
        }
    }
    if let Some(tbo) = r.tbo {
        parts.push(format!("--tbo {}", if tbo { "on" } else { "off" }));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}
