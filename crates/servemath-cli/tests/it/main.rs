//! The one integration-test binary of the CLI: whole runs of `servemath` on the built-in
//! models, the hardware catalog and the shipped configs, bad inputs, and insta snapshots of
//! complete runs (stdout, stderr, exit code).

mod econ;
mod fuzz_regressions;
mod search;
mod simulate;

use clap::CommandFactory;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One finished run of the binary.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The whole run as one text, for snapshots.
    fn transcript(&self) -> String {
        format!(
            "exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn json(&self) -> Value {
        match serde_json::from_str(&self.stdout) {
            Ok(v) => v,
            Err(e) => panic!("stdout is not JSON ({e}):\n{}", self.transcript()),
        }
    }

    #[track_caller]
    fn assert_ok(&self) -> &Run {
        assert_eq!(self.code, 0, "{}", self.transcript());
        assert!(
            self.stderr.is_empty() || !self.stderr.contains("error"),
            "{}",
            self.transcript()
        );
        self
    }
}

/// Runs `servemath` with `args` in `dir` (the scratch directory unless told otherwise).
fn servemath_in(dir: &Path, args: &[&str]) -> Run {
    let out = assert_cmd::cargo::cargo_bin_cmd!("servemath")
        .args(args)
        .current_dir(dir)
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!("cannot run servemath {args:?}: {e}"),
    };
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "servemath {args:?} panicked:\n{}",
        run.transcript()
    );
    run
}

fn servemath(args: &[&str]) -> Run {
    servemath_in(&scratch(), args)
}

/// A per-test-binary scratch directory under `target/`.
fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// The task's model configs, `../shared/models` beside the workspace; in a clone without it,
/// the byte-identical copies the model crate embeds.
fn shared_models() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = root.join("../shared/models");
    if shared.is_dir() {
        shared
    } else {
        root.join("crates/servemath-model/configs")
    }
}

fn write_scratch(name: &str, text: &str) -> PathBuf {
    let path = scratch().join(name);
    if let Err(e) = std::fs::write(&path, text) {
        panic!("cannot write {}: {e}", path.display());
    }
    path
}

fn num(v: &Value, key: &str) -> f64 {
    match v.get(key).and_then(Value::as_f64) {
        Some(x) => x,
        None => panic!("`{key}` is not a number in {v}"),
    }
}

// ---------------------------------------------------------------------------------- clap

#[test]
fn clap_definition_is_consistent() {
    servemath_cli::Cli::command().debug_assert();
}

#[test]
fn help_names_every_cost_parameter() {
    let run = servemath(&["estimate", "--help"]);
    run.assert_ok();
    for p in servemath_cost::PARAM_DOCS {
        assert!(
            run.stdout.contains(p.name),
            "`--param` help lacks {}",
            p.name
        );
    }
}

#[test]
fn metrics_doc_defines_every_cost_parameter() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/metrics.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    for p in servemath_cost::PARAM_DOCS {
        assert!(
            doc.contains(&format!("`{}`", p.name)),
            "{} lacks {}",
            path.display(),
            p.name
        );
    }
}

// ------------------------------------------------------------------------------ snapshots

#[test]
fn snapshot_default_run() {
    insta::assert_snapshot!("default_run", servemath(&[]).transcript());
}

#[test]
fn snapshot_models() {
    insta::assert_snapshot!("models", servemath(&["models"]).transcript());
}

#[test]
fn snapshot_hardware_list() {
    insta::assert_snapshot!("hardware", servemath(&["hardware"]).transcript());
}

#[test]
fn snapshot_model_llama_70b() {
    insta::assert_snapshot!(
        "model_llama_70b",
        servemath(&["model", "llama-3.1-70b"]).transcript()
    );
}

#[test]
fn snapshot_estimate_deepseek() {
    let run = servemath(&[
        "estimate",
        "--model",
        "deepseek-v3",
        "--hardware",
        "h200",
        "--tp",
        "8",
        "--ep",
        "8",
        "--batch",
        "1,16,256",
    ]);
    insta::assert_snapshot!("estimate_deepseek_h200", run.transcript());
}

#[test]
fn snapshot_errors() {
    insta::assert_snapshot!(
        "error_unknown_model",
        servemath(&["model", "lama-3.1-70b"]).transcript()
    );
    insta::assert_snapshot!("error_does_not_fit", servemath(&["estimate"]).transcript());
}

// ------------------------------------------------------------------ every built-in model

