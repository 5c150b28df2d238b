//! `servemath simulate`: every scheduler on every built-in model, replay of every shared trace,
//! the JSON schema, reproducibility, the files it writes, the scenario file, bad inputs, and a
//! snapshot of the default run. Workloads stay small (tens of requests) so CI stays fast.

use super::{check, num, scratch, servemath, write_scratch, Run};
use clap::Parser;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Runs `servemath simulate ARGS --json` in process and returns the report.
fn simulate_json(args: &[&str]) -> Result<Value, String> {
    let mut all = vec!["servemath", "simulate", "--json", "--quiet"];
    all.extend_from_slice(args);
    let cli = servemath_cli::Cli::try_parse_from(&all).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    servemath_cli::run(cli, &mut out).map_err(|e| format!("{e:#}"))?;
    serde_json::from_slice(&out).map_err(|e| format!("{all:?}: not JSON: {e}"))
}

/// A whole number in `v`.
#[track_caller]
fn int(v: &Value, key: &str) -> u64 {
    match v.get(key).and_then(Value::as_u64) {
        Some(x) => x,
        None => panic!("`{key}` is not a whole number in {v}"),
    }
}

/// Every arrival is accounted for: completed, running or queued.
#[track_caller]
fn assert_conserved(v: &Value, context: &str) {
    let r = &v["requests"];
    let arrived = int(r, "arrived");
    let sum = int(r, "completed") + int(r, "running") + int(r, "queued") + int(r, "rejected");
    assert!(arrived > 0, "{context}: nothing arrived");
    assert_eq!(arrived, sum, "{context}: {r}");
}

/// `../shared/traces` beside the workspace.
fn shared_traces() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/traces")
}

fn example_scenario() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenario.toml")
        .display()
        .to_string()
}

const SCHEDULERS: [&str; 5] = ["static", "continuous", "chunked", "train", "disagg"];

