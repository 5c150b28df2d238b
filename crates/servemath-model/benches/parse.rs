//! Reading a `config.json` into a `ModelSpec`: the cost of `servemath model PATH` before
//! printing, and of every request a server resolves from config text.
//!
//! `cargo bench -p servemath-model --bench parse`

use criterion::{criterion_group, criterion_main, Criterion};
use servemath_model::{builtin_models, parse_config};
use std::hint::black_box;

fn parse(c: &mut Criterion) {
    for name in [
        "llama-3.1-8b",
        "deepseek-v3",
        "kimi-k2.5",
        "qwen3.5-35b-a3b",
        "nemotron-3-nano",
        "deepseek-v4-flash",
    ] {
        let Some(m) = builtin_models().iter().find(|m| m.name == name) else {
            continue;
        };
        c.bench_function(&format!("parse {name}"), |b| {
            b.iter(|| parse_config(black_box(m.config_json), "bench"))
        });
    }
    c.bench_function("parse every built-in", |b| {
        b.iter(|| {
            builtin_models()
                .iter()
                .filter(|m| parse_config(black_box(m.config_json), m.name).is_ok())
                .count()
        })
    });
}

criterion_group!(benches, parse);
criterion_main!(benches);