#[test]
fn every_builtin_model_has_a_json_report() {
    for m in servemath_model::builtin_models() {
        let run = servemath(&["model", m.name, "--json"]);
        run.assert_ok();
        let v = run.json();
        assert_eq!(v["schema_version"], "servemath.model/1", "{}", m.name);
        assert_eq!(v["name"], m.name);
        let total = num(&v, "total_params");
        let active = num(&v, "active_params");
        assert!(
            total > 1e8 && active > 0.0 && active <= total,
            "{}: {total} {active}",
            m.name
        );
        assert!(num(&v, "weight_bytes") > 0.0, "{}", m.name);
        assert!(num(&v, "kv_bytes_per_token") > 0.0, "{}", m.name);
        assert_eq!(v["params"]["total"].as_f64(), Some(total), "{}", m.name);
        // The human view of the same model runs too.
        servemath(&["model", m.name]).assert_ok();
    }
}

/// Every built-in that copies a reference-set config loads from that file by path: the set is
/// selected by name through the built-in list (the model crate's test pins which files those
/// are), so a new file in `shared/models` cannot fail this test.
#[test]
fn the_builtin_reference_configs_load_by_path() {
    let dir = shared_models();
    let mut seen = 0;
    for m in servemath_model::builtin_models() {
        let path = dir.join(m.file);
        if !path.is_file() {
            continue;
        }
        let p = path.display().to_string();
        let run = servemath(&["model", &p, "--json"]);
        run.assert_ok();
        assert!(num(&run.json(), "total_params") > 1e8, "{p}");
        seen += 1;
    }
    assert!(
        seen >= 16,
        "only {seen} of the built-ins' files in {}",
        dir.display()
    );
}

/// The reference set as the issue lists it (files and snapshot folders), named so that a new
/// entry cannot fail the suite before it is supported.
const REFERENCE_SET: &[&str] = &[
    "MiniMaxAI--MiniMax-M2.7.json",
    "Qwen--Qwen3-0.6B.json",
    "Qwen--Qwen3-235B-A22B.json",
    "Qwen--Qwen3-30B-A3B.json",
    "Qwen--Qwen3-32B.json",
    "Qwen--Qwen3-8B.json",
    "Qwen--Qwen3-VL-30B-A3B-Instruct.json",
    "Qwen--Qwen3-VL-8B-Instruct.json",
    "Qwen--Qwen3.5-35B-A3B.json",
    "XiaomiMiMo--MiMo-7B-Base.json",
    "deepseek-ai--DeepSeek-R1.json",
    "deepseek-ai--DeepSeek-V3.json",
    "deepseek-ai--DeepSeek-V4-Flash.json",
    "meta-llama--Llama-4-Scout-17B-16E-Instruct.json",
    "meta-llama--Meta-Llama-3.1-405B.json",
    "meta-llama--Meta-Llama-3.1-70B.json",
    "meta-llama--Meta-Llama-3.1-8B.json",
    "mistralai--Mixtral-8x22B-v0.1.json",
    "mistralai--Mixtral-8x7B-v0.1.json",
    "moonshotai--Kimi-K2.5.json",
    "nvidia--DeepSeek-V3.2-NVFP4",
    "nvidia--Gemma-4-31B-IT-NVFP4",
    "nvidia--Llama-3.1-70B-Instruct-FP8.json",
    "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.json",
    "nvidia--Qwen3-235B-A22B-NVFP4",
    "openai--gpt-oss-120b.json",
    "openai--gpt-oss-20b.json",
    "zai-org--GLM-5.1.json",
];

