//! Golden values derived by hand, the data file's coverage, errors, and named properties.

use crate::*;
use proptest::prelude::*;
use servemath_hardware::Catalog;

/// Asserts `actual` is within `rel` of `golden`, printing both and the difference.
fn check(what: &str, golden: f64, actual: f64, rel: f64) {
    let diff = actual - golden;
    assert!(
        (diff / golden).abs() <= rel,
        "{what}: golden {golden}, actual {actual}, difference {diff}"
    );
}

/// H100 inputs with every figure pinned, so the golden values do not move with the data file.
fn pinned_h100() -> CostInputs {
    let catalog = Catalog::builtin();
    let hw = catalog.get("h100-sxm").expect("h100 in catalog");
    let mut c = cost_inputs_for(hw).expect("h100 inputs");
    for (name, value) in [
        ("capital_usd_per_gpu", 50_000.0),
        ("amortization_years", 5.0),
        ("cost_of_capital", 0.11),
        ("tdp_w", 700.0),
        ("server_power_over_tdp", 1.82),
        ("idle_power_fraction", 0.3),
        ("pue", 1.3),
        ("ppa_usd_per_mwh", 112.5),
        ("spot_usd_per_mwh", 33.74),
        ("ppa_share", 1.0),
        ("facility_usd_per_kw_month", 184.06),
        ("rental_usd_per_gpu_hour", 2.0),
        ("prepaid_fraction", 0.25),
        ("contract_years", 4.0),
    ] {
        c.set(name, value, "test").expect("valid pinned input");
    }
    c
}

#[test]
fn owned_gpu_hour_golden() {
    // Capital $50,000 over 5 years at 11 %: annuity 50000·0.11/(1 − 1.11^−5)
    //   = 5500 / (1 − 0.593451) = $13,528.5 a year.
    // Depreciation 50000/5/8760 = $1.14155/h; financing 13528.5/8760 − 1.14155 = $0.40280/h.
    // Power at u = 1: 700 W · 1.82 · (0.3 + 0.7·1) · 1.3 = 1656.2 W = 1.6562e-3 MW · $112.5
    //   = $0.18632/h.
    // Facility: 700 · 1.82 = 1.274 kW · $184.06 · 12 / 8760 = $0.32122/h.
    // Total $2.05190/h.
    let mut c = pinned_h100();
    c.mode = Mode::Owned;
    let g = gpu_hour_cost(&c, 1.0);
    check("capital", 1.141_553, g.capital_usd, 1e-5);
    check("financing", 0.402_799, g.financing_usd, 1e-5);
    check("power", 0.186_323, g.power_usd, 1e-5);
    check("facility", 0.321_223, g.facility_usd, 1e-5);
    check("total", 2.051_896, g.total_usd, 1e-5);
    // At u = 0.5 only power moves: 700·1.82·(0.3 + 0.35)·1.3 W → $0.121110/h; total $1.986683
    // per held hour, $3.973366 per busy hour.
    let half = gpu_hour_cost(&c, 0.5);
    check("total at 0.5", 1.986_683, half.total_usd, 1e-5);
    check(
        "busy hour at 0.5",
        3.973_366,
        half.usd_per_busy_gpu_hour,
        1e-5,
    );
}

#[test]
fn rental_gpu_hour_golden() {
    // $2/h with 25 % of a 4-year contract prepaid at 11 %: the prepayment's average balance is
    // half of it over the contract, so financing = 2 · 0.25 · 0.11 · 4 / 2 = $0.11/h.
    let mut c = pinned_h100();
    c.mode = Mode::Rental;
    let g = gpu_hour_cost(&c, 0.8);
    check("rental", 2.0, g.rental_usd, 1e-12);
    check("financing", 0.11, g.financing_usd, 1e-12);
    check("total", 2.11, g.total_usd, 1e-12);
    check("busy hour", 2.11 / 0.8, g.usd_per_busy_gpu_hour, 1e-12);
}

#[test]
fn usd_per_mtok_golden() {
    // $2/GPU-h, 8 GPUs, 10,000 tok/s: 2·8/3600 $/s / 10,000 tok/s · 1e6 = $0.4444/Mtok.
    check(
        "usd_per_mtok",
        0.444_444,
        usd_per_mtok(2.0, 8.0, 10_000.0),
        1e-5,
    );
}

