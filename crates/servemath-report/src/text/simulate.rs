//! The human table of `simulate`, rendered from the same report `--json` prints.

use super::{Align, Table};
use crate::human as fmt;
use crate::human::{layout, workload};
use crate::{
    PercentilesReport as Percentiles, PolicyReport as Policy, PoolReport, PoolRole as Pool,
    RouterReport as Router, SimulateReport,
};

/// The simulation as the CLI prints it: pools, scheduler, workload, requests, latency
/// percentiles, throughput, goodput, KV and cost.
pub fn render(r: &SimulateReport) -> String {
    let mut s = String::new();
    let mut line = |label: &str, value: String| {
        s.push_str(&format!("{label:<13}{value}\n"));
    };
    for p in &r.pools {
        let label = match p.role {
            Pool::Unified => "fleet",
            Pool::Prefill => "prefill pool",
            Pool::Decode => "decode pool",
        };
        line(label, pool(p));
    }
    if let Some(p) = r.pools.first() {
        line("scheduler", scheduler(p, r.router, r.pools.len() > 1));
    }
    if let Some(k) = &r.kv_transfer {
        line(
            "KV transfer",
            format!(
                "{} at {} per sequence, {} latency",
                k.link.replace('_', "-"),
                fmt::bytes_per_s(k.bytes_per_s),
                fmt::seconds(k.latency_s)
            ),
        );
    }
    line("workload", workload(&r.workload));
    if let Some(slo) = &r.slo {
        let mut parts = Vec::new();
        if let Some(t) = slo.ttft_s {
            parts.push(format!("TTFT ≤ {}", fmt::seconds(t)));
        }
        if let Some(t) = slo.tpot_s {
            parts.push(format!("TPOT ≤ {}", fmt::seconds(t)));
        }
        line("SLO", parts.join(", "));
    }
    line(
        "simulated",
        format!(
            "{} of serving in {} steps ({} engine)",
            fmt::seconds(r.duration_s),
            fmt::int(r.steps as f64),
            if r.engine == "leap" {
                "event-leaping"
            } else {
                "step-by-step reference"
            }
        ),
    );
    s.push('\n');

    let q = &r.requests;
    let mut line = |label: &str, value: String| {
        s.push_str(&format!("{label:<13}{value}\n"));
    };
    line(
        "requests",
        format!(
            "{} arrived: {} completed, {} running, {} queued{}{}",
            fmt::int(q.arrived as f64),
            fmt::int(q.completed as f64),
            fmt::int(q.running as f64),
            fmt::int(q.queued as f64),
            if q.rejected > 0 {
                format!(
                    ", {} rejected (longer than one replica's KV cache or the model's context can ever hold)",
                    fmt::int(q.rejected as f64)
                )
            } else {
                String::new()
            },
            if q.dropped > 0 {
                format!(
                    ", {} dropped (their replica's queue was full: overload)",
                    fmt::int(q.dropped as f64)
                )
            } else {
                String::new()
            }
        ),
    );
    s.push('\n');
    s.push_str(&latency_table(r));
    s.push('\n');

    let t = &r.throughput;
    let mut line = |label: &str, value: String| {
        s.push_str(&format!("{label:<13}{value}\n"));
    };
    line(
        "throughput",
        format!(
            "{} req/s; input {} ({} per GPU), output {} ({} per GPU)",
            fmt::num(t.requests_per_s),
            fmt::tok_per_s(t.input_tokens_per_s),
            fmt::num(t.input_tokens_per_s_per_gpu),
            fmt::tok_per_s(t.output_tokens_per_s),
            fmt::num(t.output_tokens_per_s_per_gpu)
        ),
    );
    if let (Some(g), Some(f)) = (t.goodput_requests_per_s, t.goodput_fraction) {
        line(
            "goodput",
            format!(
                "{} req/s meet the SLO ({} of completed requests)",
                fmt::num(g),
                fmt::percent(f)
            ),
        );
    }
    line(
        "utilization",
        format!(
            "{} busy; MFU {}, MBU {}",
            fmt::percent(r.utilization),
            fmt::percent(r.mfu),
            fmt::percent(r.mbu)
        ),
    );
    if let Some(c) = &r.cost {
        // Without tokens served there is no price per token: `-`, never `$NaN`.
        let usd = |x: f64| {
            if x.is_finite() {
                format!("${x:.3}")
            } else {
                "-".to_string()
            }
        };
        let ratio = if c.output_over_input.is_finite() {
            format!("{:.1}x", c.output_over_input)
        } else {
            "-".to_string()
        };
        line(
            "cost",
            format!(
                "${:.2}/GPU-hour (`servemath cost`): {}/Mtok in, {}/Mtok out ({ratio}), {}/Mtok blended; {} of busy time is prefill",
                c.usd_per_gpu_hour,
                usd(c.input_usd_per_mtok),
                usd(c.output_usd_per_mtok),
                usd(c.blended_usd_per_mtok),
                if c.prefill_time_share.is_finite() {
                    fmt::percent(c.prefill_time_share)
                } else {
                    "-".to_string()
                }
            ),
        );
    }
    let prefix =
        r.kv.prefix_hit_rate
            .map(|h| format!("; prefix-cache hits {} of prompt tokens", fmt::percent(h)))
            .unwrap_or_default();
    line(
        "KV cache",
        format!(
            "peak {}, mean {} of blocks{prefix}",
            fmt::percent(r.kv.peak_fraction),
            fmt::percent(r.kv.mean_fraction)
        ),
    );
    line("preemptions", fmt::int(r.preemptions as f64));
    if r.pools
        .iter()
        .any(|p| matches!(p.scheduler.policy, Policy::Train { .. }))
    {
        line(
            "overruns",
            format!(
                "{} train steps outlasted the period",
                fmt::int(r.train_overruns as f64)
            ),
        );
    }
    if r.overloaded {
        s.push_str(
            "OVERLOADED: requests were still piling up when the last one arrived; the offered \
             load is beyond capacity and latency grows with the length of the run\n",
        );
    }
    s.push_str("every figure is defined in docs/metrics.md\n");
    s
}