/// Every reference config, file or snapshot folder, gives `servemath model` its layer pattern,
/// parameters, weights per format, KV bytes per token and state bytes per sequence.
#[test]
fn every_reference_config_gives_its_model_report() {
    let dir = shared_models();
    let mut seen = 0;
    for entry in REFERENCE_SET {
        let path = dir.join(entry);
        if !path.exists() {
            // The clone-only fallback holds the built-ins' copies, not every entry.
            continue;
        }
        let p = path.display().to_string();
        let run = servemath(&["model", &p, "--json"]);
        run.assert_ok();
        let v = run.json();
        assert!(
            !v["groups"].as_array().is_none_or(Vec::is_empty),
            "{p}: no layers"
        );
        let (total, active) = (num(&v, "total_params"), num(&v, "active_params"));
        assert!(total > 1e8 && active > 1e8 && active <= total, "{p}");
        let formats = v["weight_bytes_by_format"]
            .as_array()
            .unwrap_or_else(|| panic!("{p}: no weight_bytes_by_format"));
        assert!(formats.len() >= 4, "{p}: {formats:?}");
        // Every model here attends somewhere; the hybrids also hold a fixed state.
        assert!(num(&v, "kv_bytes_per_token") > 0.0, "{p}");
        let state = num(&v, "state_bytes_per_sequence");
        let hybrid = entry.contains("Qwen3.5") || entry.contains("Nemotron-3");
        assert_eq!(state > 0.0, hybrid, "{p}: state {state}");
        // The human report shows the same.
        let text = servemath(&["model", &p]).stdout;
        for line in ["stack", "parameters", "weights", "kv cache"] {
            assert!(text.contains(line), "{p}: no `{line}` line");
        }
        seen += 1;
    }
    assert!(
        seen >= 24,
        "only {seen} reference configs in {}",
        dir.display()
    );
}

#[test]
fn estimate_takes_a_config_path() {
    let path = shared_models().join("meta-llama--Meta-Llama-3.1-8B.json");
    let p = path.display().to_string();
    let run = servemath(&["estimate", "--model", &p, "--batch", "1,64", "--json"]);
    run.assert_ok();
    let v = run.json();
    assert_eq!(v["model"]["name"], "meta-llama--Meta-Llama-3.1-8B");
    assert_eq!(v["batches"].as_array().map(Vec::len), Some(2));
}

// ----------------------------------------------------------------- every hardware entry

#[test]
fn every_hardware_entry_has_a_json_report() {
    let catalog = servemath_hardware::Catalog::builtin();
    for h in catalog.entries() {
        let run = servemath(&["hardware", &h.id, "--json"]);
        run.assert_ok();
        let v = run.json();
        assert_eq!(v["schema_version"], "servemath.hardware/1");
        assert_eq!(v["id"], h.id.as_str());
        assert!(
            num(&v, "hbm_bytes") > 1e9 && num(&v, "hbm_bytes_per_s") > 1e11,
            "{}",
            h.id
        );
        servemath(&["hardware", &h.id]).assert_ok();
    }
    let list = servemath(&["hardware", "--json"]);
    list.assert_ok();
    let n = list.json()["hardware"].as_array().map(Vec::len);
    assert_eq!(n, Some(catalog.entries().len()));
}

/// Every built-in model on every catalog entry, in process: either an estimate or an error
/// that says why (a layout that does not divide, a model that does not fit), never a panic.
#[test]
fn estimate_runs_on_every_model_and_hardware_pair() {
    use clap::Parser;
    let catalog = servemath_hardware::Catalog::builtin();
    for m in servemath_model::builtin_models() {
        for h in catalog.entries() {
            let tp = h.scale_up_domain.min(8).to_string();
            let args = [
                "servemath",
                "estimate",
                "--model",
                m.name,
                "--hardware",
                &h.id,
                "--tp",
                &tp,
                "--batch",
                "1,64",
                "--json",
            ];
            let cli = match servemath_cli::Cli::try_parse_from(args) {
                Ok(c) => c,
                Err(e) => panic!("{args:?}: {e}"),
            };
            let mut out = Vec::new();
            match servemath_cli::run(cli, &mut out) {
                Ok(()) => {
                    let v: Value = match serde_json::from_slice(&out) {
                        Ok(v) => v,
                        Err(e) => panic!("{args:?}: {e}"),
                    };
                    for b in v["batches"].as_array().into_iter().flatten() {
                        let tpot = num(b, "tpot_s");
                        assert!(tpot.is_finite() && tpot > 0.0, "{args:?}: {b}");
                    }
                }
                Err(e) => assert!(!format!("{e:#}").is_empty(), "{args:?}"),
            }
        }
    }
}

// ------------------------------------------------------------------------------ estimate