#[test]
fn token_cost_golden() {
    // $2/GPU-h, 8 GPUs, busy half the time: 2·8/3600/0.5 = $0.0088889 per second.
    // Input at 10 µs of the deployment per token: 0.0088889 · 1e-5 · 1e6 = $0.088889/Mtok;
    // output at 50 µs: $0.444444/Mtok; ratio 5.
    let t = token_cost(2.0, 8.0, 1e-5, 5e-5, 0.5);
    check("input", 0.088_889, t.input_usd_per_mtok, 1e-5);
    check("output", 0.444_444, t.output_usd_per_mtok, 1e-5);
    check("ratio", 5.0, t.output_over_input, 1e-12);
}

#[test]
fn scale_view_golden() {
    // Full draw at the meter 700 · 1.82 · 1.3 = 1656.2 W → 1e6 / 1656.2 = 603.79 GPUs per MW.
    let mut c = pinned_h100();
    c.mode = Mode::Owned;
    let g = gpu_hour_cost(&c, 1.0);
    let s = scale_view(&c, &g);
    check("gpus per MW", 603.792, s.gpus_per_mw.unwrap_or(0.0), 1e-5);
    check("rack hour", 2.051_896 * 32.0, s.usd_per_rack_hour, 1e-5);
    check(
        "MW year",
        603.792 * 2.051_896 * 8760.0,
        s.usd_per_mw_year.unwrap_or(0.0),
        1e-5,
    );
}

#[test]
fn every_catalog_entry_has_cost_data() {
    let catalog = Catalog::builtin();
    let ids = costs_file_hardware_ids();
    for hw in catalog.entries() {
        assert!(
            ids.contains(&hw.id),
            "no [hardware.{}] in costs.toml",
            hw.id
        );
        let c = cost_inputs_for(hw);
        assert!(c.is_ok(), "{}: {c:?}", hw.id);
    }
    for id in &ids {
        assert!(
            catalog.get(id).is_ok(),
            "costs.toml entry `{id}` is not a catalog id"
        );
    }
}

#[test]
fn every_stated_figure_has_a_source() {
    let catalog = Catalog::builtin();
    for hw in catalog.entries() {
        let Ok(c) = cost_inputs_for(hw) else { continue };
        for (name, value) in c.as_map() {
            if value.is_some() {
                assert!(
                    c.source(name).is_some(),
                    "{}: `{name}` has no source",
                    hw.id
                );
            }
        }
    }
}

#[test]
fn every_input_is_documented_and_settable() {
    let catalog = Catalog::builtin();
    let hw = catalog.get("h100-sxm").expect("h100");
    let mut c = cost_inputs_for(hw).expect("inputs");
    for d in INPUT_DOCS {
        let v = c.get(d.name);
        assert!(v.is_some(), "{} not readable", d.name);
        assert!(
            c.set(d.name, v.unwrap_or(0.0), "test").is_ok(),
            "{}",
            d.name
        );
    }
    assert_eq!(INPUT_DOCS.len(), c.as_map().len());
}

#[test]
fn bad_inputs_name_the_field_and_value() {
    let mut c = pinned_h100();
    let e = c.set(
        "rental_usd_per_gpu_hour",
        -1.0,
        "--cost rental_usd_per_gpu_hour=-1",
    );
    assert_eq!(
        e.err().map(|e| e.to_string()).as_deref(),
        Some("--cost rental_usd_per_gpu_hour=-1: `rental_usd_per_gpu_hour` = -1: must not be negative")
    );
    assert_eq!(
        c.rental_usd_per_gpu_hour,
        Some(2.0),
        "a rejected value leaves the input alone"
    );
    let e = c
        .set("ppa_usd_per_mhw", 50.0, "--cost")
        .err()
        .map(|e| e.to_string());
    assert!(e
        .unwrap_or_default()
        .contains("did you mean `ppa_usd_per_mwh`"));
    let e = check_utilization(0.0, "--utilization")
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("--utilization: `utilization` = 0: must be in [0.001, 1]")
    );
    let e = c.set("pue", 0.9, "f.toml").err().map(|e| e.to_string());
    assert_eq!(e.as_deref(), Some("f.toml: `pue` = 0.9: must be in [1, 3]"));
}

