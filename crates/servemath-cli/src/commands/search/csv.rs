//! `search --csv`: one row per configuration of the top list and of the fronts, with a `set`
//! column saying which, in SI units.

use anyhow::Context;
use servemath_report::text::search::unit;
use servemath_report::{SearchReport, SearchRow};
use std::path::Path;

const HEADER: &str = "set,rank,hardware,scale_up_domain,mode,unit,gpus,weights,kv,compute,batch,batch_limit,max_batched_tokens,ttft_s,tpot_s,tokens_per_s_per_user,output_tokens_per_s_per_gpu,requests_per_s,usd_per_m_output_tokens,meets_slo,sim_ttft_p50_s,sim_ttft_p99_s,sim_tpot_p50_s,sim_tpot_p99_s,sim_output_tokens_per_s_per_gpu,sim_usd_per_m_output_tokens,sim_overloaded,sim_meets_slo,bound,comm_share,mfu,mbu,weight_fraction,kv_fraction,memory_fraction,why";

/// A field quoted when it holds a comma, quote or newline.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

fn line(set: &str, r: &SearchRow) -> String {
    let a = &r.analytic;
    let s = r.simulated.as_ref();
    let w = &r.why;
    [
        set.to_string(),
        r.rank.map_or(String::new(), |k| k.to_string()),
        field(&r.hardware),
        r.scale_up_domain.to_string(),
        r.mode.to_string(),
        field(&unit(r)),
        r.gpus.to_string(),
        r.weights.to_string(),
        r.kv.to_string(),
        r.compute.to_string(),
        r.batch.to_string(),
        r.batch_limit.name().to_string(),
        r.max_batched_tokens.to_string(),
        a.ttft_s.to_string(),
        a.tpot_s.to_string(),
        a.tokens_per_s_per_user.to_string(),
        a.output_tokens_per_s_per_gpu.to_string(),
        a.requests_per_s.to_string(),
        opt(a.usd_per_m_output_tokens),
        a.meets_slo.to_string(),
        opt(s.map(|s| s.ttft_p50_s)),
        opt(s.map(|s| s.ttft_p99_s)),
        opt(s.map(|s| s.tpot_p50_s)),
        opt(s.map(|s| s.tpot_p99_s)),
        opt(s.map(|s| s.output_tokens_per_s_per_gpu)),
        opt(s.and_then(|s| s.usd_per_m_output_tokens)),
        s.map_or(String::new(), |s| s.overloaded.to_string()),
        s.map_or(String::new(), |s| s.meets_slo.to_string()),
        w.bound.to_string(),
        w.comm_share.to_string(),
        w.mfu.to_string(),
        w.mbu.to_string(),
        w.weight_fraction.to_string(),
        w.kv_fraction.to_string(),
        w.memory_fraction.to_string(),
        field(&w.text),
    ]
    .join(",")
}

/// Writes the top list, the per-machine fronts and the cost front to `path`.
pub fn write(path: &Path, r: &SearchReport) -> anyhow::Result<()> {
    let mut text = String::from(HEADER);
    text.push('\n');
    for (set, rows) in [
        ("top", &r.top),
        ("pareto", &r.pareto),
        ("pareto_cost", &r.pareto_cost),
    ] {
        for row in rows {
            text.push_str(&line(set, row));
            text.push('\n');
        }
    }
    std::fs::write(path, text).with_context(|| format!("--csv: cannot write `{}`", path.display()))
}