#[test]
fn estimate_json_has_every_figure_per_batch() {
    let run = servemath(&[
        "estimate",
        "--model",
        "llama-3.1-70b",
        "--tp",
        "4",
        "--batch",
        "1,8,32,128,512",
        "--json",
    ]);
    run.assert_ok();
    let v = run.json();
    assert_eq!(v["schema_version"], "servemath.estimate/2");
    assert!(num(&v, "floor_s") > 0.0);
    assert!(num(&v, "balance_batch") > 1.0);
    let batches = v["batches"].as_array().cloned().unwrap_or_default();
    assert_eq!(batches.len(), 5);
    for key in [
        "ttft_s",
        "tpot_s",
        "e2e_s",
        "tokens_per_s_per_user",
        "output_tokens_per_s_per_gpu",
        "mfu",
        "mbu",
        "kv_bytes_per_gpu",
    ] {
        for b in &batches {
            assert!(num(b, key) >= 0.0, "{key}");
        }
    }
    // Every step carries its kernel classes, and the hardware its confidence and rate sources.
    assert_eq!(v["hardware"]["confidence"], "measured");
    let classes = batches[0]["decode"]["kernels"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(classes.len(), 7);
    let total: f64 = classes.iter().map(|c| num(c, "time_s")).sum();
    // The classes add up to the step (with the host hidden behind the GPU).
    assert!(
        (total - num(&batches[0]["decode"], "time_s")).abs() < 1e-9,
        "{total}"
    );
    assert!(v["hardware"]["kernel_rates"].as_array().is_some_and(|r| r
        .iter()
        .any(|x| x["source"]
            .as_str()
            .is_some_and(|s| s.contains("aiconfigurator")))));
    // Batch 512 at context 2,304 overflows four H100s' KV budget; batch 1 fits.
    assert_eq!(batches[0]["fits"], true);
    assert_eq!(batches[4]["fits"], false);
    assert!(batches[4]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("KV cache")));
}

#[test]
fn estimate_on_a_few_pairs() {
    for args in [
        &[
            "estimate",
            "--model",
            "llama-3.1-8b",
            "--hardware",
            "a100-sxm",
        ][..],
        &[
            "estimate",
            "--model",
            "mixtral-8x7b",
            "--hardware",
            "mi300x",
            "--batch",
            "1,32",
        ],
        &[
            "estimate",
            "--model",
            "gpt-oss-120b",
            "--hardware",
            "h100-sxm",
            "--input",
            "8192",
        ],
        &[
            "estimate",
            "--model",
            "qwen3-235b-a22b",
            "--hardware",
            "b200",
            "--tp",
            "4",
            "--ep",
            "4",
        ],
        &[
            "estimate",
            "--model",
            "deepseek-v3",
            "--hardware",
            "gb200-nvl72",
            "--tp",
            "8",
            "--dp-attn",
            "4",
            "--ep",
            "32",
        ],
        &[
            "estimate",
            "--model",
            "llama-3.1-70b",
            "--tp",
            "4",
            "--weights",
            "fp8",
            "--kv",
            "fp8",
        ],
        &[
            "estimate",
            "--model",
            "llama-3.1-405b",
            "--hardware",
            "h100-sxm",
            "--tp",
            "8",
            "--pp",
            "2",
        ],
    ] {
        let run = servemath(args);
        run.assert_ok();
        assert!(
            run.stdout.contains("TPOT") && run.stdout.contains("B*"),
            "{}",
            run.transcript()
        );
    }
}

#[test]
fn fp8_weights_halve_the_weights_and_nearly_halve_the_floor() {
    let run = |extra: &[&str]| {
        let mut args = vec!["estimate", "--tp", "4", "--batch", "1", "--json"];
        args.extend_from_slice(extra);
        let run = servemath(&args);
        run.assert_ok();
        let v = run.json();
        (num(&v, "floor_s"), num(&v, "weight_bytes_per_gpu"))
    };
    let ((f8, w8), (f16, w16)) = (run(&["--weights", "fp8"]), run(&[]));
    // Linear layers halve; the BF16 embedding and head stay (2.1 of 141 GB on 70B).
    assert!(
        (w8 / w16 - 0.5).abs() < 0.02,
        "fp8/bf16 weights {}",
        w8 / w16
    );
    // The floor streams the weights at each format's measured GEMM bandwidth (H100:
    // 0.794 of HBM for BF16, 0.679 for FP8): 0.5 · 0.794/0.679 = 0.58.
    let ratio = f8 / f16;
    assert!((0.5..0.62).contains(&ratio), "fp8/bf16 floor ratio {ratio}");
}

