//! The files `simulate` writes on request: one CSV row per request, the time series as CSV, a
//! Chrome/Perfetto trace of steps and requests, and the plot. Numbers are printed in Rust's
//! shortest round-trip form, so the same run writes the same bytes.

use super::plot;
use super::resolve::Outputs;
use anyhow::Context;
use serde_json::json;
use servemath_report::SimulateReport;
use servemath_sim::{Pool, Record, ReplicaSpec, SimReport, StepSpan};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

pub fn write_files(
    o: &Outputs,
    replicas: &[ReplicaSpec],
    sim: &SimReport,
    report: &SimulateReport,
) -> anyhow::Result<()> {
    let note = |what: &str, path: &Path| {
        if !o.quiet {
            crate::note(&format!("{what} written to {}", path.display()));
        }
    };
    let mut records = sim.records.clone();
    records.sort_by_key(|r| r.id);
    if let Some(path) = &o.requests_csv {
        write_with(path, "--requests-csv", |w| requests_csv(w, &records))?;
        note("requests", path);
    }
    if let Some(path) = &o.timeseries_csv {
        write_with(path, "--timeseries-csv", |w| timeseries_csv(w, sim))?;
        note("time series", path);
    }
    if let Some(path) = &o.chrome_trace {
        write_with(path, "--chrome-trace", |w| {
            chrome_trace(w, replicas, &sim.step_spans, &records)
        })?;
        note("Chrome trace", path);
    }
    if let Some((path, kind)) = &o.plot {
        plot::draw(path, *kind, report, &records, &sim.timeseries)?;
        note("plot", path);
    }
    Ok(())
}

/// Creates `path` and writes it through a buffer, naming the flag and file on failure.
fn write_with(
    path: &Path,
    flag: &str,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let context = || format!("{flag} {}: cannot write", path.display());
    let file = File::create(path).with_context(context)?;
    let mut w = BufWriter::new(file);
    body(&mut w).with_context(context)?;
    w.flush().with_context(context)
}

pub const REQUEST_COLUMNS: &str = "id,replica,arrival_s,admitted_s,first_token_s,completion_s,input_tokens,output_tokens,preemptions,queue_s,ttft_s,tpot_s,e2e_s";

fn requests_csv(w: &mut dyn Write, records: &[Record]) -> std::io::Result<()> {
    writeln!(w, "{REQUEST_COLUMNS}")?;
    for r in records {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.id,
            r.replica,
            r.arrival_s,
            r.admitted_s,
            r.first_token_s,
            r.completion_s,
            r.input_tokens,
            r.output_tokens,
            r.preemptions,
            r.queue_s(),
            r.ttft_s(),
            r.tpot_s(),
            r.e2e_s()
        )?;
    }
    Ok(())
}

pub const TIMESERIES_COLUMNS: &str = "time_s,queued,running,kv_fraction,output_tokens_per_s";

fn timeseries_csv(w: &mut dyn Write, sim: &SimReport) -> std::io::Result<()> {
    writeln!(w, "{TIMESERIES_COLUMNS}")?;
    for s in &sim.timeseries {
        writeln!(
            w,
            "{},{},{},{},{}",
            s.time_s, s.queued, s.running, s.kv_fraction, s.output_tokens_per_s
        )?;
    }
    Ok(())
}

/// A step's name in the trace: what it carried.
fn step_name(s: &StepSpan) -> String {
    let decode = match (s.decode_seqs, s.steps) {
        (0, _) => String::new(),
        (n, 1) => format!("decode {n}"),
        (n, k) => format!("decode {n} ×{k}"),
    };
    match (s.prefill_tokens, decode.is_empty()) {
        (0, _) => decode,
        (p, true) => format!("prefill {p}"),
        (p, false) => format!("prefill {p} + {decode}"),
    }
}

/// The Chrome trace event format (JSON object form): one process per replica, its steps as
/// complete events on thread 0, each request as a nested async span (queued, prefill, decode)
/// in the process of the replica that completed it. Times in microseconds.
fn chrome_trace(
    w: &mut dyn Write,
    replicas: &[ReplicaSpec],
    spans: &[StepSpan],
    records: &[Record],
) -> std::io::Result<()> {
    // Each event is serialized and written as it is made: the file is the only copy (a
    // tree of every event first took 20 times the file's size in memory).
    let us = |s: f64| s * 1e6;
    let mut first = true;
    let mut emit = |w: &mut dyn Write, ev: serde_json::Value| -> std::io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        first = false;
        serde_json::to_writer(&mut *w, &ev)?;
        Ok(())
    };
    w.write_all(b"{\"displayTimeUnit\":\"ms\",\"traceEvents\":[")?;
    for (i, r) in replicas.iter().enumerate() {
        let role = match r.pool {
            Pool::Unified => "",
            Pool::Prefill => " (prefill)",
            Pool::Decode => " (decode)",
        };
        let d = &r.deployment;
        emit(
            w,
            json!({"ph": "M", "name": "process_name", "pid": i, "tid": 0,
            "args": {"name": format!("replica {i}{role}: {} on {} x{}", d.model().name, d.hardware().id, d.gpus())}}),
        )?;
        emit(
            w,
            json!({"ph": "M", "name": "thread_name", "pid": i, "tid": 0,
            "args": {"name": "steps"}}),
        )?;
    }
    for s in spans {
        emit(
            w,
            json!({"ph": "X", "cat": "step", "name": step_name(s), "pid": s.replica, "tid": 0,
            "ts": us(s.start_s), "dur": us(s.end_s - s.start_s),
            "args": {"steps": s.steps, "decode_seqs": s.decode_seqs, "prefill_tokens": s.prefill_tokens}}),
        )?;
    }
    for r in records {
        let name = format!("request {}", r.id);
        let ev = |ph: &str, name: &str, t: f64| json!({"ph": ph, "cat": "request", "name": name, "id": r.id, "pid": r.replica, "tid": 1, "ts": us(t)});
        let mut begin = ev("b", &name, r.arrival_s);
        begin["args"] = json!({"input_tokens": r.input_tokens, "output_tokens": r.output_tokens,
            "preemptions": r.preemptions});
        emit(w, begin)?;
        for (phase, a, b) in [
            ("queued", r.arrival_s, r.admitted_s),
            ("prefill", r.admitted_s, r.first_token_s),
            ("decode", r.first_token_s, r.completion_s),
        ] {
            emit(w, ev("b", phase, a))?;
            emit(w, ev("e", phase, b))?;
        }
        emit(w, ev("e", &name, r.completion_s))?;
    }
    w.write_all(b"\n]}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_named_by_what_they_carry() {
        let span = |steps, decode_seqs, prefill_tokens| StepSpan {
            replica: 0,
            start_s: 0.0,
            end_s: 1.0,
            steps,
            decode_seqs,
            prefill_tokens,
        };
        assert_eq!(step_name(&span(1, 0, 2048)), "prefill 2048");
        assert_eq!(step_name(&span(1, 32, 0)), "decode 32");
        assert_eq!(step_name(&span(150, 32, 0)), "decode 32 ×150");
        assert_eq!(step_name(&span(1, 30, 512)), "prefill 512 + decode 30");
    }
}