#[test]
fn missing_figures_say_how_to_set_them() {
    let catalog = Catalog::builtin();
    let hw = catalog.get("tpu-v6e").expect("tpu");
    let mut c = cost_inputs_for(hw).expect("inputs");
    assert_eq!(c.mode, Mode::Rental);
    assert!(c.check().is_ok());
    c.mode = Mode::Owned;
    let e = try_gpu_hour_cost(&c, 0.7)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.starts_with("tpu-v6e: no `capital_usd_per_gpu`"), "{e}");
    // The quantity, not a front end's flag: the CLI adds `--cost NAME=VALUE` as a hint.
    assert!(
        e.contains("set the cost input `capital_usd_per_gpu`"),
        "{e}"
    );
    assert!(!e.contains("--"), "{e}");
    let hw = catalog.get("rubin-nvl72").expect("rubin");
    let c = cost_inputs_for(hw).expect("inputs");
    let e = c.check().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("capital_usd_per_gpu"), "{e}");
}

#[test]
fn apply_table_reads_numbers_and_mode() {
    let mut c = pinned_h100();
    let t: toml::Table = "mode = \"owned\"\npue = 1.2\ngpus_per_rack = 16"
        .parse()
        .expect("toml");
    c.apply_table(&t, "costs.toml").expect("valid table");
    assert_eq!(c.mode, Mode::Owned);
    check("gpus per rack", 16.0, c.gpus_per_rack, 0.0);
    assert_eq!(c.source("pue"), Some("costs.toml"));
    let t: toml::Table = "pue = \"high\"".parse().expect("toml");
    let e = c.apply_table(&t, "costs.toml").err().map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("costs.toml: cost input `pue` = \"high\": expected a number")
    );
}

/// The dollars one busy GPU-hour costs (what a token's price scales with).
fn busy_cost(c: &CostInputs, u: f64) -> f64 {
    gpu_hour_cost(c, u).usd_per_busy_gpu_hour
}

fn arb_inputs() -> impl Strategy<Value = CostInputs> {
    (
        0.0..200_000.0f64,
        1.0..10.0f64,
        0.0..0.3f64,
        1.0..3.0f64,
        0.0..1.0f64,
        1.0..2.0f64,
        0.0..300.0f64,
        0.0..400.0f64,
        any::<bool>(),
    )
        .prop_map(|(cap, years, rate, s, idle, pue, mwh, facility, owned)| {
            let mut c = pinned_h100();
            c.capital_usd_per_gpu = Some(cap);
            c.amortization_years = years;
            c.cost_of_capital = rate;
            c.server_power_over_tdp = s;
            c.idle_power_fraction = idle;
            c.pue = pue;
            c.ppa_usd_per_mwh = mwh;
            c.facility_usd_per_kw_month = facility;
            c.mode = if owned { Mode::Owned } else { Mode::Rental };
            c
        })
}

proptest! {
    #[test]
    fn more_utilization_never_raises_token_cost(c in arb_inputs(), u in 0.01..1.0f64, du in 0.0..0.5f64) {
        let u2 = (u + du).min(1.0);
        let (low, high) = (busy_cost(&c, u), busy_cost(&c, u2));
        prop_assert!(high <= low * (1.0 + 1e-12), "u {u} -> {low}, u {u2} -> {high}");
        let t1 = token_cost(gpu_hour_cost(&c, u).total_usd, 8.0, 1e-5, 4e-5, u);
        let t2 = token_cost(gpu_hour_cost(&c, u2).total_usd, 8.0, 1e-5, 4e-5, u2);
        prop_assert!(t2.output_usd_per_mtok <= t1.output_usd_per_mtok * (1.0 + 1e-12));
    }

    #[test]
    fn higher_power_price_never_lowers_token_cost(c in arb_inputs(), u in 0.01..1.0f64, extra in 0.0..500.0f64) {
        let mut dear = c.clone();
        dear.ppa_usd_per_mwh += extra;
        dear.spot_usd_per_mwh += extra;
        prop_assert!(busy_cost(&dear, u) >= busy_cost(&c, u) * (1.0 - 1e-12));
    }

    #[test]
    fn dearer_capital_never_lowers_token_cost(c in arb_inputs(), u in 0.01..1.0f64, extra in 0.0..0.5f64) {
        let mut dear = c.clone();
        dear.cost_of_capital = (dear.cost_of_capital + extra).min(1.0);
        prop_assert!(busy_cost(&dear, u) >= busy_cost(&c, u) * (1.0 - 1e-12));
    }
}