#[test]
fn plots_are_written_as_svg_and_png() {
    for (file, magic) in [("plot.svg", &b"<svg"[..]), ("plot.png", &b"\x89PNG"[..])] {
        let path = scratch().join(file);
        let _ = std::fs::remove_file(&path);
        let p = path.display().to_string();
        let run = servemath(&["estimate", "--tp", "4", "--plot", &p]);
        run.assert_ok();
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(bytes.starts_with(magic), "{file}: {} bytes", bytes.len());
    }
    // The title names the precisions, so an FP8 and a BF16 plot differ by title.
    let path = scratch().join("fp8.svg");
    let p = path.display().to_string();
    servemath(&[
        "estimate",
        "--tp",
        "4",
        "--weights",
        "fp8",
        "--kv",
        "fp8",
        "--plot",
        &p,
    ])
    .assert_ok();
    let svg = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        svg.contains("weights fp8") && svg.contains("KV fp8"),
        "title"
    );
}

#[test]
fn params_file_and_flags_override_the_calibration() {
    let file = write_scratch("params.toml", "memory_efficiency = 0.5\n");
    let f = file.display().to_string();
    // MI300X has no measured kernel tables, so its GEMMs stream at `memory_efficiency`.
    let floor = |args: &[&str]| {
        let mut all = vec![
            "estimate",
            "--hardware",
            "mi300x",
            "--tp",
            "4",
            "--batch",
            "1",
            "--json",
        ];
        all.extend_from_slice(args);
        let run = servemath(&all);
        run.assert_ok();
        let v = run.json();
        (num(&v, "floor_s"), num(&v["params"], "memory_efficiency"))
    };
    let (base, _) = floor(&[]);
    let (from_file, eff) = floor(&["--params", &f]);
    assert!((eff - 0.5).abs() < 1e-12);
    assert!(from_file > base * 1.2, "{from_file} vs {base}");
    let (_, eff) = floor(&["--params", &f, "--param", "memory_efficiency=0.9"]);
    assert!((eff - 0.9).abs() < 1e-12, "--param must win over --params");
}

#[test]
fn hardware_file_overrides_an_entry() {
    let file = write_scratch(
        "hw.toml",
        "[[hardware]]\nid = \"h100-sxm\"\nhbm_bytes_per_s = 6.7e12\n",
    );
    let f = file.display().to_string();
    let run = servemath(&["hardware", "h100-sxm", "--json", "--hardware-file", &f]);
    run.assert_ok();
    assert!((num(&run.json(), "hbm_bytes_per_s") - 6.7e12).abs() < 1.0);
}

// ---------------------------------------------------------------------------- bad inputs

/// Runs `args` and checks the exit code and that stderr says `expect` (every word of it).
#[track_caller]
fn check(args: &[&str], code: i32, expect: &[&str]) {
    let run = servemath(args);
    assert_eq!(run.code, code, "{args:?}\n{}", run.transcript());
    for want in expect {
        assert!(
            run.stderr.contains(want),
            "{args:?}: stderr lacks `{want}`\n{}",
            run.transcript()
        );
    }
    if code == 1 {
        assert!(run.stderr.starts_with("error: "), "{}", run.transcript());
    }
}

