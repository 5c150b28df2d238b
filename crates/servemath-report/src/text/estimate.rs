//! The estimate as the CLI prints it: the header lines, the per-batch table and the kernel-class
//! breakdown (`--explain`).

use super::{Align, Table};
use crate::human::{self, *};
use crate::*;

/// The kernel-class breakdown of every batch's steps, and the rates behind them.
pub fn render_explain(r: &EstimateReport) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "\nkernel rates on {} ({} confidence):\n",
        r.hardware.id, r.hardware.confidence
    ));
    let mut t = Table::new(&[
        ("class", Align::Left),
        ("curve", Align::Left),
        ("compute eff", Align::Right),
        ("memory eff", Align::Right),
        ("launch", Align::Right),
        ("source", Align::Left),
    ]);
    for k in &r.hardware.kernel_rates {
        t.row(vec![
            k.class.to_string(),
            k.curve.clone(),
            if k.compute_efficiency > 0.0 {
                human::percent(k.compute_efficiency)
            } else {
                "-".to_string()
            },
            if k.memory_efficiency > 0.0 {
                human::percent(k.memory_efficiency)
            } else {
                "-".to_string()
            },
            human::seconds(k.launch_s),
            k.source.clone(),
        ]);
    }
    s.push_str(&t.render(0));
    for b in &r.batches {
        for (step, st) in [("prefill", &b.prefill), ("decode", &b.decode)] {
            s.push_str(&format!(
                "\nbatch {} {step} step: {} (GPU {}, host {}), bound {}\n",
                human::int(b.batch as f64),
                human::seconds(st.time_s),
                human::seconds(st.gpu_s),
                human::seconds(st.host_s),
                st.bound
            ));
            let mut t = Table::new(&[
                ("class", Align::Left),
                ("time", Align::Right),
                ("share", Align::Right),
                ("compute", Align::Right),
                ("memory", Align::Right),
                ("launch", Align::Right),
                ("limit", Align::Left),
            ]);
            for k in st.kernels.iter().filter(|k| k.time_s > 0.0) {
                t.row(vec![
                    k.class.to_string(),
                    human::seconds(k.time_s),
                    human::percent(k.time_s / st.time_s),
                    human::seconds(k.compute_s),
                    human::seconds(k.memory_s),
                    human::seconds(k.launch_s),
                    k.limit.to_string(),
                ]);
            }
            s.push_str(&t.render(2));
        }
    }
    s
}

/// The header lines and the per-batch table.
pub fn render(r: &EstimateReport) -> String {
    let mut s = String::new();
    let mut line = |label: &str, value: String| {
        s.push_str(&format!("{label:<12}{value}\n"));
    };
    line(
        "model",
        format!(
            "{} ({}): {} params, {} active, {} weights",
            r.model.name,
            r.model.model_type,
            human::count(r.model.total_params as f64),
            human::count(r.model.active_params as f64),
            human::bytes(r.model.weight_bytes)
        ),
    );
    line(
        "hardware",
        format!(
            "{}: {}; {} {} dense, {} HBM at {}; kernel efficiencies {}",
            r.hardware.id,
            r.hardware.name,
            human::flop_per_s(r.hardware.peak_flop_per_s),
            r.precisions.compute,
            human::bytes(r.hardware.hbm_bytes),
            human::bytes_per_s(r.hardware.hbm_bytes_per_s),
            r.hardware.confidence
        ),
    );
    line(
        "layout",
        format!(
            "{} = {} GPU{} per replica; {} of weights per GPU",
            layout(&r.layout),
            r.layout.gpus,
            if r.layout.gpus == 1 { "" } else { "s" },
            human::bytes(r.weight_bytes_per_gpu)
        ),
    );
    line(
        "precisions",
        format!(
            "weights {}, KV {}, compute {}, activations {}",
            human::precisions(&r.precisions.weights),
            r.precisions.kv,
            r.precisions.compute,
            r.precisions.activations
        ),
    );
    line(
        "requests",
        format!(
            "{} input + {} output tokens (context {})",
            human::int(r.input_tokens as f64),
            human::int(r.output_tokens as f64),
            human::int(r.context_tokens as f64)
        ),
    );
    line(
        "floor",
        format!(
            "{} per step: reading the weights a one-token step touches; no batch is faster",
            human::seconds(r.floor_s)
        ),
    );
    line(
        "B*",
        match r.balance_batch {
            Some(b) => format!(
                "{}: decode batch where matmul time equals weight-read time",
                human::num(b)
            ),
            None => "never reached: weight reads outlast compute at every batch".to_string(),
        },
    );
    line(
        "max batch",
        format!(
            "{} at context {} ({} of KV cache per sequence per GPU)",
            human::int(r.max_batch as f64),
            human::int(r.context_tokens as f64),
            human::bytes(r.kv_bytes_per_seq_per_gpu)
        ),
    );
    if let Some(c) = &r.token_cost {
        line(
            "$/GPU-hour",
            format!(
                "{} ({}, `servemath cost`) at {} utilization; $/Mtok in = prefill, out = decode",
                money(c.usd_per_gpu_hour),
                c.mode,
                human::percent(c.utilization)
            ),
        );
    }
    s.push('\n');

    let mut t = Table::new(&[
        ("batch", Align::Right),
        ("TTFT", Align::Right),
        ("TPOT", Align::Right),
        ("tok/s/user", Align::Right),
        ("tok/s/GPU", Align::Right),
        ("e2e", Align::Right),
        ("bound", Align::Left),
        ("MFU", Align::Right),
        ("MBU", Align::Right),
        ("KV/GPU", Align::Right),
        ("$/Mtok in", Align::Right),
        ("$/Mtok out", Align::Right),
        ("out/in", Align::Right),
        ("fits", Align::Left),
    ]);
    for b in &r.batches {
        t.row(vec![
            human::int(b.batch as f64),
            human::seconds(b.ttft_s),
            human::seconds(b.tpot_s),
            human::num(b.tokens_per_s_per_user),
            human::num(b.output_tokens_per_s_per_gpu),
            human::seconds(b.e2e_s),
            b.bound.to_string(),
            human::percent(b.mfu),
            human::percent(b.mbu),
            human::bytes(b.kv_bytes_per_gpu),
            b.usd_per_mtok
                .map_or("-".to_string(), |c| money(c.input_usd_per_mtok)),
            b.usd_per_mtok
                .map_or("-".to_string(), |c| money(c.output_usd_per_mtok)),
            b.usd_per_mtok.map_or("-".to_string(), |c| {
                format!("{}x", human::num(c.output_over_input))
            }),
            if b.fits { "yes" } else { "no" }.to_string(),
        ]);
    }
    s.push_str(&t.render(0));
    for b in r.batches.iter().filter(|b| !b.fits) {
        if let Some(reason) = &b.reason {
            s.push_str(&format!(
                "batch {} does not fit: {reason}\n",
                human::int(b.batch as f64)
            ));
        }
    }
    s.push_str(
        "bound, MFU and MBU are the decode step's; every figure is defined in docs/metrics.md\n",
    );
    s
}
