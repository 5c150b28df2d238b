//! `servemath search` and `servemath fleet`: the JSON schemas, side-by-side hardware and the
//! scale-up sweep, the files written, infeasible targets with the closest miss, bad inputs,
//! the fleet's count checked against `simulate` itself (it meets the targets, one fewer
//! misses), and snapshots. Workloads stay small (a few hundred requests) so CI stays fast.

use super::{check, num, scratch, servemath, Run};
use clap::Parser;
use serde_json::Value;

/// Runs `servemath ARGS --json --quiet` in process and returns the report.
fn json(args: &[&str]) -> Value {
    let mut all = vec!["servemath"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "--quiet"]);
    let cli = servemath_cli::Cli::try_parse_from(&all).unwrap_or_else(|e| panic!("{all:?}: {e}"));
    let mut out = Vec::new();
    if let Err(e) = servemath_cli::run(cli, &mut out) {
        panic!("{all:?}: {e:#}");
    }
    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{all:?}: not JSON: {e}"))
}

fn rows(v: &Value, key: &str) -> Vec<Value> {
    v[key].as_array().cloned().unwrap_or_default()
}

const SMALL: [&str; 6] = [
    "--model",
    "llama-3.1-8b",
    "--slo-ttft",
    "2s",
    "--slo-tpot",
    "50ms",
];

#[test]
fn search_reports_top_rows_fronts_and_why() {
    let mut args = vec!["search"];
    args.extend_from_slice(&SMALL);
    args.extend_from_slice(&["--max-gpus", "8", "--top", "3", "--requests", "200"]);
    let v = json(&args);
    assert_eq!(v["schema_version"], "servemath.search/1");
    assert_eq!(v["feasible"], true);
    assert_eq!(v["simulation"]["candidates"], 3);
    assert!(num(&v["counts"], "candidates") > 100.0);
    let top = rows(&v, "top");
    assert_eq!(top.len(), 3);
    for (k, r) in top.iter().enumerate() {
        assert_eq!(r["rank"], k + 1);
        // Llama-3.1-8B has 32 heads: tensor parallelism divides them; units fit --max-gpus.
        let tp = num(&r["layout"], "tp");
        assert!(32.0 % tp == 0.0 && num(r, "gpus") <= 8.0, "{r}");
        assert!(r["analytic"]["meets_slo"] == true, "{r}");
        let sim = &r["simulated"];
        assert!(num(sim, "ttft_p99_s") >= num(sim, "ttft_p50_s"), "{sim}");
        assert!(num(sim, "completed") > 0.0);
        assert!(r["why"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("-bound")));
        assert!(num(&r["analytic"], "usd_per_m_output_tokens") > 0.0);
    }
    // The front: tokens/s per user falls as tokens/s per GPU rises.
    let front = rows(&v, "pareto");
    assert!(front.len() >= 3);
    for w in front.windows(2) {
        let (a, b) = (&w[0]["analytic"], &w[1]["analytic"]);
        assert!(num(a, "tokens_per_s_per_user") >= num(b, "tokens_per_s_per_user"));
        assert!(num(a, "output_tokens_per_s_per_gpu") < num(b, "output_tokens_per_s_per_gpu"));
    }
}

