//! Speed of the analytic pass: every layout of DeepSeek-V3 on one hardware entry (aggregated
//! and disaggregated, every precision the entry has a peak for, every batch on the grid), and
//! the simulated re-scoring of the best 20 under the default workload: DeepSeek-V3 on H200,
//! and `servemath search`'s defaults (Llama-3.1-70B on H100, no targets, ranked by cost) with
//! each candidate's sized window and with the workload's whole window. The figures go in
//! docs/search.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use servemath_cost::Calibration;
use servemath_hardware::Catalog;
use servemath_search::{
    rank, rescore, search, Candidate, HardwareOption, Objective, Restrict, SearchSpec, SimOptions,
    Slo, Traffic, Window,
};
use servemath_sim::workload::{Arrivals, LengthDist, Lengths, Limit, Synthetic};
use std::time::Duration;

fn spec(model: &str, hardware: &str, max_gpus: u32, slo: Slo) -> SearchSpec {
    let catalog = Catalog::builtin();
    let hw = catalog.get(hardware).expect("catalog entry");
    let params = Calibration::builtin().for_family(&hw.family);
    let cost = servemath_econ::cost_inputs_for(hw).ok();
    SearchSpec {
        model: servemath_model::builtin(model).expect("built-in model"),
        hardware: vec![HardwareOption::new(hw.clone(), None, params, cost)],
        input_tokens: 2000.0,
        output_tokens: 300.0,
        slo,
        max_gpus,
        disaggregation: true,
        restrict: Restrict::default(),
    }
}

const TARGETS: Slo = Slo {
    ttft_s: 2.0,
    tpot_s: 0.05,
};

const NONE: Slo = Slo {
    ttft_s: f64::INFINITY,
    tpot_s: f64::INFINITY,
};

/// The best 20 of `s` by `objective`.
fn top20(s: &SearchSpec, objective: Objective) -> Vec<Candidate> {
    let r = search(s).expect("search runs");
    rank(&r, &s.slo, objective)
        .into_iter()
        .take(20)
        .map(|i| r.candidates[i])
        .collect()
}

/// `servemath simulate`'s default workload: Poisson arrivals for 10 minutes, prompts
/// lognormal:2000,1.0, outputs lognormal:300,0.8 (the rate is rescaled per candidate).
fn default_traffic() -> Traffic {
    let lengths = Lengths::Independent {
        input: LengthDist::LogNormal {
            mean: 2000.0,
            sigma: 1.0,
        },
        output: LengthDist::LogNormal {
            mean: 300.0,
            sigma: 0.8,
        },
    };
    let s = Synthetic::new(
        Arrivals::Poisson { rate_per_s: 2.0 },
        lengths,
        0,
        Limit::duration_s(600.0),
    )
    .expect("valid workload");
    Traffic::Synthetic(Box::new(s))
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("search");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (hw, max_gpus) in [("h200", 64), ("gb200-nvl72", 72)] {
        let s = spec("deepseek-v3", hw, max_gpus, TARGETS);
        let r = search(&s).expect("search runs");
        eprintln!(
            "deepseek-v3 on {hw} (at most {max_gpus} GPUs): {:?}",
            r.counts
        );
        g.bench_function(format!("analytic/deepseek-v3 {hw}"), |b| {
            b.iter(|| black_box(search(black_box(&s)).expect("search runs")))
        });
    }
    let traffic = default_traffic();
    let sized = SimOptions::default();
    let whole = SimOptions {
        window: Window {
            measured_requests: u64::MAX,
            ..Window::default()
        },
        ..SimOptions::default()
    };
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let s = spec("deepseek-v3", "h200", 64, TARGETS);
    let top = top20(&s, Objective::TokensPerGpu);
    g.bench_function("rescore_top20/deepseek-v3 h200", |b| {
        b.iter(|| black_box(rescore(&s, &top, &traffic, &sized)))
    });
    // `servemath search` on its defaults.
    let s = spec("llama-3.1-70b", "h100-sxm", 64, NONE);
    let top = top20(&s, Objective::Cost);
    g.bench_function("rescore_top20/llama-3.1-70b h100-sxm", |b| {
        b.iter(|| black_box(rescore(&s, &top, &traffic, &sized)))
    });
    g.bench_function("rescore_top20/llama-3.1-70b h100-sxm whole window", |b| {
        b.iter(|| black_box(rescore(&s, &top, &traffic, &whole)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