#[test]
fn bad_inputs_are_refused_with_the_reason() {
    // Names: the nearest known one is suggested.
    check(
        &["model", "llama-3.1-7b"],
        1,
        &["did you mean", "llama-3.1-70b"],
    );
    check(
        &["estimate", "--hardware", "h100-sxn"],
        1,
        &["unknown hardware", "did you mean"],
    );
    check(&["hardware", "mi3000x"], 1, &["did you mean"]);
    check(
        &["estimate", "--weights", "fp9"],
        2,
        &["fp9", "did you mean `fp8`"],
    );
    check(
        &["estimate", "--compute", "bf61"],
        2,
        &["did you mean `bf16`"],
    );
    check(
        &["estimate", "--tp", "4", "--param", "memory_eficiency=0.5"],
        1,
        &["--param", "did you mean `memory_efficiency`"],
    );
    // Layouts that do not divide the model.
    check(
        &["estimate", "--tp", "3"],
        1,
        &["tp", "3", "64 attention heads"],
    );
    check(&["estimate", "--tp", "0"], 1, &["tp", "at least 1"]);
    check(
        &["estimate", "--tp", "4", "--ep", "2"],
        1,
        &["ep", "no experts"],
    );
    check(
        &[
            "estimate",
            "--model",
            "mixtral-8x7b",
            "--tp",
            "2",
            "--ep",
            "3",
        ],
        1,
        &["ep"],
    );
    // Sizes.
    check(&["estimate", "--batch", "-4"], 2, &["at least 1"]);
    check(&["estimate", "--batch", "0"], 2, &["at least 1"]);
    check(&["estimate", "--batch", "1,,2"], 2, &["batch"]);
    check(&["estimate", "--batch", "two"], 2, &["not a whole number"]);
    check(&["estimate", "--input", "0"], 2, &["at least 1"]);
    check(
        &["estimate", "--output", "99999999999999"],
        2,
        &["accepted"],
    );
    check(&["estimate", "--tp", "99999999999"], 2, &["--tp"]);
    // Models that do not fit, with the numbers.
    check(&["estimate"], 1, &["weights need", "--tp 4 would fit"]);
    check(
        &[
            "estimate",
            "--model",
            "llama-3.1-405b",
            "--hardware",
            "h100-sxm",
            "--tp",
            "8",
        ],
        1,
        &["no requested batch fits", "weights need"],
    );
    check(
        &["estimate", "--tp", "4", "--batch", "5000"],
        1,
        &["--batch 5000 does not fit", "max batch"],
    );
    // Parameters out of range or malformed.
    check(
        &["estimate", "--tp", "4", "--param", "compute_efficiency=1.5"],
        1,
        &["compute_efficiency", "1.5"],
    );
    check(
        &["estimate", "--tp", "4", "--param", "compute_efficiency=nan"],
        1,
        &["compute_efficiency"],
    );
    check(
        &["estimate", "--tp", "4", "--param", "compute_efficiency"],
        2,
        &["NAME=VALUE"],
    );
    check(
        &[
            "estimate",
            "--tp",
            "4",
            "--param",
            "compute_efficiency=fast",
        ],
        2,
        &["not a number"],
    );
    // Missing files are named.
    check(
        &["model", "no/such/config.json"],
        1,
        &["no/such/config.json"],
    );
    check(
        &["estimate", "--params", "no-such-params.toml"],
        1,
        &["no-such-params.toml"],
    );
    check(
        &["hardware", "--hardware-file", "no-such-hw.toml"],
        1,
        &["no-such-hw.toml"],
    );
    // Plot formats and places.
    check(
        &["estimate", "--tp", "4", "--plot", "no/such/dir/x.svg"],
        1,
        &["no/such/dir", "does not exist"],
    );
    check(
        &["estimate", "--tp", "4", "--plot", "x.jpg"],
        1,
        &["x.jpg", ".svg or .png"],
    );
    // Precision with no peak on the hardware: the core names the quantity, the CLI its flag.
    check(
        &[
            "estimate",
            "--hardware",
            "a100-sxm",
            "--tp",
            "4",
            "--compute",
            "fp8",
        ],
        1,
        &[
            "a100-sxm",
            "fp8",
            "choose another compute precision",
            "hint: choose another precision with --compute",
        ],
    );
}