#[test]
fn search_compares_hardware_and_sweeps_the_scale_up_domain() {
    let v = json(&[
        "search",
        "--model",
        "llama-3.1-8b",
        "--hardware",
        "h100-sxm,b200",
        "--scale-up",
        "8,16",
        "--max-gpus",
        "16",
        "--slo-tpot",
        "30ms",
        "--no-sim",
        "--top",
        "5",
    ]);
    let labels: Vec<String> = rows(&v, "hardware")
        .iter()
        .map(|h| h["label"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(labels, ["h100-sxm", "h100-sxm@16", "b200", "b200@16"]);
    assert!(v["simulation"].is_null());
    let best = rows(&v, "best_per_hardware");
    assert_eq!(best.len(), 4);
    for b in &best {
        assert!(num(&b["analytic"], "tpot_s") <= 0.030 + 1e-12, "{b}");
    }
    // A B200 beats an H100 per GPU at the same target.
    let per_gpu = |i: usize| num(&best[i]["analytic"], "output_tokens_per_s_per_gpu");
    assert!(per_gpu(2) > per_gpu(0));
    // The $ front spans machines and falls in price as tokens/s per user falls.
    let cost = rows(&v, "pareto_cost");
    assert!(!cost.is_empty());
    for w in cost.windows(2) {
        let usd = |r: &Value| num(&r["analytic"], "usd_per_m_output_tokens");
        assert!(usd(&w[0]) > usd(&w[1]));
    }
}

#[test]
fn search_writes_csv_and_plots() {
    let csv = scratch().join("search.csv");
    let svg = scratch().join("search.svg");
    let png = scratch().join("search-cost.png");
    for p in [&csv, &svg, &png] {
        let _ = std::fs::remove_file(p);
    }
    let (c, s, p) = (
        csv.display().to_string(),
        svg.display().to_string(),
        png.display().to_string(),
    );
    let mut args = vec!["search"];
    args.extend_from_slice(&SMALL);
    args.extend_from_slice(&[
        "--max-gpus",
        "8",
        "--no-sim",
        "--top",
        "4",
        "--csv",
        &c,
        "--plot",
        &s,
    ]);
    let run = servemath(&args);
    run.assert_ok();
    assert!(run.stdout.contains("Pareto front") && run.stdout.contains("why:"));
    let text = std::fs::read_to_string(&csv).unwrap_or_default();
    assert!(text.starts_with("set,rank,hardware"));
    assert_eq!(text.lines().filter(|l| l.starts_with("top,")).count(), 4);
    assert!(text.lines().any(|l| l.starts_with("pareto,")));
    let svg_text = std::fs::read_to_string(&svg).unwrap_or_default();
    assert!(svg_text.starts_with("<svg"));
    // The title carries the latency targets the fronts were searched under.
    assert!(svg_text.contains("TPOT ≤"), "no SLO in the title");
    let mut args = vec!["search"];
    args.extend_from_slice(&SMALL);
    args.extend_from_slice(&["--max-gpus", "8", "--no-sim", "--front-cost", "--plot", &p]);
    servemath(&args).assert_ok();
    assert!(std::fs::read(&png)
        .unwrap_or_default()
        .starts_with(b"\x89PNG"));
}

#[test]
fn search_refuses_what_it_cannot_do() {
    fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        [
            &["search", "--model", "llama-3.1-8b", "--no-sim", "-q"][..],
            extra,
        ]
        .concat()
    }
    // No configuration meets the target: infeasible, with the closest.
    check(
        &with(&["--slo-tpot", "1ms"]),
        1,
        &["infeasible", "TPOT ≤ 1.00 ms", "the closest is", "TPOT"],
    );
    check(
        &with(&["--min-tokens-per-s-per-user", "2000"]),
        1,
        &["infeasible"],
    );
    // Values outside their range, or a setting search cannot use: usage errors.
    check(
        &with(&["--min-tokens-per-s-per-user", "-3"]),
        2,
        &["positive"],
    );
    check(&with(&["--load", "0"]), 2, &["--load"]);
    check(&with(&["--scale-up", "0"]), 2, &["--scale-up"]);
    check(&with(&["--max-gpus", "0"]), 2, &["--max-gpus"]);
    check(&with(&["--concurrency", "8"]), 2, &["--concurrency"]);
    check(&with(&["--hardware", "h100-sxn"]), 1, &["did you mean"]);
    check(&with(&["--slo-ttft", "fast"]), 2, &["--slo-ttft"]);
    check(&with(&["--plot", "x.jpg"]), 1, &[".svg or .png"]);
    check(
        &with(&["--csv", "no/such/dir/x.csv"]),
        1,
        &["does not exist"],
    );
    // A model that does not fit within --max-gpus.
    check(
        &[
            "search",
            "--model",
            "llama-3.1-405b",
            "--max-gpus",
            "2",
            "--no-sim",
            "-q",
        ],
        1,
        &["infeasible", "does not fit"],
    );
}

// ----------------------------------------------------------------------------------- fleet

const FLEET: [&str; 12] = [
    "fleet",
    "--model",
    "llama-3.1-8b",
    "--demand",
    "2e9tok/day",
    "--duration",
    "5m",
    "--slo-ttft",
    "1s",
    "--slo-tpot",
    "30ms",
    "--max-seqs=128",
];

/// `simulate` with the fleet's replica, scheduler, peak rate and seed on `replicas` replicas.
fn simulate_peak(fleet: &Value, replicas: u64) -> Value {
    let rate = num(&fleet["demand"], "peak_rate_per_s").to_string();
    let seqs = num(fleet, "max_seqs").to_string();
    let tokens = num(fleet, "max_batched_tokens");
    let budget = tokens.to_string();
    let workspace = format!("max_batched_tokens={}", tokens.max(8192.0));
    let replicas = replicas.to_string();
    json(&[
        "simulate",
        "--model",
        "llama-3.1-8b",
        "--tp",
        "1",
        "--replicas",
        &replicas,
        "--rate",
        &rate,
        "--duration",
        "5m",
        "--max-seqs",
        &seqs,
        "--max-batched-tokens",
        &budget,
        "--param",
        &workspace,
        "--slo-ttft",
        "1s",
        "--slo-tpot",
        "30ms",
    ])
}

fn meets(sim: &Value) -> bool {
    let l = &sim["latency"];
    !sim["overloaded"].as_bool().unwrap_or(true)
        && num(&l["ttft_s"], "p99") <= 1.0
        && num(&l["tpot_s"], "p99") <= 0.030
}

#[test]
fn fleet_is_the_smallest_count_that_meets_the_targets_in_the_simulator() {
    let v = json(&FLEET);
    assert_eq!(v["schema_version"], "servemath.fleet/1");
    assert_eq!(v["feasible"], true);
    let f = &v["fleet"];
    let r = num(f, "replicas") as u64;
    assert!(r >= 2, "{f}");
    assert_eq!(f["peak"]["meets_slo"], true);
    assert_eq!(v["one_fewer"]["meets_slo"], false);
    assert_eq!(num(&v["one_fewer"], "replicas") as u64, r - 1);
    // Checked with `simulate` itself, on the same replica, scheduler, rate and seed.
    assert!(
        meets(&simulate_peak(&v, r)),
        "{r} replicas miss in simulate"
    );
    assert!(
        !meets(&simulate_peak(&v, r - 1)),
        "{} replicas meet in simulate",
        r - 1
    );
    // Hardware, power and money.
    assert_eq!(num(f, "gpus") as u64, r);
    assert!(num(f, "mw_provisioned") > num(f, "mw_at_meter"));
    assert!(num(f, "usd_per_year") > 0.0 && num(f, "usd_per_m_tokens") > 0.0);
    assert!(num(f, "mean_utilization") < num(f, "peak_utilization"));
    // The price of slack: fewer replicas at higher targets, never a better tail.
    let slack = rows(&v, "slack");
    assert_eq!(slack.len(), 3);
    for w in slack.windows(2) {
        let (a, b) = (&w[0]["fleet"], &w[1]["fleet"]);
        assert!(num(a, "replicas") >= num(b, "replicas"));
        assert!(num(&a["peak"], "ttft_p99_s") <= num(&b["peak"], "ttft_p99_s") + 1e-9);
    }
}

/// `check` on `fleet --model llama-3.1-8b --demand DEMAND --duration 2m EXTRA`, exiting `code`.
#[track_caller]
fn check_fleet(demand: &str, extra: &[&str], code: i32, expect: &[&str]) {
    let mut a = vec![
        "fleet",
        "--model",
        "llama-3.1-8b",
        "--demand",
        demand,
        "--duration",
        "2m",
        "-q",
    ];
    a.extend_from_slice(extra);
    check(&a, code, expect);
}

#[test]
fn fleet_refuses_zero_demand_and_reports_infeasible_targets() {
    // A demand that is not a positive amount per period is malformed: a usage error.
    check_fleet("0tok/day", &[], 2, &["zero demand"]);
    check_fleet("-5req/day", &[], 2, &["--demand"]);
    check_fleet("1e9 widgets/day", &[], 2, &["--demand", "tok"]);
    check_fleet("1e9tok/fortnight", &[], 2, &["fortnight"]);
    check_fleet("1e8tok/day", &["--profile", "1,2,3"], 1, &["--profile"]);
    check_fleet(
        "1e8tok/day",
        &["--utilization-targets", "1.5"],
        1,
        &["utilization"],
    );
    check_fleet(
        "1e8tok/day",
        &["--slo-tpot", "1ms"],
        1,
        &["infeasible", "closest miss", "p99 TPOT"],
    );
}

#[test]
fn fleet_reads_profiles_and_request_demands() {
    let flat = json(&[
        "fleet",
        "--model",
        "llama-3.1-8b",
        "--demand",
        "86400req/day",
        "--profile",
        "flat",
        "--duration",
        "2m",
        "--slo-tpot",
        "50ms",
    ]);
    let d = &flat["demand"];
    assert!((num(d, "mean_rate_per_s") - 1.0).abs() < 1e-12);
    assert!((num(d, "peak_rate_per_s") - 1.0).abs() < 1e-12);
    let custom: Vec<String> = (0..24)
        .map(|h| if h == 20 { "3" } else { "1" }.to_string())
        .collect();
    let custom = custom.join(",");
    let v = json(&[
        "fleet",
        "--model",
        "llama-3.1-8b",
        "--demand",
        "1req/s",
        "--profile",
        &custom,
        "--duration",
        "2m",
        "--slo-tpot",
        "50ms",
    ]);
    let d = &v["demand"];
    assert_eq!(d["peak_hour"], 20);
    // Peak multiplier 3 over a mean of 26/24.
    assert!((num(d, "peak_rate_per_s") - 3.0 * 24.0 / 26.0).abs() < 1e-9);
}

// ------------------------------------------------------------------------------ snapshots

fn quiet(args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.push("--quiet");
    servemath(&all)
}

#[test]
fn snapshot_search_and_fleet() {
    let mut args = vec!["search"];
    args.extend_from_slice(&SMALL);
    args.extend_from_slice(&["--max-gpus", "4", "--top", "5", "--requests", "300"]);
    insta::assert_snapshot!("search_llama_8b", quiet(&args).transcript());
    insta::assert_snapshot!("fleet_llama_8b", quiet(&FLEET).transcript());
}

/// Fleet sizing at the extremes of demand: ten requests a day is one replica (the simulated
/// peak is stretched to a sample with requests in it, not an empty window called a miss), and
/// 1e15 tokens a day is refused at once from the analytic count, naming the limit.
#[test]
fn fleet_sizes_tiny_and_refuses_absurd_demand() {
    let base = [
        "fleet",
        "-q",
        "--model",
        "llama-3.1-8b",
        "--tp",
        "1",
        "--slo-ttft",
        "2s",
        "--slo-tpot",
        "50ms",
        "--json",
    ];
    let mut tiny = base.to_vec();
    tiny.extend(["--demand", "10req/day"]);
    let run = servemath(&tiny);
    run.assert_ok();
    let text = run.stdout.clone();
    assert!(text.contains("\"replicas\": 1"), "{text}");
    let mut huge = base.to_vec();
    huge.extend(["--demand", "1e15tok/day"]);
    let run = servemath(&huge);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("above the limit of 4096"),
        "{}",
        run.stderr
    );
}

