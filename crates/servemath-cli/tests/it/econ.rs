//! `servemath cost`, `prices`, `lifecycle` and the $/Mtok columns of `estimate`: hand-derived
//! golden values through the whole CLI, monotonicity, bad inputs, and snapshots.

use super::{check, num, servemath, write_scratch};
use serde_json::Value;

/// Asserts `actual` is within `rel` of `golden`, printing both and the difference.
#[track_caller]
fn close(what: &str, golden: f64, actual: f64, rel: f64) {
    let diff = actual - golden;
    assert!(
        (diff / golden).abs() <= rel,
        "{what}: golden {golden}, actual {actual}, difference {diff}"
    );
}

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let run = servemath(&all);
    run.assert_ok();
    run.json()
}

/// Every H100 input pinned, so the golden values do not move with the data file.
const PINNED_H100: &str = r#"
mode = "owned"
capital_usd_per_gpu = 50000
amortization_years = 5
cost_of_capital = 0.11
tdp_w = 700
server_power_over_tdp = 1.82
idle_power_fraction = 0.3
pue = 1.3
ppa_usd_per_mwh = 112.5
ppa_share = 1.0
facility_usd_per_kw_month = 184.06
gpus_per_rack = 32
"#;

#[test]
fn cost_golden_owned_h100() {
    // Capital $50,000 over 5 years at 11 %: annuity 50000·0.11/(1 − 1.11^−5) = $13,528.5 a
    // year: depreciation $1.14155/h, financing 13528.5/8760 − 1.14155 = $0.40280/h.
    // Power at u = 1: 700 W · 1.82 · 1 · 1.3 = 1656.2 W at $112.5/MWh = $0.18632/h.
    // Facility: 1.274 kW · $184.06 · 12 / 8760 = $0.32122/h. Total $2.05190/h;
    // 1e6 / 1656.2 = 603.79 GPUs per MW.
    let file = write_scratch("pinned_h100.toml", PINNED_H100);
    let path = file.display().to_string();
    let v = json(&["cost", "--costs", &path, "--utilization", "1"]);
    assert_eq!(v["schema_version"], "servemath.cost/1");
    assert_eq!(v["mode"], "owned");
    let g = &v["gpu_hour"];
    close("capital", 1.141_553, num(g, "capital_usd"), 1e-5);
    close("financing", 0.402_799, num(g, "financing_usd"), 1e-5);
    close("power", 0.186_323, num(g, "power_usd"), 1e-5);
    close("facility", 0.321_223, num(g, "facility_usd"), 1e-5);
    close("total", 2.051_896, num(g, "total_usd"), 1e-5);
    close(
        "gpus per MW",
        603.792,
        num(&v["scale"], "gpus_per_mw"),
        1e-5,
    );
    close(
        "rack hour",
        2.051_896 * 32.0,
        num(&v["scale"], "usd_per_rack_hour"),
        1e-5,
    );
    // The override is named as the source.
    let inputs = v["inputs"].as_array().cloned().unwrap_or_default();
    let cap = inputs.iter().find(|i| i["name"] == "capital_usd_per_gpu");
    assert_eq!(cap.map(|c| c["source"].clone()), Some(Value::from(path)));
}

#[test]
fn cost_rental_uses_the_catalog_price_and_prepay_financing() {
    // h100-sxm's catalog rental price $3.49; 25 % of a 4-year contract prepaid at 11 %:
    // 3.49 · 0.25 · 0.11 · 4 / 2 = $0.191950/h.
    let v = json(&[
        "cost",
        "--cost",
        "prepaid_fraction=0.25",
        "--cost",
        "cost_of_capital=0.11",
        "--cost",
        "contract_years=4",
    ]);
    let g = &v["gpu_hour"];
    close("rental", 3.49, num(g, "rental_usd"), 1e-12);
    close("financing", 0.191_95, num(g, "financing_usd"), 1e-9);
    close(
        "busy hour",
        (3.49 + 0.191_95) / 0.7,
        num(g, "usd_per_busy_gpu_hour"),
        1e-9,
    );
}

#[test]
fn cost_runs_on_every_hardware_entry_that_has_a_price() {
    let list = json(&["hardware"]);
    let entries = list["hardware"].as_array().cloned().unwrap_or_default();
    assert!(!entries.is_empty(), "{list}");
    for e in entries {
        let id = e["id"].as_str().unwrap_or_default().to_string();
        let run = servemath(&["cost", "--hardware", &id, "--json"]);
        if run.code == 0 {
            let v = run.json();
            assert!(num(&v["gpu_hour"], "total_usd") > 0.0, "{id}: {v}");
        } else {
            // Refused only for want of a public price, and saying how to set one.
            assert!(run.stderr.contains("--cost"), "{id}:\n{}", run.transcript());
        }
    }
}