/// Claim 16's stated inputs: a dense 400 B model, equal MFU in every phase.
fn claim16() -> LifecycleInputs {
    LifecycleInputs {
        params: 400e9,
        active_params: 400e9,
        serve_active_params: 400e9,
        train_tokens: 8e12,
        rl_fraction: 1.0,
        inference_tokens: 2.4e15,
        usd_per_gpu_hour: 2.0,
        peak_flop_per_s: 989e12,
        train_mfu: 0.4,
        rl_mfu: 0.4,
        inference_mfu: 0.4,
    }
}

#[test]
fn lifecycle_golden() {
    // Pre-training 6·N·D = 6 · 4e11 · 8e12 = 1.92e25 FLOP; at 40 % of 989 TFLOP/s a GPU does
    // 3.956e14 FLOP/s, so 1.92e25 / 3.956e14 / 3600 = 13.48 M GPU-hours = $26.96 M at $2.
    // Inference 2·N·I = 2 · 4e11 · 2.4e15 = 1.92e27 FLOP: 100× pre-training.
    // Equal cost when 6·N·D = 2·N·I, D = I/3 = 8e14 tokens = 100 × 20·N (20·N = 8e12).
    let l = lifecycle(&claim16());
    check("pretrain flop", 1.92e25, l.pretrain.flop, 1e-12);
    check(
        "pretrain gpu-hours",
        1.348_163e7,
        l.pretrain.gpu_hours,
        1e-5,
    );
    check("pretrain usd", 2.696_326e7, l.pretrain.usd, 1e-5);
    check("inference flop", 1.92e27, l.inference.flop, 1e-12);
    check("multiple now", 1.0, l.chinchilla_multiple, 1e-12);
    check("equal tokens", 8e14, l.equal_train_tokens, 1e-12);
    check("equal multiple", 100.0, l.equal_multiple, 1e-12);
}

#[test]
fn equal_multiple_moves_with_inference_and_mfu() {
    // M = I·mfu_t / (3·20·N·mfu_i): ten times the inference, ten times the multiple; serving
    // at a quarter of training's MFU makes inference FLOPs 4× dearer: 400×.
    let mut i = claim16();
    i.inference_tokens *= 10.0;
    check("10x inference", 1000.0, lifecycle(&i).equal_multiple, 1e-12);
    let mut i = claim16();
    i.inference_mfu = 0.1;
    check("mfu 0.1", 400.0, lifecycle(&i).equal_multiple, 1e-12);
    // A model pruned to 10 % for serving: inference FLOPs and the multiple fall 10×.
    let mut i = claim16();
    i.serve_active_params *= 0.1;
    let (full, pruned) = (lifecycle(&claim16()), lifecycle(&i));
    check(
        "pruned inference",
        full.inference.usd / 10.0,
        pruned.inference.usd,
        1e-12,
    );
    check("pruned multiple", 10.0, pruned.equal_multiple, 1e-12);
}

#[test]
fn chinchilla_loss_golden() {
    // L(70e9, 1.4e12) = 1.69 + 406.4 / 70e9^0.34 + 410.7 / 1.4e12^0.28
    //   70e9^0.34 = e^(0.34 · 24.972) = e^8.4906 = 4866.4 → 0.083511
    //   1.4e12^0.28 = e^(0.28 · 27.967) = e^7.8307 = 2515.6 → 0.163264
    //   = 1.93677
    check(
        "chinchilla 70B",
        1.936_77,
        HOFFMANN_2022.loss(70e9, 1.4e12),
        1e-4,
    );
    let d = HOFFMANN_2022.tokens_for(70e9, HOFFMANN_2022.loss(70e9, 1.4e12));
    check("tokens round trip", 1.4e12, d.unwrap_or(0.0), 1e-9);
    assert_eq!(
        HOFFMANN_2022.tokens_for(1e6, 2.0),
        None,
        "a 1 M model never reaches 2.0"
    );
}