/// Every row of every list a report carries (the top, the best per machine, both fronts).
fn all_rows(v: &Value) -> Vec<Value> {
    ["top", "best_per_hardware", "pareto", "pareto_cost"]
        .iter()
        .flat_map(|k| rows(v, k))
        .collect()
}

#[test]
fn search_restrictions_hold_every_row() {
    // A user comparing with a BF16 deployment at TP1 or TP2, aggregated.
    let mut args = vec!["search"];
    args.extend_from_slice(&SMALL);
    args.extend_from_slice(&[
        "--max-gpus",
        "8",
        "--top",
        "3",
        "--requests",
        "200",
        "--weights",
        "bf16",
        "--kv",
        "bf16",
        "--tp",
        "1,2",
        "--no-disagg",
    ]);
    let v = json(&args);
    assert_eq!(v["restrict"]["weights"], serde_json::json!(["bf16"]));
    assert_eq!(v["restrict"]["tp"], serde_json::json!([1, 2]));
    let all = all_rows(&v);
    assert!(rows(&v, "top").len() == 3 && rows(&v, "pareto").len() >= 3);
    for r in &all {
        assert_eq!((&r["weights"], &r["kv"]), (&"bf16".into(), &"bf16".into()));
        assert_eq!(r["mode"], "aggregated", "{r}");
        assert!([1.0, 2.0].contains(&num(&r["layout"], "tp")), "{r}");
    }
    // Formats by class, layouts of both pools of a disaggregated unit, and the overlap of an
    // MoE model.
    let v = json(&[
        "search",
        "--model",
        "qwen3-30b-a3b",
        "--max-gpus",
        "8",
        "--no-sim",
        "--weights",
        "fp8-block128",
        "--kv",
        "fp8",
        "--pp",
        "1",
        "--ep",
        "2,4",
        "--tbo",
        "on",
    ]);
    let all = all_rows(&v);
    assert!(!all.is_empty());
    assert!(all.iter().any(|r| r["mode"] == "disaggregated"));
    for r in &all {
        assert_eq!((&r["weights"], &r["kv"]), (&"fp8".into(), &"fp8".into()));
        let pools = [&r["layout"], &r["prefill_layout"]];
        for l in pools.into_iter().filter(|l| !l.is_null()) {
            assert_eq!(l["pp"], 1, "{r}");
            assert!([2.0, 4.0].contains(&num(l, "ep")), "{r}");
            assert_eq!(l["two_batch_overlap"], true, "{r}");
        }
    }
}

