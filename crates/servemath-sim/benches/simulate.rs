//! Simulator speed: simulated requests and steps per wall-second, leaping vs the reference.
//! Run with `cargo bench -p servemath-sim --bench simulate`; prints one line per scenario.

use servemath_cost::{Calibration, Deployment, Parallelism, Precisions};
use servemath_hardware::Catalog;
use servemath_sim::workload::Request;
use servemath_sim::{
    simulate, Policy, Pool, ReplicaSpec, Router, SchedulerConfig, SimConfig, Workload,
};
use std::sync::Arc;
use std::time::Instant;

fn deployment(model: &str, tp: u32) -> Arc<Deployment> {
    let model = servemath_model::builtin(model).expect("built-in model");
    let catalog = Catalog::builtin();
    let hw = catalog.get("h100-sxm").expect("catalog entry");
    let prec = Precisions::defaults_for(&model, |p| hw.peak_flop_per_s(p).is_ok());
    let params = Calibration::builtin().for_family(&hw.family);
    let par = Parallelism {
        tp,
        ..Parallelism::default()
    };
    Arc::new(Deployment::new(&model, hw, par, prec, params).expect("deployment"))
}

/// Poisson arrivals with exponential-ish lengths from a small LCG (no RNG crate needed here).
fn poisson(n: usize, rate: f64, input: f64, output: f64) -> impl Iterator<Item = Request> {
    let mut x: u64 = 42;
    let mut u = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut t = 0.0;
    (0..n).map(move |_| {
        t += -u().ln() / rate;
        Request {
            arrival_s: t,
            input_tokens: (-u().ln() * input).ceil() as u32,
            output_tokens: (-u().ln() * output).ceil() as u32,
            prefix: None,
        }
    })
}

fn run(label: &str, replicas: usize, policy: Policy, n: usize, rate: f64, leap: bool) {
    let dep = deployment("llama-3.1-8b", 1);
    let spec = ReplicaSpec {
        deployment: dep,
        scheduler: SchedulerConfig::vllm(policy),
        pool: Pool::Unified,
    };
    let cfg = SimConfig::new(vec![spec; replicas], Router::LeastOutstanding).leap(leap);
    let start = Instant::now();
    let r = simulate(
        cfg,
        Workload::Open(Box::new(poisson(n, rate, 1000.0, 250.0))),
    )
    .expect("a valid configuration");
    let wall = start.elapsed().as_secs_f64();
    println!(
        "{label:<52} {:>9} requests {:>11} steps in {wall:>7.3} s: {:>10.0} req/s, {:>11.0} steps/s (sim {:.0} s, util {:.0}%)",
        r.completed,
        r.steps,
        r.completed as f64 / wall,
        r.steps as f64 / wall,
        r.duration_s,
        r.utilization * 100.0
    );
}

fn main() {
    // cargo test --all-targets runs benches once in test mode: keep that quick.
    let quick = std::env::args().any(|a| a == "--test") || std::env::var_os("CI").is_some();
    let scale = if quick { 100 } else { 1 };
    // llama-3.1-8b on one H100, inputs ~1,000 and outputs ~250 tokens (exponential): about
    // 11 requests/s saturate a replica.
    for (rate, note) in [
        (6.0, "moderate load"),
        (9.0, "heavy load"),
        (12.0, "overloaded"),
    ] {
        run(
            &format!("(a) 1 replica, continuous, 100k requests, {rate} req/s ({note})"),
            1,
            Policy::Continuous,
            100_000 / scale,
            rate,
            true,
        );
    }
    run(
        "(a') same at 9 req/s, step-by-step reference",
        1,
        Policy::Continuous,
        100_000 / scale,
        9.0,
        false,
    );
    run(
        "(b) 64 replicas, chunked, 1M Poisson requests, 9 req/s each",
        64,
        Policy::Chunked,
        1_000_000 / scale,
        64.0 * 9.0,
        true,
    );
}
