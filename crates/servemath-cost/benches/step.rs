//! Speed of the cost model: one decode-step estimate, and a 10,000-point batch × context sweep.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use servemath_cost::{Calibration, Deployment, Parallelism, Precisions, StepLoad};
use servemath_hardware::Catalog;

fn deployment(model: &str, par: Parallelism) -> Deployment {
    let model = servemath_model::builtin(model).expect("built-in model");
    let catalog = Catalog::builtin();
    let hw = catalog.get("h100-sxm").expect("catalog entry");
    let prec = Precisions::defaults_for(&model, |p| hw.peak_flop_per_s(p).is_ok());
    let params = Calibration::builtin().for_family(&hw.family);
    Deployment::new(&model, hw, par, prec, params).expect("valid deployment")
}

fn bench(c: &mut Criterion) {
    let dense = deployment(
        "llama-3.1-70b",
        Parallelism {
            tp: 4,
            ..Parallelism::default()
        },
    );
    let moe = deployment(
        "deepseek-v3",
        Parallelism {
            tp: 1,
            dp_attn: 8,
            ep: 8,
            pp: 2,
            redundant_experts: 0,
            two_batch_overlap: false,
        },
    );
    c.bench_function("decode_step/llama-3.1-70b tp4", |b| {
        b.iter(|| dense.step(black_box(&StepLoad::decode(64.0, 2048.0))))
    });
    c.bench_function("decode_step/deepseek-v3 dp8 ep8 pp2", |b| {
        b.iter(|| moe.step(black_box(&StepLoad::decode(256.0, 2048.0))))
    });
    c.bench_function("sweep_10k/llama-3.1-70b batch x context", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for i in 0..100 {
                for j in 0..100 {
                    let batch = 1.0 + i as f64 * 10.0;
                    let ctx = 128.0 * (j + 1) as f64;
                    acc += dense.step(&StepLoad::decode(batch, ctx)).time_s;
                }
            }
            black_box(acc)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