#[test]
fn search_restrictions_refuse_bad_values_and_an_empty_space() {
    fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        [
            &["search", "--model", "llama-3.1-8b", "--no-sim", "-q"][..],
            extra,
        ]
        .concat()
    }
    // Malformed values: clap's usage errors, naming the flag and the value.
    check(
        &with(&["--weights", "fp7"]),
        2,
        &["--weights", "fp7", "fp8"],
    );
    check(&with(&["--kv", "bf16,fp5"]), 2, &["--kv", "fp5"]);
    check(&with(&["--tp", "0"]), 2, &["--tp", "'0'"]);
    check(&with(&["--tbo", "maybe"]), 2, &["--tbo", "maybe"]);
    // Well-formed values the space never enumerates: usage errors naming what it does.
    check(
        &with(&["--weights", "nvfp4"]),
        2,
        &["--weights nvfp4", "bf16, fp8"],
    );
    check(&with(&["--tp", "3"]), 2, &["--tp 3", "1, 2, 4, 8"]);
    check(&with(&["--tbo", "on"]), 2, &["--tbo on", "expert-parallel"]);
    check(
        &with(&["--max-gpus", "8", "--tp", "8", "--pp", "2"]),
        2,
        &["restrictions (tp 8; pp 2)", "leave nothing"],
    );
    // Each allowed and together allowed, but nothing fits: infeasible, naming them.
    check(
        &[
            "search",
            "--model",
            "llama-3.1-70b",
            "--no-sim",
            "-q",
            "--weights",
            "bf16",
            "--tp",
            "1",
            "--pp",
            "1",
        ],
        1,
        &["does not fit", "held to --weights bf16 --tp 1 --pp 1"],
    );
}