/// Dollars per busy GPU-hour, owned, at `u`, with `extra` flags.
fn busy_hour(u: &str, extra: &[&str]) -> f64 {
    let mut args = vec!["cost", "--mode", "owned", "--utilization", u];
    args.extend_from_slice(extra);
    num(&json(&args)["gpu_hour"], "usd_per_busy_gpu_hour")
}

#[test]
fn more_utilization_never_raises_cost_and_dearer_power_never_lowers_it() {
    let mut last = f64::INFINITY;
    for u in ["0.1", "0.3", "0.5", "0.7", "0.9", "1"] {
        let c = busy_hour(u, &[]);
        assert!(c <= last, "utilization {u}: {c} > {last}");
        last = c;
    }
    let cheap = busy_hour("0.7", &["--cost", "ppa_usd_per_mwh=50"]);
    let dear = busy_hour("0.7", &["--cost", "ppa_usd_per_mwh=200"]);
    assert!(dear > cheap, "{dear} <= {cheap}");
    // All energy at spot instead of the (dearer) agreement is cheaper.
    let spot = busy_hour("0.7", &["--cost", "ppa_share=0"]);
    assert!(spot < busy_hour("0.7", &[]));
}

#[test]
fn estimate_prices_each_batch_from_its_own_step_times() {
    // $/Mtok in = price · gpus · (ttft / (batch · input)) / 3600 / u · 1e6, and out the same
    // with tpot / batch, at the catalog's $3.49 on 4 GPUs and u = 0.7.
    let v = json(&["estimate", "--tp", "4", "--batch", "1,64"]);
    assert_eq!(v["token_cost"]["mode"], "rental");
    close(
        "price",
        3.49,
        num(&v["token_cost"], "usd_per_gpu_hour"),
        1e-12,
    );
    let per_s = 3.49 * 4.0 / 3600.0 / 0.7;
    for b in v["batches"].as_array().cloned().unwrap_or_default() {
        let batch = num(&b, "batch");
        let c = &b["usd_per_mtok"];
        let input = per_s * num(&b, "ttft_s") / (batch * 2048.0) * 1e6;
        let output = per_s * num(&b, "tpot_s") / batch * 1e6;
        close("input", input, num(c, "input_usd_per_mtok"), 1e-9);
        close("output", output, num(c, "output_usd_per_mtok"), 1e-9);
        close("ratio", output / input, num(c, "output_over_input"), 1e-9);
    }
    // Busier GPUs make every token cheaper.
    let busy = json(&[
        "estimate",
        "--tp",
        "4",
        "--batch",
        "64",
        "--utilization",
        "0.95",
    ]);
    let idle = json(&[
        "estimate",
        "--tp",
        "4",
        "--batch",
        "64",
        "--utilization",
        "0.5",
    ]);
    let out = |v: &Value| num(&v["batches"][0]["usd_per_mtok"], "output_usd_per_mtok");
    assert!(out(&busy) < out(&idle));
}

#[test]
fn estimate_without_a_price_drops_the_columns_with_a_warning() {
    let run = servemath(&["estimate", "--hardware", "h800", "--tp", "4", "--json"]);
    run.assert_ok();
    assert!(
        run.stderr.contains("no $/Mtok columns"),
        "{}",
        run.transcript()
    );
    assert_eq!(run.json()["token_cost"], Value::Null);
}