/// Every scheduler on every built-in model: 20 requests on the smallest H100 layout that fits
/// (the smallest TP, then pipeline stages for the models too big for one 8-GPU domain).
#[test]
fn every_scheduler_runs_on_every_builtin_model() {
    for m in servemath_model::builtin_models() {
        let base = ["--model", m.name, "--requests", "20", "--rate", "4"];
        let layout = ["1", "2", "4"]
            .into_iter()
            .find(|pp| simulate_json(&[&base[..], &["--pp", pp]].concat()).is_ok());
        let Some(pp) = layout else {
            panic!(
                "{}: no layout fits: {:?}",
                m.name,
                simulate_json(&[&base[..], &["--pp", "4"]].concat())
            );
        };
        for scheduler in SCHEDULERS {
            let args = [&base[..], &["--pp", pp, "--scheduler", scheduler]].concat();
            let v = simulate_json(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let context = format!("{} {scheduler}", m.name);
            assert_conserved(&v, &context);
            // A model with a short window (Llama-2-70B 4,096, GPT-J and PaLM 2,048 tokens)
            // refuses the default prompts' long tail (lognormal around 2,000 tokens); every
            // other model serves all 20.
            let (done, refused) = (
                int(&v["requests"], "completed"),
                int(&v["requests"], "rejected"),
            );
            assert_eq!(done + refused, 20, "{context}");
            let short = servemath_model::builtin(m.name).is_ok_and(|s| s.max_context <= 4096);
            assert!(refused == 0 || short, "{context}: {refused} rejected");
            let ttft = num(&v["latency"]["ttft_s"], "p50");
            assert!(ttft > 0.0 && ttft.is_finite(), "{context}: {ttft}");
            let pools = v["pools"].as_array().map_or(0, Vec::len);
            assert_eq!(
                pools,
                if scheduler == "disagg" { 2 } else { 1 },
                "{context}"
            );
        }
    }
}

/// Each timed trace replays (its first minute); each lengths-only file is sampled with a
/// Poisson process, and refused as `--trace` with the way to use it.
#[test]
fn every_shared_trace_replays() {
    let dir = shared_traces();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv" || x == "jsonl"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    for file in files {
        let f = file.display().to_string();
        let timed = simulate_json(&[
            "--model",
            "llama-3.1-8b",
            "--replicas",
            "2",
            "--trace",
            &f,
            "--window",
            "0,60",
        ]);
        match timed {
            Ok(v) => {
                assert_conserved(&v, &f);
                assert_eq!(v["workload"]["kind"], "trace");
                assert_eq!(v["workload"]["trace"], f.as_str());
                assert!(int(&v["requests"], "completed") > 10, "{f}");
            }
            Err(e) => {
                assert!(e.contains("--lengths-from"), "{f}: {e}");
                let v = simulate_json(&[
                    "--model",
                    "llama-3.1-8b",
                    "--lengths-from",
                    &f,
                    "--requests",
                    "20",
                    "--rate",
                    "5",
                ])
                .unwrap_or_else(|e| panic!("{f}: {e}"));
                assert_conserved(&v, &f);
                assert_eq!(v["workload"]["lengths_from"], f.as_str());
            }
        }
    }
    // Speed-up and a request limit.
    let conv = dir
        .join("AzureLLMInferenceTrace_conv.csv")
        .display()
        .to_string();
    let fast = simulate_json(&[
        "--model",
        "llama-3.1-8b",
        "--trace",
        &conv,
        "--trace-speed",
        "4",
        "--requests",
        "50",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(int(&fast["requests"], "arrived"), 50);
    assert!((num(&fast["workload"], "trace_speed") - 4.0).abs() < 1e-12);
}

#[test]
fn json_report_has_every_documented_field() {
    let v = simulate_json(&[
        "--model",
        "llama-3.1-8b",
        "--replicas",
        "2",
        "--requests",
        "40",
        "--rate",
        "8",
        "--slo-ttft",
        "1s",
        "--slo-tpot",
        "50ms",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["schema_version"], "servemath.simulate/1");
    for key in [
        "gpus",
        "duration_s",
        "steps",
        "utilization",
        "mfu",
        "mbu",
        "preemptions",
        "train_overruns",
    ] {
        assert!(num(&v, key) >= 0.0, "{key}");
    }
    assert_eq!(v["overloaded"], false);
    assert_eq!(v["engine"], "leap");
    assert_eq!(v["router"], "least_outstanding");
    assert_eq!(v["kv_transfer"], Value::Null);
    assert_conserved(&v, "json");
    for latency in ["queue_s", "ttft_s", "tpot_s", "e2e_s"] {
        let p = &v["latency"][latency];
        let (p50, p90, p99, max) = (num(p, "p50"), num(p, "p90"), num(p, "p99"), num(p, "max"));
        assert!(
            num(p, "mean") >= 0.0 && p50 <= p90 && p90 <= p99 && p99 <= max,
            "{latency}: {p}"
        );
    }
    let t = &v["throughput"];
    for key in [
        "requests_per_s",
        "input_tokens_per_s",
        "output_tokens_per_s",
        "input_tokens_per_s_per_gpu",
        "output_tokens_per_s_per_gpu",
        "goodput_requests_per_s",
        "goodput_fraction",
    ] {
        assert!(num(t, key) > 0.0, "{key}: {t}");
    }
    assert!(num(t, "goodput_fraction") <= 1.0);
    assert!((num(&v["slo"], "tpot_s") - 0.05).abs() < 1e-12);
    let kv = &v["kv"];
    assert!(num(kv, "peak_fraction") >= num(kv, "mean_fraction"));
    assert_eq!(kv["prefix_hit_rate"], Value::Null);
    let pool = &v["pools"][0];
    assert_eq!(pool["role"], "unified");
    assert_eq!(pool["replicas"], 2);
    assert_eq!(pool["layout"]["tp"], 1);
    assert_eq!(pool["scheduler"]["policy"]["kind"], "chunked");
    assert_eq!(pool["scheduler"]["max_batched_tokens"], 2048);
    let w = &v["workload"];
    assert_eq!(w["kind"], "synthetic");
    assert_eq!(w["arrivals"], "poisson:8");
    assert_eq!(w["requests_limit"], 40);
    assert_eq!(w["seed"], 0);
    // Disaggregation names its link; trains their period; static its batch.
    let d = simulate_json(&[
        "--model",
        "llama-3.1-8b",
        "--scheduler",
        "disagg",
        "--prefill-replicas",
        "2",
        "--decode-replicas",
        "3",
        "--decode-hardware",
        "h200",
        "--requests",
        "20",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d["kv_transfer"]["link"], "scale_out");
    assert_eq!(d["pools"][1]["hardware"]["id"], "h200");
    assert_eq!(d["pools"][1]["replicas"], 3);
    assert_eq!(d["gpus"], 5);
    let t = simulate_json(&[
        "--model",
        "llama-3.1-8b",
        "--scheduler",
        "train",
        "--requests",
        "10",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    // One read of 80 GB at 3.35 TB/s: 23.9 ms.
    let period = num(&t["pools"][0]["scheduler"]["policy"], "period_s");
    assert!((period - 80e9 / 3.35e12).abs() < 1e-12, "{period}");
    let s = simulate_json(&[
        "--model",
        "llama-3.1-8b",
        "--scheduler",
        "static",
        "--static-batch",
        "4",
        "--static-timeout",
        "100ms",
        "--requests",
        "10",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let policy = &s["pools"][0]["scheduler"]["policy"];
    assert_eq!(policy["batch"], 4);
    assert!((num(policy, "timeout_s") - 0.1).abs() < 1e-12);
}

#[test]
fn closed_loop_users_and_limits() {
    let v = simulate_json(&[
        "--model",
        "llama-3.1-8b",
        "--concurrency",
        "4",
        "--requests",
        "20",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["workload"]["kind"], "closed_loop");
    assert_eq!(int(&v["requests"], "completed"), 20);
    // For a duration: the run stops there, with at most the users' requests in flight.
    let v = simulate_json(&[
        "--model",
        "llama-3.1-8b",
        "--concurrency",
        "4",
        "--duration",
        "30s",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_conserved(&v, "closed loop");
    let r = &v["requests"];
    assert!(num(r, "running") + num(r, "queued") <= 4.0, "{r}");
    assert!(num(&v, "duration_s") <= 30.0);
}

/// The same seed gives the same bytes (table, JSON and request CSV); another seed does not.
#[test]
fn same_seed_same_bytes() {
    let run = |seed: &str, extra: &[&str]| {
        let csv = scratch().join(format!("seed-{seed}-{}.csv", extra.len()));
        let c = csv.display().to_string();
        let mut args = vec![
            "simulate",
            "--model",
            "llama-3.1-8b",
            "--replicas",
            "3",
            "--arrivals",
            "gamma:10,2",
            "--requests",
            "60",
            "--seed",
            seed,
            "--requests-csv",
            &c,
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let out = servemath(&args);
        out.assert_ok();
        (out.stdout, std::fs::read(&csv).unwrap_or_default())
    };
    for extra in [&[][..], &["--json"]] {
        let a = run("7", extra);
        let b = run("7", extra);
        assert_eq!(a, b, "{extra:?}");
        assert!(!a.1.is_empty());
        assert_ne!(a, run("8", extra), "{extra:?}");
    }
}

#[test]
fn output_files_are_written_and_well_formed() {
    let dir = scratch();
    let path = |name: &str| dir.join(name).display().to_string();
    let (requests, series, trace) = (
        path("sim-requests.csv"),
        path("sim-series.csv"),
        path("sim-trace.json"),
    );
    for f in [&requests, &series, &trace] {
        let _ = std::fs::remove_file(f);
    }
    let run = servemath(&[
        "simulate",
        "--model",
        "llama-3.1-8b",
        "--replicas",
        "2",
        "--requests",
        "30",
        "--rate",
        "3",
        "--requests-csv",
        &requests,
        "--timeseries-csv",
        &series,
        "--interval",
        "2s",
        "--chrome-trace",
        &trace,
        "--json",
    ]);
    run.assert_ok();
    let v = run.json();
    for what in [
        "requests written",
        "time series written",
        "Chrome trace written",
    ] {
        assert!(run.stderr.contains(what), "{}", run.transcript());
    }

    let text = std::fs::read_to_string(&requests).unwrap_or_default();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    assert_eq!(header[0], "id");
    assert!(header.contains(&"ttft_s") && header.contains(&"e2e_s"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| {
            l.split(',')
                .map(|x| x.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    assert_eq!(rows.len() as u64, int(&v["requests"], "completed"));
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), header.len());
        assert!((row[0] - i as f64).abs() < 0.5, "rows sorted by id");
        // arrival <= admitted <= first token <= completion.
        assert!(
            row[2] <= row[3] && row[3] <= row[4] && row[4] <= row[5],
            "{row:?}"
        );
    }

    let text = std::fs::read_to_string(&series).unwrap_or_default();
    let samples: Vec<&str> = text.lines().skip(1).collect();
    assert!(text.starts_with("time_s,queued,running,kv_fraction,output_tokens_per_s\n"));
    // One sample every 2 s of the run.
    let expected = (num(&v, "duration_s") / 2.0).floor();
    assert!(
        (samples.len() as f64 - expected).abs() <= 1.0,
        "{} vs {expected}",
        samples.len()
    );
    assert!(samples.iter().all(|l| l.split(',').count() == 5));

    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    let t: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("chrome trace: {e}"));
    let events = t["traceEvents"].as_array().cloned().unwrap_or_default();
    let count = |ph: &str| events.iter().filter(|e| e["ph"] == ph).count();
    assert_eq!(count("M"), 4, "a process and a thread name per replica");
    assert!(count("X") > 0);
    assert_eq!(count("b"), count("e"));
    assert_eq!(count("b") as u64, 4 * int(&v["requests"], "completed"));
    let steps: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert!(steps.iter().all(|e| num(e, "dur") >= 0.0
        && e["name"]
            .as_str()
            .is_some_and(|n| n.contains("prefill") || n.contains("decode"))));
    let pids: std::collections::BTreeSet<u64> =
        steps.iter().filter_map(|e| e["pid"].as_u64()).collect();
    assert_eq!(pids.len(), 2, "one track per replica");
}

#[test]
fn plots_are_written_as_svg_and_png() {
    for (file, magic) in [("sim.svg", &b"<svg"[..]), ("sim.png", &b"\x89PNG"[..])] {
        let path = scratch().join(file);
        let _ = std::fs::remove_file(&path);
        let p = path.display().to_string();
        let run = servemath(&[
            "simulate",
            "--model",
            "llama-3.1-8b",
            "--requests",
            "40",
            "--rate",
            "4",
            "--slo-ttft",
            "500ms",
            "--interval",
            "1s",
            "--plot",
            &p,
        ]);
        run.assert_ok();
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(bytes.starts_with(magic), "{file}: {} bytes", bytes.len());
    }
}

#[test]
fn scenario_file_runs_and_flags_override_it() {
    let example = example_scenario();
    let v = simulate_json(&["--config", &example, "--requests", "100"])
        .unwrap_or_else(|e| panic!("{e}"));
    let pool = &v["pools"][0];
    assert_eq!(pool["model"]["name"], "llama-3.1-70b");
    assert_eq!(pool["layout"]["tp"], 4);
    assert_eq!(pool["replicas"], 8);
    assert_eq!(v["workload"]["arrivals"], "poisson:40");
    assert!((num(&v["workload"], "duration_limit_s") - 3600.0).abs() < 1e-9);
    assert!((num(&v["slo"], "ttft_s") - 2.0).abs() < 1e-12);
    assert_eq!(int(&v["requests"], "arrived"), 100);
    // Flags win; a flag of one workload source replaces the file's.
    let v = simulate_json(&[
        "--config",
        &example,
        "--requests",
        "50",
        "--tp",
        "8",
        "--replicas",
        "2",
        "--arrivals",
        "gamma:20,1.5",
        "--scheduler",
        "continuous",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["pools"][0]["layout"]["tp"], 8);
    assert_eq!(v["pools"][0]["replicas"], 2);
    assert_eq!(v["pools"][0]["scheduler"]["policy"]["kind"], "continuous");
    assert_eq!(v["workload"]["arrivals"], "gamma:20,1.5");

    // Every section, relative paths resolved against the file, and a trace in place of rate.
    let traces = shared_traces().display().to_string();
    let file = write_scratch(
        "scenario-all.toml",
        &format!(
            r#"
[deployment]
model = "qwen3-8b"
hardware = "h100-sxm"
tp = 2
kv = "fp8"
[deployment.param]
memory_efficiency = 0.8
[fleet]
replicas = 2
router = "least-kv"
[scheduler]
kind = "chunked"
max_seqs = 64
max_batched_tokens = 1024
block_size = 32
[workload]
trace = "{traces}/AzureLLMInferenceTrace_code.csv"
window = [0, 120]
trace_speed = 2
seed = 3
[slo]
ttft = "1s"
[output]
quiet = true
"#
        ),
    );
    let f = file.display().to_string();
    let v = simulate_json(&["--config", &f]).unwrap_or_else(|e| panic!("{e}"));
    let pool = &v["pools"][0];
    assert_eq!(pool["layout"]["tp"], 2);
    assert_eq!(pool["precisions"]["kv"], "fp8");
    assert!((num(&pool["params"], "memory_efficiency") - 0.8).abs() < 1e-12);
    assert_eq!(pool["scheduler"]["max_seqs"], 64);
    assert_eq!(pool["scheduler"]["block_tokens"], 32);
    assert_eq!(v["router"], "least_kv");
    assert_eq!(v["workload"]["kind"], "trace");
    assert_eq!(v["slo"]["tpot_s"], Value::Null);
    // A command-line rate replaces the file's trace.
    let v = simulate_json(&["--config", &f, "--rate", "3", "--requests", "10"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["workload"]["kind"], "synthetic");
    // A bad parameter in the file is blamed on the file and its key, not on a --param flag
    // nobody typed (code-review F2).
    let bad = write_scratch(
        "scenario-bad-param.toml",
        "[deployment]\nparam = { memory_efficiency = 1.5 }\n",
    );
    let run = servemath(&["simulate", "--config", &bad.display().to_string()]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("scenario-bad-param.toml: deployment.param.memory_efficiency"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("--param"), "{}", run.stderr);
}

#[test]
fn bad_simulate_inputs_are_refused_with_the_reason() {
    fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let base = ["simulate", "--model", "llama-3.1-8b", "--requests", "5"];
        [&base[..], extra].concat()
    }
    // Malformed values and conflicting flags are usage errors (exit 2); inputs that are well
    // formed but missing, unknown or too large for the hardware are input errors (exit 1).
    check(&with(&["--rate", "-3"]), 2, &["--rate", "-3", "positive"]);
    check(
        &with(&["--arrivals", "poisson:x"]),
        2,
        &["--arrivals", "poisson:x", "not a number"],
    );
    check(
        &with(&["--arrivals", "weibull:3"]),
        2,
        &["--arrivals", "weibull"],
    );
    check(
        &with(&["--input", "lognormal:5"]),
        2,
        &["--input", "lognormal:5"],
    );
    check(
        &with(&["--output", "uniform:9,1"]),
        2,
        &["--output", "must not exceed"],
    );
    check(
        &with(&["--block-size", "1000000000"]),
        2,
        &["--block-size", "65536"],
    );
    check(
        &["simulate", "--rate", "1e9", "--duration", "1s"],
        2,
        &["--rate", "10,000,000"],
    );
    check(
        &with(&["--concurrency", "10000000"]),
        2,
        &["--concurrency", "1,000,000"],
    );
    check(
        &with(&["--replicas", "1000000"]),
        2,
        &["--replicas", "65,536"],
    );
    check(
        &with(&["--replicas", "0"]),
        2,
        &["--replicas", "at least 1"],
    );
    check(
        &with(&["--scheduler", "chunky"]),
        2,
        &["did you mean `chunked`"],
    );
    check(
        &with(&["--router", "least-load"]),
        2,
        &["--router", "least-outstanding"],
    );
    check(
        &with(&["--duration", "3d"]),
        2,
        &["--duration", "unknown unit"],
    );
    check(&with(&["--slo-tpot", "fast"]), 2, &["--slo-tpot", "fast"]);
    check(
        &with(&["--period", "0s", "--scheduler", "train"]),
        2,
        &["--period"],
    );
    check(&with(&["--window", "0,60"]), 2, &["--window", "--trace"]);
    check(
        &with(&["--rate", "2", "--arrivals", "poisson:3"]),
        2,
        &["conflict"],
    );
    check(
        &with(&["--concurrency", "4", "--rate", "3"]),
        2,
        &["conflict"],
    );
    check(&with(&["--plot", "x.pdf"]), 1, &["--plot", ".pdf"]);
    check(
        &with(&["--trace", "no-such-trace.csv"]),
        1,
        &["no-such-trace.csv"],
    );
    check(
        &["simulate", "--model", "llama-3.1-70b", "--tp", "2"],
        1,
        &["does not fit", "--tp 4 would fit"],
    );
    check(
        &["simulate", "--model", "llama-3.1-405b"],
        1,
        &["does not fit", "--pp"],
    );
    check(
        &["simulate", "--model", "lama-3.1-8b"],
        1,
        &["did you mean", "llama-3.1-8b"],
    );
    // A trace with a malformed row names the file and line.
    let bad = write_scratch(
        "bad-trace.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,100,10\n2023-11-16 18:17:04.0,abc,10\n",
    );
    let b = bad.display().to_string();
    check(
        &with(&["--trace", &b]),
        1,
        &["bad-trace.csv", "line 3", "ContextTokens"],
    );
    // A lengths-only file is not a timed trace.
    let lengths = write_scratch(
        "lengths.csv",
        "num_prefill_tokens,num_decode_tokens\n100,10\n",
    );
    let l = lengths.display().to_string();
    check(&with(&["--trace", &l]), 1, &["--lengths-from"]);
    // Scenario files: unknown keys and bad values name the file, the key and the line.
    let file = write_scratch("bad-scenario.toml", "[workload]\nrat = 3\n");
    let f = file.display().to_string();
    check(
        &["simulate", "--config", &f],
        1,
        &["bad-scenario.toml", "line 2", "`rat`"],
    );
    let file = write_scratch("bad-rate.toml", "[workload]\nrate = -2\n");
    let f = file.display().to_string();
    check(
        &["simulate", "--config", &f],
        2,
        &["bad-rate.toml", "workload.rate", "-2"],
    );
}

#[test]
fn bench_and_reference_engine() {
    let run = servemath(&[
        "simulate",
        "--model",
        "llama-3.1-8b",
        "--requests",
        "30",
        "--bench",
        "--reference",
        "--json",
    ]);
    run.assert_ok();
    assert!(
        run.stderr.contains("requests/s") && run.stderr.contains("steps/s"),
        "{}",
        run.transcript()
    );
    let reference = run.json();
    assert_eq!(reference["engine"], "reference");
    let leap = simulate_json(&["--model", "llama-3.1-8b", "--requests", "30"])
        .unwrap_or_else(|e| panic!("{e}"));
    // The two engines agree on every request's timing, hence on the percentiles.
    for l in ["ttft_s", "e2e_s"] {
        let (a, b) = (
            num(&leap["latency"][l], "max"),
            num(&reference["latency"][l], "max"),
        );
        assert!((a - b).abs() <= 1e-9 * b, "{l}: {a} vs {b}");
    }
    assert_eq!(leap["steps"], reference["steps"]);
    // No progress bar when stderr is not a terminal.
    assert!(!run.stderr.contains("simulating"), "{}", run.transcript());
}

#[test]
fn snapshot_simulate_default() {
    let run: Run = servemath(&["simulate"]);
    insta::assert_snapshot!("simulate_default", run.transcript());
}

/// The scheduler's block size only changes the allocation granularity, never the KV capacity:
/// 8-, 16- and 32-token blocks hold the same 405,888 tokens of Llama-3.1-8B on one H100
/// (each token 131,072 B in BF16: 32 layers · 2 · 8 KV heads · 128 · 2 B).
#[test]
fn the_block_size_does_not_change_the_kv_capacity() {
    let capacity = |b: &str| {
        let run = servemath(&[
            "simulate",
            "--model",
            "llama-3.1-8b",
            "--rate",
            "1",
            "--duration",
            "20s",
            "--block-size",
            b,
            "--json",
            "-q",
        ]);
        run.assert_ok();
        let v = run.json();
        // One block size for both owners: the cost model rounds KV to the scheduler's blocks.
        assert_eq!(
            v["pools"][0]["params"]["kv_block_tokens"].as_f64(),
            b.parse::<f64>().ok(),
            "--block-size {b}"
        );
        v["kv"]["capacity_tokens"].as_f64().unwrap_or(0.0)
    };
    let c16 = capacity("16");
    assert!(c16 > 400_000.0, "{c16}");
    // Whole 32-token blocks of the same budget: at most one block less.
    for b in ["8", "32"] {
        let c = capacity(b);
        assert!(
            (c - c16).abs() <= 32.0,
            "--block-size {b}: {c} against {c16}"
        );
    }
}

/// A malformed value is a usage error (exit 2) in `simulate` as in `estimate`, whether given as
/// a flag or as a `--config` key; an input that is well formed but unknown stays exit 1.
#[test]
fn malformed_values_exit_2_everywhere() {
    for args in [
        &["simulate", "--scheduler", "foo"][..],
        &["simulate", "--router", "random-ish"][..],
        &["simulate", "--duration", "5x"][..],
        &["simulate", "--rate", "1", "--arrivals", "poisson:2"][..],
        &["estimate", "--kv", "foo"][..],
    ] {
        let run = servemath(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.transcript());
        assert!(run.stderr.contains("error"), "{args:?}");
    }
    let file = write_scratch("bad-scheduler.toml", "[scheduler]\nkind = \"foo\"\n");
    let p = file.display().to_string();
    let run = servemath(&["simulate", "--config", &p]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("scheduler"), "{}", run.stderr);
    let run = servemath(&["simulate", "--model", "no-such-model"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
}

/// `simulate` takes the cost flags `estimate` and `cost` take: the $/Mtok figures follow the
/// GPU-hour price given (the run is the same; only the price changes, so every dollar figure
/// scales by the price ratio), and a bad cost input is refused by name.
#[test]
fn simulate_takes_the_cost_flags() {
    let base = [
        "simulate",
        "--model",
        "llama-3.1-8b",
        "--requests",
        "50",
        "--json",
        "-q",
    ];
    let at = |price: &str| {
        let mut args = base.to_vec();
        let flag = format!("rental_usd_per_gpu_hour={price}");
        args.extend(["--mode", "rental", "--cost", &flag]);
        let run = servemath(&args);
        run.assert_ok();
        run.json()["cost"].clone()
    };
    let (one, two) = (at("1"), at("2"));
    assert!((num(&one, "usd_per_gpu_hour") - 1.0).abs() < 1e-12);
    let ratio = num(&two, "output_usd_per_mtok") / num(&one, "output_usd_per_mtok");
    assert!((ratio - 2.0).abs() < 1e-9, "{ratio}");
    let mut args = base.to_vec();
    args.extend(["--cost", "bogus=1"]);
    let run = servemath(&args);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("bogus"), "{}", run.stderr);
}

/// A run in which no request arrives has no latency percentiles and no price per token: the
/// table prints `-` (never `0 s` or `$NaN`) and the JSON `null`.
#[test]
fn an_empty_sample_prints_no_figures() {
    let args = [
        "simulate",
        "--tp",
        "4",
        "-q",
        "--rate",
        "0.01",
        "--duration",
        "10s",
    ];
    let run = servemath(&args);
    run.assert_ok();
    let ttft = run
        .stdout
        .lines()
        .find(|l| l.starts_with("TTFT"))
        .unwrap_or_default()
        .to_string();
    assert!(!ttft.contains("0 s") && ttft.contains('-'), "{ttft}");
    assert!(!run.stdout.contains("NaN"), "{}", run.stdout);
    let mut json = args.to_vec();
    json.push("--json");
    let v = servemath(&json).json();
    assert!(v["latency"]["ttft_s"]["p99"].is_null(), "{}", v["latency"]);
}

/// A request whose context can never fit (a 900,000-token prompt: past Llama-3.1-8B's 131,072
/// context and its KV capacity on one H100) is rejected on arrival and counted; the requests
/// behind it are served instead of queueing forever behind it.
#[test]
fn a_request_that_can_never_fit_is_rejected_not_deadlocked() {
    let mut csv = String::from("TIMESTAMP,ContextTokens,GeneratedTokens\n");
    for i in 0..20 {
        let tokens = if i == 3 { 900_000 } else { 1_000 };
        csv.push_str(&format!("2023-11-16 18:17:{:02}.0000000,{tokens},50\n", i));
    }
    let trace = write_scratch("one-huge-prompt.csv", &csv);
    let p = trace.display().to_string();
    let v = simulate_json(&["--model", "llama-3.1-8b", "--trace", &p])
        .unwrap_or_else(|e| panic!("{e}"));
    let r = &v["requests"];
    assert_eq!(int(r, "rejected"), 1, "{r}");
    assert_eq!(int(r, "completed"), 19, "{r}");
    assert_eq!(int(r, "queued"), 0, "{r}");
    assert_conserved(&v, "one huge prompt");
}

/// An output never replaces an input or another output: `--requests-csv` naming the trace,
/// or two outputs naming one file, is a usage error and the trace is left as it was.
#[test]
fn outputs_never_overwrite_inputs() {
    let text = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.0000000,100,10\n2023-11-16 18:17:04.0000000,100,10\n";
    let trace = write_scratch("kept-trace.csv", text);
    let t = trace.display().to_string();
    let run = servemath(&["simulate", "-q", "--trace", &t, "--requests-csv", &t]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("would overwrite --trace"),
        "{}",
        run.stderr
    );
    let after = std::fs::read_to_string(&trace).unwrap_or_default();
    assert_eq!(after, text);
    let out = scratch().join("one-output.csv").display().to_string();
    let run = servemath(&[
        "simulate",
        "-q",
        "--requests",
        "5",
        "--requests-csv",
        &out,
        "--timeseries-csv",
        &out,
    ]);
    assert_eq!(run.code, 2, "{}", run.transcript());
}

/// Memory stays bounded under any offered load: a replica holds at most `--max-waiting`
/// requests waiting, and the rest are dropped, counted and make the run overloaded. 40
/// requests/s of 2,000-token prompts on one 8B replica for 30 s is about 1,200 requests, far
/// beyond what it serves (a few requests/s at these lengths), so its queue of 20 fills.
#[test]
fn an_overloaded_replica_drops_what_its_queue_cannot_hold() {
    let v = simulate_json(&[
        "--model",
        "llama-3.1-8b",
        "--rate",
        "40",
        "--duration",
        "30s",
        "--input",
        "fixed:2000",
        "--output",
        "fixed:300",
        "--max-waiting",
        "20",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let q = &v["requests"];
    let (arrived, dropped) = (int(q, "arrived"), int(q, "dropped"));
    assert!(dropped > arrived / 2, "{dropped} of {arrived}");
    assert_eq!(
        int(q, "completed") + int(q, "running") + int(q, "queued") + int(q, "rejected") + dropped,
        arrived
    );
    assert_eq!(v["overloaded"], true);
    assert_eq!(v["pools"][0]["scheduler"]["max_waiting"], 20);
    // Zero is no queue at all: refused as a usage error naming the flag.
    check(
        &["simulate", "--model", "llama-3.1-8b", "--max-waiting", "0"],
        2,
        &["--max-waiting = 0", "at least 1"],
    );
}
