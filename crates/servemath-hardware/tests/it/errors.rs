//! Bad catalog files give typed errors naming file, entry, field and value.

use servemath_hardware::Catalog;

/// A complete, valid entry; each case edits some of its lines.
const VALID: &str = r#"[[hardware]]
id = "test-gpu"
name = "Test GPU"
vendor = "Test"
family = "hopper"
bf16_dense_flop_per_s = 989.4e12
hbm_bytes = 80e9
hbm_bytes_per_s = 3.35e12
scale_up_domain = 8
scale_up_bytes_per_s_per_dir = 450e9
scale_up_latency_s = 2e-6
scale_out_latency_s = 5e-6
[hardware.sources]
bf16_dense_flop_per_s = "s"
hbm_bytes = "s"
hbm_bytes_per_s = "s"
scale_up_domain = "s"
scale_up_bytes_per_s_per_dir = "s"
scale_up_latency_s = "s"
scale_out_latency_s = "s"
"#;

/// `VALID` with the first line starting `old` replaced by `new` (deleted when `new` is empty).
fn edit(old: &str, new: &str) -> String {
    let mut done = false;
    let mut out = String::new();
    for line in VALID.lines() {
        if !done && line.starts_with(old) {
            done = true;
            if !new.is_empty() {
                out.push_str(new);
                out.push('\n');
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(done, "no line starts with {old:?}");
    out
}

/// Parsing `toml` fails with a message containing `expect`.
fn check(toml: &str, expect: &str) {
    match Catalog::parse(toml, "test.toml") {
        Ok(_) => panic!("parsed, but expected an error containing {expect:?}:\n{toml}"),
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.contains(expect),
                "expected {expect:?} in {message:?}"
            );
            assert!(message.starts_with("test.toml: "), "{message}");
        }
    }
}

#[test]
fn the_template_is_valid() {
    let catalog = Catalog::parse(VALID, "test.toml");
    assert!(catalog.is_ok(), "{:?}", catalog.err());
}

#[test]
fn figures_must_be_positive_and_finite() {
    let cases = [
        (
            "hbm_bytes_per_s =",
            "hbm_bytes_per_s = 0.0",
            "entry `test-gpu`: field `hbm_bytes_per_s` = 0: must be positive",
        ),
        (
            "hbm_bytes =",
            "hbm_bytes = -80e9",
            "field `hbm_bytes` = -80000000000: must be positive",
        ),
        (
            "bf16_dense_flop_per_s =",
            "bf16_dense_flop_per_s = nan",
            "field `bf16_dense_flop_per_s` = NaN: must be a finite number",
        ),
        (
            "scale_up_latency_s =",
            "scale_up_latency_s = inf",
            "field `scale_up_latency_s` = inf: must be a finite number",
        ),
        (
            "scale_up_domain =",
            "scale_up_domain = 0",
            "field `scale_up_domain` = 0: must be at least 1",
        ),
        (
            "scale_up_domain =",
            "scale_up_domain = -8",
            "field `scale_up_domain` = -8: must be at least 1",
        ),
    ];
    for (old, new, expect) in cases {
        check(&edit(old, new), expect);
    }
}

#[test]
fn absurd_figures_are_unit_slips() {
    let cases = [
        (
            "hbm_bytes_per_s =",
            "hbm_bytes_per_s = 3.35e16",
            "field `hbm_bytes_per_s` = 3.35e16: exceeds the plausible maximum 1e15",
        ),
        (
            "hbm_bytes =",
            "hbm_bytes = 8e13",
            "field `hbm_bytes` = 8e13: exceeds the plausible maximum 1e13",
        ),
        (
            "bf16_dense_flop_per_s =",
            "bf16_dense_flop_per_s = 989.4e18",
            "field `bf16_dense_flop_per_s` = 9.894e20: exceeds",
        ),
        (
            "scale_up_domain =",
            "scale_up_domain = 100000000",
            "exceeds the plausible maximum 1000000",
        ),
    ];
    for (old, new, expect) in cases {
        check(&edit(old, new), expect);
    }
}

#[test]
fn required_fields_and_sources_must_be_present() {
    check(
        &edit("hbm_bytes =", ""),
        "test.toml: entry `test-gpu`: missing required field `hbm_bytes`",
    );
    check(&edit("family =", ""), "missing required field `family`");
    check(&edit("id =", ""), "entry `#1`: missing required field `id`");
    check(
        &edit("hbm_bytes = \"s\"", ""),
        "missing required field `sources.hbm_bytes`",
    );
    check(
        &edit("bf16_dense_flop_per_s =", ""),
        "at least one dense peak",
    );
    check(
        &edit("name =", "name = \"  \""),
        "field `name` = \"\": must not be empty",
    );
}

#[test]
fn sources_must_cite_stated_figures() {
    check(
        &format!("{VALID}fp4_dense_flop_per_s = \"s\"\n"),
        "field `sources.fp4_dense_flop_per_s` = \"s\": cites a figure this entry does not state",
    );
    check(
        &format!("{VALID}hbm_gb = \"s\"\n"),
        "field `sources.hbm_gb` = \"s\": not a figure key",
    );
}

#[test]
fn unknown_keys_and_bad_toml_give_line_and_column() {
    check(
        &edit("hbm_bytes =", "hbm_gb = 80"),
        "test.toml: line 7, column 1: unknown field `hbm_gb`",
    );
    check(
        &edit("hbm_bytes =", "hbm_bytes = = 80e9"),
        "test.toml: line 7, column 13:",
    );
    check(
        &edit("hbm_bytes =", "hbm_bytes = \"80 GB\""),
        "test.toml: line 7, column 13: invalid type: string \"80 GB\", expected f64",
    );
}

#[test]
fn names_and_families_are_checked() {
    check(&edit("family =", "family = \"hoper\""), "field `family` = \"hoper\": unknown family (one of ampere, hopper, blackwell, rubin, cdna3, cdna4, tpu, other); did you mean `hopper`?");
    check(
        &edit("id =", "id = \"test/gpu\""),
        "entry `#1`: field `id` = \"test/gpu\": must be letters, digits",
    );
    let twice = format!("{VALID}{}", VALID.replace("test-gpu", "test_gpu"));
    check(
        &twice,
        "entry `test-gpu`: field `id` = \"test-gpu\": appears twice in this file",
    );
    let clash = format!(
        "{VALID}{}",
        VALID.replace(
            "id = \"test-gpu\"",
            "id = \"other\"\naliases = [\"TEST-GPU\"]"
        )
    );
    check(
        &clash,
        "entry `other`: field `aliases` = \"test-gpu\": already names `test-gpu`",
    );
}

#[test]
fn a_price_needs_source_and_iso_date() {
    let priced = edit("scale_out_latency_s =", "scale_out_latency_s = 5e-6\nusd_per_gpu_hour = 2.5\nprice_source = \"list\"\nprice_date = \"2026-01-31\"");
    assert!(Catalog::parse(&priced, "test.toml").is_ok());
    check(
        &priced.replace("price_source = \"list\"\n", ""),
        "missing required field `price_source`",
    );
    check(
        &priced.replace("2026-01-31", "Jan 2026"),
        "field `price_date` = \"Jan 2026\": must be an ISO date",
    );
    check(
        &priced.replace("usd_per_gpu_hour = 2.5\n", ""),
        "field `price_source` = \"list\": given without usd_per_gpu_hour",
    );
    check(
        &priced.replace("2.5", "2500"),
        "field `usd_per_gpu_hour` = 2.5e3: exceeds",
    );
}