#[test]
fn prices_set_the_list_beside_the_cost_model() {
    let v = json(&["prices", "--tp", "4"]);
    assert_eq!(v["schema_version"], "servemath.prices/1");
    let rows = v["prices"].as_array().cloned().unwrap_or_default();
    assert!(rows.len() >= 8, "{v}");
    for r in &rows {
        assert!(!r["source"].as_str().unwrap_or_default().is_empty(), "{r}");
        close(
            "out/in",
            num(r, "output_usd_per_mtok") / num(r, "input_usd_per_mtok"),
            num(r, "output_over_input"),
            1e-12,
        );
    }
    let m = &v["model"];
    // Claim 13: decode at a realistic batch costs several times prefill per token.
    let ratio = num(m, "output_over_input");
    assert!((2.0..20.0).contains(&ratio), "{m}");
    // A cached token skips prefill: it costs a small fraction of a computed one.
    let cached = num(m, "cached_over_uncached");
    assert!(cached > 0.0 && cached < 0.2, "{m}");
    // Claim 14: the KV crossover exists for a full-attention model, and a bigger batch moves
    // it to shorter contexts.
    assert!(num(m, "kv_crossover_tokens") < num(m, "kv_crossover_tokens_batch1"));
    assert!(!m["long_context"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .is_empty());
    assert!(m["readings"].as_array().is_some_and(|r| r.len() >= 3));
}

#[test]
fn prices_reads_a_user_list_and_refuses_bad_ones() {
    let good = write_scratch(
        "prices_good.toml",
        r#"
[[price]]
provider = "Acme"
model = "m1"
input_usd_per_mtok = 1
output_usd_per_mtok = 4
cached_input_usd_per_mtok = 0.25
source = "invented for a test"
date = "2026-01-01"
confirmed = false
"#,
    );
    let g = good.display().to_string();
    let v = json(&["prices", "--tp", "4", "--prices", &g]);
    assert_eq!(v["prices"].as_array().map(Vec::len), Some(1));
    close(
        "cached",
        0.25,
        num(&v["prices"][0], "cached_over_uncached"),
        1e-12,
    );
    let bad = write_scratch(
        "prices_bad.toml",
        &std::fs::read_to_string(&good)
            .unwrap_or_default()
            .replace("output_usd_per_mtok = 4", "output_usd_per_mtok = -4"),
    );
    check(
        &[
            "prices",
            "--tp",
            "4",
            "--prices",
            &bad.display().to_string(),
        ],
        1,
        &["Acme m1", "`output_usd_per_mtok` = -4", "non-negative"],
    );
    check(
        &["prices", "--provider", "nobody"],
        1,
        &["matches no entry", "Anthropic"],
    );
}

#[test]
fn lifecycle_reproduces_claim_16_and_its_what_ifs() {
    // Defaults: dense 400 B, D = 20·N = 8 T tokens, I = 2.4e15, equal MFU. Pre-training
    // equals inference at D = I/3 = 8e14 = 100 × 20·N.
    let v = json(&["lifecycle", "--pruned", "0.1", "--sparse-active-b", "40"]);
    assert_eq!(v["schema_version"], "servemath.lifecycle/1");
    let l = &v["lifecycle"];
    close("pretrain flop", 1.92e25, num(&l["pretrain"], "flop"), 1e-12);
    close(
        "inference flop",
        1.92e27,
        num(&l["inference"], "flop"),
        1e-12,
    );
    close("equal multiple", 100.0, num(l, "equal_multiple"), 1e-12);
    // Claim 17: pruning to 10 % cuts inference 10×; a sparse model at 40 B of 400 B active
    // cuts both 10×.
    let w = v["what_ifs"].as_array().cloned().unwrap_or_default();
    close("pruned", 10.0, num(&w[0], "inference_saving"), 1e-12);
    close("sparse", 10.0, num(&w[1], "total_saving"), 1e-12);
    // The cheaper model at equal quality is smaller and trained far beyond Chinchilla.
    let o = &v["optimum"];
    assert!(
        num(o, "params") < 400e9 && num(o, "chinchilla_multiple") > 10.0,
        "{o}"
    );
    // Ten times the inference moves the balance ten times.
    let ten = json(&["lifecycle", "--inference-tokens", "24P"]);
    close(
        "10x",
        1000.0,
        num(&ten["lifecycle"], "equal_multiple"),
        1e-12,
    );
    let m = json(&["lifecycle", "--multiple", "100"]);
    close(
        "multiple flag",
        100.0,
        num(&m["lifecycle"], "chinchilla_multiple"),
        1e-12,
    );
}

#[test]
fn bad_economic_inputs_name_the_field_and_value() {
    check(
        &["cost", "--cost", "rental_usd_per_gpu_hour=-2"],
        1,
        &["`rental_usd_per_gpu_hour` = -2", "must not be negative"],
    );
    check(
        &["cost", "--utilization", "0"],
        1,
        &["`utilization` = 0", "[0.001, 1]"],
    );
    check(
        &["estimate", "--utilization", "1.5"],
        1,
        &["`utilization` = 1.5"],
    );
    check(
        &["cost", "--hardware", "h1000"],
        1,
        &["unknown hardware `h1000`"],
    );
    check(
        &["cost", "--cost", "ppa_usd_per_mhw=50"],
        1,
        &[
            "unknown cost input `ppa_usd_per_mhw`",
            "did you mean `ppa_usd_per_mwh`",
        ],
    );
    check(&["cost", "--cost", "pue"], 2, &["expected NAME=VALUE"]);
    check(
        &["cost", "--cost", "pue=high"],
        2,
        &["`high` is not a number"],
    );
    check(
        &["cost", "--hardware", "tpu-v6e", "--mode", "owned"],
        1,
        &[
            "tpu-v6e: no `capital_usd_per_gpu`",
            "--cost capital_usd_per_gpu=VALUE",
        ],
    );
    // A value outside its flag's range is a usage error, as clap's own range checks are.
    check(
        &["lifecycle", "--pruned", "0"],
        2,
        &["--pruned = 0", "(0, 1]"],
    );
    check(
        &["lifecycle", "--params-b=-5"],
        2,
        &["--params-b = -5", "must be positive"],
    );
    check(
        &["lifecycle", "--inference-tokens", "lots"],
        2,
        &["`lots` is not a number"],
    );
    check(
        &["prices", "--tp", "4", "--cached-fraction", "1"],
        2,
        &["cached fraction = 1"],
    );
    let costs = write_scratch("bad_costs.toml", "pue = 0.5\n");
    check(
        &["cost", "--costs", &costs.display().to_string()],
        1,
        &["bad_costs.toml", "`pue` = 0.5", "[1, 3]"],
    );
}

#[test]
fn snapshot_economics() {
    insta::assert_snapshot!("cost_default", servemath(&["cost"]).transcript());
    insta::assert_snapshot!(
        "cost_gb200_owned",
        servemath(&[
            "cost",
            "--hardware",
            "gb200-nvl72",
            "--mode",
            "owned",
            "--utilization",
            "0.9"
        ])
        .transcript()
    );
    insta::assert_snapshot!("prices_default", servemath(&["prices"]).transcript());
    insta::assert_snapshot!(
        "lifecycle_default",
        servemath(&["lifecycle", "--pruned", "0.1", "--sparse-active-b", "40"]).transcript()
    );
}

/// A `--tp` given is the layout used: `fleet` and `prices` keep `--tp 1` (and say which degree
/// would fit when it does not) instead of silently choosing another; without `--tp` they pick
/// the smallest that fits and say so.
#[test]
fn fleet_and_prices_keep_the_tp_given() {
    // Llama-3.1-70B in BF16 is 141 GB: one H100 cannot hold it, TP4 can.
    for cmd in [
        &["fleet", "--demand", "1e7tok/day", "--duration", "2m"][..],
        &["prices"][..],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--model", "llama-3.1-70b", "--tp", "1"]);
        let run = servemath(&args);
        assert_ne!(run.code, 0, "{args:?}");
        assert!(
            run.stderr.contains("--tp 4") || run.stderr.contains("TP4 would"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("give --tp"),
            "{args:?}: {}",
            run.stderr
        );
    }
    // Without --tp, prices prices TP4 and says so.
    let run = servemath(&["prices", "--model", "llama-3.1-70b", "--json"]);
    run.assert_ok();
    assert!(run.stderr.contains("priced at TP4"), "{}", run.stderr);
    // A --tp that fits is used as given: TP8 for the 8B model.
    let run = servemath(&["prices", "--model", "llama-3.1-8b", "--tp", "8", "--json"]);
    run.assert_ok();
    assert!(!run.stderr.contains("priced at"), "{}", run.stderr);
}

/// `prices --input 1` (no prompt to split into cached and new tokens) is a usage error, not a
/// panic; `--input 2` is the smallest prompt it prices.
#[test]
fn prices_refuses_a_one_token_prompt() {
    let run = servemath(&["prices", "--input", "1"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("input tokens = 1"), "{}", run.stderr);
    servemath(&["prices", "--input", "2", "--json"]).assert_ok();
}

/// `fleet` treats a bad cost input as `estimate`, `search` and `cost` do (exit 1, naming it),
/// and `--max-seqs 0` as `simulate` does (a usage error), instead of warning or rounding.
#[test]
fn fleet_refuses_bad_cost_inputs_and_zero_sequences() {
    let base = [
        "fleet",
        "-q",
        "--model",
        "llama-3.1-8b",
        "--tp",
        "1",
        "--demand",
        "1e8tok/day",
        "--slo-ttft",
        "2s",
    ];
    let mut pue = base.to_vec();
    pue.extend(["--cost", "pue=0"]);
    let run = servemath(&pue);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("pue"), "{}", run.stderr);
    let mut zero = base.to_vec();
    zero.extend(["--max-seqs", "0"]);
    let run = servemath(&zero);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("--max-seqs"), "{}", run.stderr);
}