#[test]
fn search_simulates_a_sized_window_unless_told_or_given_less() {
    // 10 minutes at 80 % of a Llama-3.1-8B unit's capacity is tens of thousands of requests;
    // each candidate is simulated for a warm-up, at least 2,000 measured, and a cool-down.
    let base = [
        "search",
        "--model",
        "llama-3.1-8b",
        "--max-gpus",
        "2",
        "--top",
        "2",
        "--no-disagg",
    ];
    let v = json(&base);
    assert_eq!(v["simulation"]["measured_requests"], 2000);
    assert_eq!(v["simulation"]["sized"], 2);
    for r in rows(&v, "top") {
        let s = &r["simulated"];
        let (measured, completed) = (num(s, "measured"), num(s, "completed"));
        assert!(measured >= 2000.0 && measured < completed, "{s}");
    }
    // A window shorter than the sized one is simulated whole, every request measured.
    let v = json(&[&base[..], &["--requests", "300"]].concat());
    assert_eq!(v["simulation"]["sized"], 0);
    for r in rows(&v, "top") {
        let s = &r["simulated"];
        assert_eq!(s["measured"], s["completed"], "{s}");
        assert_eq!(s["completed"], 300, "{s}");
    }
    check(
        &[&base[..], &["--sim-requests", "50"]].concat(),
        2,
        &["--sim-requests", "50"],
    );
}
