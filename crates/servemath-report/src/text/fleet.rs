//! The fleet sizing as the CLI prints it.

use super::{Align, Table};
use crate::human::{self, *};
use crate::*;

/// The latency targets in words: `p99 TTFT ≤ 2.00 s, p99 TPOT ≤ 50.0 ms`.
pub fn targets(r: &FleetReport) -> String {
    let mut t = Vec::new();
    if let Some(s) = r.slo.ttft_s {
        t.push(format!("p99 TTFT ≤ {}", human::seconds(s)));
    }
    if let Some(s) = r.slo.tpot_s {
        t.push(format!("p99 TPOT ≤ {}", human::seconds(s)));
    }
    if t.is_empty() {
        "keeping up (no latency targets given)".to_string()
    } else {
        t.join(", ")
    }
}

fn mw(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |mw| human::watts(mw * 1e6))
}

fn usd(v: Option<f64>) -> String {
    v.map_or("-".to_string(), money)
}

/// `1 rack`, `3 racks`.
fn plural(n: u32, what: &str) -> String {
    format!(
        "{} {what}{}",
        human::int(f64::from(n)),
        if n == 1 { "" } else { "s" }
    )
}

fn trial_line(t: &TrialReport) -> String {
    format!(
        "p99 TTFT {}, p99 TPOT {}{}",
        human::seconds(t.ttft_p99_s),
        human::seconds(t.tpot_p99_s),
        if t.overloaded { ", overloaded" } else { "" }
    )
}

/// The table view of a feasible fleet.
pub fn render(r: &FleetReport) -> String {
    let mut s = String::new();
    let mut line = |label: &str, value: String| s.push_str(&format!("{label:<13}{value}\n"));
    line(
        "replica",
        format!(
            "{} on {}, {} ({} GPU{}); weights {}, KV {}; up to {} sequences, {}-token steps",
            r.model,
            r.hardware,
            layout(&r.layout),
            r.layout.gpus,
            if r.layout.gpus == 1 { "" } else { "s" },
            r.weights,
            r.kv,
            human::int(f64::from(r.max_seqs)),
            human::int(f64::from(r.max_batched_tokens))
        ),
    );
    let d = &r.demand;
    line(
        "demand",
        format!(
            "{} = {} requests/day of {} + {} tokens; {} profile, peak {}x the mean at {:02}:00: {} req/s",
            d.given,
            human::int(d.requests_per_day),
            human::int(r.workload.mean_input_tokens),
            human::int(r.workload.mean_output_tokens),
            d.profile,
            human::num(d.peak_rate_per_s / d.mean_rate_per_s),
            d.peak_hour,
            human::num(d.peak_rate_per_s)
        ),
    );
    line(
        "targets",
        format!(
            "{} at the peak, simulated: {}",
            targets(r),
            human::workload(&r.workload)
        ),
    );
    line(
        "capacity",
        format!(
            "{} req/s per replica at batch {}, the largest within the targets (cost model, steady state)",
            human::num(r.capacity_per_replica_per_s),
            human::int(f64::from(r.slo_batch))
        ),
    );
    if let Some(f) = &r.fleet {
        s.push('\n');
        let mut line = |label: &str, value: String| s.push_str(&format!("{label:<13}{value}\n"));
        line(
            "fleet",
            format!(
                "{} = {} in {}{}",
                plural(f.replicas, "replica"),
                plural(f.gpus, "GPU"),
                plural(f.scale_up_domains, "scale-up domain"),
                f.racks
                    .map(|k| format!(", {}", plural(k, "rack")))
                    .unwrap_or_default()
            ),
        );
        line("at the peak", trial_line(&f.peak));
        if let Some(o) = &r.one_fewer {
            line(
                "one fewer",
                format!("{} replicas: {} (misses)", o.replicas, trial_line(o)),
            );
        }
        line(
            "utilization",
            format!(
                "{} at the peak, {} on average (of the cost model's capacity)",
                human::percent(f.peak_utilization),
                human::percent(f.mean_utilization)
            ),
        );
        line(
            "power",
            format!(
                "{} at the meter on average, {} provisioned",
                mw(f.mw_at_meter),
                mw(f.mw_provisioned)
            ),
        );
        line(
            "cost",
            format!(
                "{} a year at {}/GPU-hour: {} per million tokens, {} per million output tokens",
                usd(f.usd_per_year),
                usd(f.usd_per_gpu_hour),
                usd(f.usd_per_m_tokens),
                usd(f.usd_per_m_output_tokens)
            ),
        );
    }
    s.push_str(
        "\nThe price of slack: the same peak on fleets sized for a target peak utilization\n",
    );
    let mut t = Table::new(&[
        ("target", Align::Right),
        ("replicas", Align::Right),
        ("GPUs", Align::Right),
        ("p99 TTFT", Align::Right),
        ("p99 TPOT", Align::Right),
        ("meets", Align::Left),
        ("$/year", Align::Right),
        ("$/Mtok", Align::Right),
        ("power", Align::Right),
    ]);
    for row in &r.slack {
        let f = &row.fleet;
        t.row(vec![
            human::percent(row.target_utilization),
            human::int(f64::from(f.replicas)),
            human::int(f64::from(f.gpus)),
            human::seconds(f.peak.ttft_p99_s),
            human::seconds(f.peak.tpot_p99_s),
            if f.peak.overloaded {
                "overload"
            } else if f.peak.meets_slo {
                "yes"
            } else {
                "no"
            }
            .to_string(),
            usd(f.usd_per_year),
            usd(f.usd_per_m_tokens),
            mw(f.mw_at_meter),
        ]);
    }
    s.push_str(&t.render(0));
    s.push_str("$/Mtok: the yearly cost over the year's prompt plus output tokens. Definitions: docs/search.md\n");
    s
}