#[test]
fn malformed_files_are_named_with_the_line() {
    write_scratch(
        "bad.json",
        "{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 4096\n  oops\n}\n",
    );
    let run = servemath_in(&scratch(), &["model", "bad.json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("bad.json") && run.stderr.contains("line 4"),
        "{}",
        run.transcript()
    );
    insta::assert_snapshot!("error_malformed_json", run.transcript());

    write_scratch("bad-params.toml", "memory_efficiency = \n");
    check(
        &["estimate", "--params", "bad-params.toml"],
        1,
        &["bad-params.toml", "line 1"],
    );
    write_scratch("bad-hw.toml", "[[hardware]\nid = 1\n");
    check(
        &["hardware", "--hardware-file", "bad-hw.toml"],
        1,
        &["bad-hw.toml"],
    );
}

#[test]
fn truncated_and_unknown_configs_never_panic() {
    let path = shared_models().join("deepseek-ai--DeepSeek-V3.json");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(!text.is_empty(), "{}", path.display());
    for cut in [0, 1, 10, text.len() / 3, text.len() / 2, text.len() - 2] {
        let name = format!("cut-{cut}.json");
        write_scratch(&name, text.get(..cut).unwrap_or(""));
        let run = servemath(&["model", &name]);
        assert_eq!(run.code, 1, "cut at {cut}: {}", run.transcript());
        assert!(run.stderr.contains(&name), "{}", run.transcript());
    }
    write_scratch(
        "mamba.json",
        r#"{"model_type": "mamba", "hidden_size": 4096}"#,
    );
    check(
        &["model", "mamba.json"],
        1,
        &["mamba.json", "model_type", "mamba"],
    );
}

// ------------------------------------------------------------------ kernel classes and layouts

#[test]
fn explain_shows_each_kernel_class_and_its_source() {
    let run = servemath(&[
        "estimate",
        "--model",
        "llama-3.1-8b",
        "--batch",
        "1,256",
        "--explain",
    ]);
    run.assert_ok();
    for want in [
        "kernel rates on h100-sxm (measured confidence)",
        "gemm.bf16",
        "decode_attention.bf16",
        "aiconfigurator-core 0.12.0",
        "batch 256 decode step",
        "decode_attention",
        "elementwise",
    ] {
        assert!(
            run.stdout.contains(want),
            "missing `{want}`:\n{}",
            run.stdout
        );
    }
    // A datasheet entry says where its efficiencies came from instead.
    let amd = servemath(&[
        "estimate",
        "--model",
        "llama-3.1-8b",
        "--hardware",
        "mi300x",
        "--batch",
        "1",
        "--explain",
    ]);
    amd.assert_ok();
    assert!(
        amd.stdout.contains("(datasheet confidence)"),
        "{}",
        amd.stdout
    );
    assert!(amd.stdout.contains("no measured curve"), "{}", amd.stdout);
}

#[test]
fn redundant_experts_and_two_batch_overlap_from_the_command_line() {
    // DeepSeek-V3's 256 experts on EP 72 need redundant slots; the error says how many.
    let refused = servemath(&[
        "estimate",
        "--model",
        "deepseek-v3",
        "--hardware",
        "gb200-nvl72",
        "--dp-attn",
        "72",
        "--ep",
        "72",
        "--batch",
        "64",
    ]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("32 redundant experts would make 288 slots"),
        "{}",
        refused.stderr
    );
    let run = servemath(&[
        "estimate",
        "--model",
        "deepseek-v3",
        "--hardware",
        "gb200-nvl72",
        "--dp-attn",
        "72",
        "--ep",
        "72",
        "--redundant-experts",
        "32",
        "--tbo",
        "--batch",
        "4096",
        "--json",
    ]);
    run.assert_ok();
    let v = run.json();
    assert_eq!(v["layout"]["redundant_experts"], 32);
    assert_eq!(v["layout"]["two_batch_overlap"], true);
}

#[test]
fn hardware_shows_its_kernel_confidence() {
    let run = servemath(&["hardware", "h800"]);
    run.assert_ok();
    assert!(run.stdout.contains("derived"), "{}", run.stdout);
    assert!(run.stdout.contains("from h100-sxm"), "{}", run.stdout);
    let v = servemath(&["hardware", "b200", "--json"]).json();
    assert_eq!(v["kernel_confidence"], "measured");
}

#[test]
fn a_snapshot_folder_is_a_model_and_its_kv_format_is_the_default() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/models/nvidia--Qwen3-235B-A22B-NVFP4");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    let d = dir.display().to_string();
    let run = servemath(&["model", &d, "--json"]);
    run.assert_ok();
    let v = run.json();
    assert_eq!(v["name"], "nvidia--Qwen3-235B-A22B-NVFP4");
    assert_eq!(v["kv_format"], "fp8");
    let est = servemath(&[
        "estimate",
        "--model",
        &d,
        "--hardware",
        "b200",
        "--tp",
        "8",
        "--dp-attn",
        "1",
        "--ep",
        "8",
        "--batch",
        "64",
        "--json",
    ]);
    est.assert_ok();
    let e = est.json();
    assert_eq!(e["precisions"]["kv"], "fp8");
    assert_eq!(e["precisions"]["weights"]["experts"], "nvfp4");
    // A folder without config.json says so.
    let empty = scratch().join("empty-snapshot");
    let _ = std::fs::create_dir_all(&empty);
    let run = servemath(&["model", &empty.display().to_string()]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("has no readable config.json"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_2026_builtins_estimate_where_they_fit() {
    for (model, args) in [
        (
            "kimi-k2.5",
            &["--hardware", "gb200-nvl72", "--dp-attn", "8", "--ep", "8"][..],
        ),
        (
            "minimax-m2.7",
            &["--hardware", "h200", "--tp", "8", "--ep", "8"][..],
        ),
        ("mimo-7b", &["--hardware", "h100-sxm"][..]),
        ("qwen3-vl-8b", &["--hardware", "h100-sxm"][..]),
        ("qwen3-vl-30b-a3b", &["--hardware", "h200"][..]),
        ("qwen3.5-35b-a3b", &["--hardware", "h200"][..]),
        ("gemma-4-31b", &["--hardware", "h100-sxm"][..]),
        ("nemotron-3-nano", &["--hardware", "h100-sxm"][..]),
        (
            "deepseek-v3.2",
            &["--hardware", "b200", "--dp-attn", "8", "--ep", "8"][..],
        ),
        (
            "glm-5.1",
            &["--hardware", "gb200-nvl72", "--dp-attn", "16", "--ep", "16"][..],
        ),
        ("nemotron-3-super", &["--hardware", "b200"][..]),
        (
            "deepseek-v4-flash",
            &["--hardware", "b200", "--dp-attn", "4", "--ep", "4"][..],
        ),
    ] {
        let mut all = vec!["estimate", "--model", model, "--batch", "1,64", "--json"];
        all.extend_from_slice(args);
        let run = servemath(&all);
        run.assert_ok();
        let v = run.json();
        let batches = v["batches"].as_array().cloned().unwrap_or_default();
        assert!(batches.iter().all(|b| b["fits"] == true), "{model}");
        assert!(num(&batches[0], "tpot_s") > 0.0, "{model}");
    }
    // The vision tower is loaded: Qwen3-VL-8B holds its 576 M tower parameters (1.15 GB in
    // BF16) beside a Qwen3-8B-sized decoder.
    let vl = num(
        &servemath(&[
            "estimate",
            "--model",
            "qwen3-vl-8b",
            "--batch",
            "1",
            "--json",
        ])
        .json(),
        "weight_bytes_per_gpu",
    );
    let text = num(
        &servemath(&["estimate", "--model", "qwen3-8b", "--batch", "1", "--json"]).json(),
        "weight_bytes_per_gpu",
    );
    // Qwen3-8B's MLP is 12,288 wide too; the decoders match to the byte.
    assert!(
        (vl - text - 576_388_336.0 * 2.0).abs() < 1.0,
        "{vl} vs {text}"
    );
}

/// A reader that has gone away (`servemath validate | head -1`) ends the run with exit 0 and
/// no panic: the read end is closed before the command writes anything, so its first write
/// meets a broken pipe.
#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    use std::process::Stdio;
    for args in [
        &["validate"][..],
        &["claims"][..],
        &["claims", "--json"][..],
        &["models"][..],
        // `servemath` alone: the default estimate.
        &[][..],
    ] {
        let mut child = match std::process::Command::new(assert_cmd::cargo::cargo_bin!("servemath"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => panic!("cannot run servemath {args:?}: {e}"),
        };
        drop(child.stdout.take());
        let out = match child.wait_with_output() {
            Ok(o) => o,
            Err(e) => panic!("servemath {args:?}: {e}"),
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// Input files are read only when they are regular files within the size limit: `/dev/zero`
/// (which never ends) is refused at once by name, and `SERVEMATH_MAX_INPUT_MB` sets the limit.
#[cfg(unix)]
#[test]
fn inputs_that_never_end_or_are_too_large_are_refused() {
    for args in [
        &["model", "/dev/zero"][..],
        &["simulate", "--trace", "/dev/zero"][..],
        &["estimate", "--params", "/dev/zero"][..],
    ] {
        let run = servemath(args);
        assert_eq!(run.code, 1, "{}", run.transcript());
        assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    }
    let path = shared_models().join("Qwen--Qwen3-8B.json");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("servemath"))
        .args(["model", &path.display().to_string()])
        .env("SERVEMATH_MAX_INPUT_MB", "0")
        .output();
    let out = out.unwrap_or_else(|e| panic!("cannot run servemath: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("SERVEMATH_MAX_INPUT_MB"), "{stderr}");
}

/// Every input file the README's tour names ships with the repository (the tour once named
/// `my-params.toml` and a trace outside it): the word after `--params`, `--hardware-file`,
/// `--trace`, `--config` or `model` must exist from the workspace root.
#[test]
fn the_readme_tour_names_only_shipped_inputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
    let words: Vec<&str> = readme.split_whitespace().collect();
    let mut checked = 0;
    for pair in words.windows(2) {
        let input = matches!(
            pair[0],
            "--params" | "--hardware-file" | "--trace" | "--config"
        ) || (pair[0] == "model" && pair[1].contains('/'));
        if !input || !pair[1].contains('.') || pair[1].contains("FILE") {
            continue;
        }
        let path = root.join(pair[1].trim_end_matches(['`', ',', ')']));
        assert!(
            path.exists(),
            "README names `{}`, which is not shipped",
            pair[1]
        );
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} inputs found in the README");
}