/// `8 × llama-3.1-70b on h100-sxm (TP4, 4 GPUs each) = 32 GPUs`.
fn pool(p: &PoolReport) -> String {
    let gpus = u64::from(p.replicas) * u64::from(p.layout.gpus);
    format!(
        "{} × {} on {} ({}, {} GPU{} each) = {} GPU{}",
        p.replicas,
        p.model.name,
        p.hardware.id,
        layout(&p.layout),
        p.layout.gpus,
        plural(u64::from(p.layout.gpus)),
        fmt::int(gpus as f64),
        plural(gpus)
    )
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn scheduler(p: &PoolReport, router: Router, disaggregated: bool) -> String {
    let c = &p.scheduler;
    let policy = match c.policy {
        Policy::Static { batch, timeout_s } => format!(
            "static batches of {batch} (or what arrived {} after the first)",
            fmt::seconds(timeout_s)
        ),
        Policy::Continuous => "continuous batching".to_string(),
        Policy::Chunked if disaggregated => {
            "disaggregated: prefill pool hands KV caches to the decode pool; chunked prefill"
                .to_string()
        }
        Policy::Chunked => "chunked prefill".to_string(),
        Policy::Train { period_s } => format!("a train departs every {}", fmt::seconds(period_s)),
    };
    let router = match router {
        Router::RoundRobin => "round-robin",
        Router::LeastOutstanding => "least-outstanding",
        Router::LeastKv => "least-KV",
        Router::PrefixAffinity => "prefix-affinity",
    };
    format!(
        "{policy}; at most {} sequences and {} tokens per step, {}-token KV blocks; {router} router",
        fmt::int(f64::from(c.max_seqs)),
        fmt::int(f64::from(c.max_batched_tokens)),
        c.block_tokens
    )
}

fn latency_table(r: &SimulateReport) -> String {
    let mut t = Table::new(&[
        ("latency", Align::Left),
        ("mean", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("max", Align::Right),
    ]);
    let l = &r.latency;
    for (name, p) in [
        ("queue", &l.queue_s),
        ("TTFT", &l.ttft_s),
        ("TPOT", &l.tpot_s),
        ("ITL", &l.itl_s),
        ("e2e", &l.e2e_s),
    ] {
        t.row(row(name, p));
    }
    t.render(0)
}

fn row(name: &str, p: &Percentiles) -> Vec<String> {
    let mut cells = vec![name.to_string()];
    // An empty sample (no request finished, or none with two output tokens for TPOT) has no
    // percentiles: `-`, never `0 s`.
    cells.extend([p.mean, p.p50, p.p90, p.p99, p.max].map(|x| {
        if x.is_finite() {
            fmt::seconds(x)
        } else {
            "-".to_string()
        }
    }));
    cells
}