#[test]
fn cost_optimum_trains_smaller_and_longer_as_inference_grows() {
    let base = claim16();
    let mut little = base;
    little.inference_tokens = 1e9;
    let (Some(o_little), Some(o_big)) = (
        cost_optimal(&little, &HOFFMANN_2022),
        cost_optimal(&base, &HOFFMANN_2022),
    ) else {
        panic!("the optimum exists");
    };
    assert!(o_big.params < o_little.params, "{o_big:?} vs {o_little:?}");
    assert!(o_big.chinchilla_multiple > o_little.chinchilla_multiple);
    // Same quality, never dearer than the model it started from.
    check(
        "same loss",
        HOFFMANN_2022.loss(o_big.params, o_big.train_tokens),
        o_big.loss,
        1e-9,
    );
    assert!(o_big.lifecycle.total_usd <= lifecycle(&base).total_usd * (1.0 + 1e-9));
    // Optimal: a step either way in N costs more.
    for f in [0.98, 1.02] {
        let n = o_big.params * f;
        let d = HOFFMANN_2022
            .tokens_for(n, o_big.loss)
            .unwrap_or(f64::INFINITY);
        let trial = LifecycleInputs {
            params: n,
            active_params: n,
            serve_active_params: n,
            train_tokens: d,
            ..base
        };
        assert!(lifecycle(&trial).total_usd >= o_big.lifecycle.total_usd * (1.0 - 1e-9));
    }
}

#[test]
fn builtin_price_list_parses_and_is_sourced() {
    let list = PriceList::builtin();
    assert!(list.is_ok(), "{list:?}");
    let list = list.unwrap_or_else(|_| unreachable!());
    for p in &list.prices {
        assert!(!p.source.is_empty() && !p.date.is_empty(), "{}", p.model);
    }
    let sonnet = list.matching("sonnet-4");
    assert_eq!(sonnet.len(), 1);
    check("sonnet out/in", 5.0, sonnet[0].output_over_input(), 1e-12);
    check(
        "sonnet cached",
        0.1,
        sonnet[0].cached_over_uncached().unwrap_or(0.0),
        1e-12,
    );
    check(
        "sonnet long out",
        1.5,
        sonnet[0].long_output_over_base().unwrap_or(0.0),
        1e-12,
    );
}

#[test]
fn bad_price_lists_name_entry_field_and_value() {
    let text = r#"
[[price]]
provider = "Acme"
model = "m1"
input_usd_per_mtok = -1
output_usd_per_mtok = 2
source = "x"
date = "2026-01-01"
confirmed = true
"#;
    let e = PriceList::parse(text, "p.toml")
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("p.toml: Acme m1: `input_usd_per_mtok` = -1: must be a non-negative number")
    );
    let e = PriceList::parse(&text.replace("input_usd", "inptu_usd"), "p.toml")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.starts_with("p.toml: unknown field `inptu_usd_per_mtok`"),
        "{e}"
    );
    let half = text.replace("= -1", "= 1") + "long_context_threshold_tokens = 1000\n";
    let e = PriceList::parse(&half, "p.toml")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("needs all of"), "{e}");
}

#[test]
fn the_annuity_is_exact_at_tiny_rates() {
    // $30,000 over 4 years: at a zero rate $7,500 a year. At r = 1e-15 the payment exceeds that
    // by C·r·(A+1)/2 to first order = 30,000·1e-15·2.5 = 7.5e-11: still $7,500 to 1e-12, never
    // below it (the direct formula cancelled to a negative or infinite charge here).
    for r in [1e-17, 1e-15, 1e-12, 1e-9] {
        let a = crate::gpu_hour::annuity_per_year(30_000.0, r, 4.0);
        assert!(a >= 7_500.0 && (a / 7_500.0 - 1.0) < 1e-6, "r = {r}: {a}");
    }
    // At 8 % (hand: 30,000·0.08/(1 − 1.08^−4) = 2,400/0.264970 = 9,057.62).
    let a = crate::gpu_hour::annuity_per_year(30_000.0, 0.08, 4.0);
    assert!((a - 9_057.62).abs() < 0.01, "{a}");
}

#[test]
fn absurd_cost_magnitudes_are_refused_in_exponent_form() {
    // Audit D12: `--cost tdp_w=1e30` was accepted; the catalog caps board power at 1e5 W.
    let hw = servemath_hardware::Catalog::builtin();
    let hw = hw.get("h100-sxm").unwrap_or_else(|e| panic!("{e}"));
    let mut c = crate::cost_inputs_for(hw).unwrap_or_else(|e| panic!("{e}"));
    let e = c
        .set("tdp_w", 1e30, "--cost")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("`tdp_w` = 1e30: must be at most 1e5 W"), "{e}");
    assert!(c.set("capital_usd_per_gpu", 2e7, "--cost").is_err());
    assert!(c.set("capital_usd_per_gpu", 40_000.0, "--cost").is_ok());
}
