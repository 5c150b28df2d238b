//! `servemath validate`: the validation suite against published measurements.
//!
//! The suite (`validation/suite.toml`, compiled in) expresses each measured result of the
//! project's reference set in the cost model's terms; this command prices every case with the
//! global calibration and reports predicted against measured, per case and per metric.
//! `--fit` searches the global efficiencies that minimise the error over all cases.

use anyhow::{anyhow, Context};
use clap::Args;
use serde::{Deserialize, Serialize};
use servemath_cost::{Calibration, CostParams, Deployment, Parallelism, Precisions, StepLoad};
use servemath_hardware::{Catalog, Hardware};
use servemath_model::{MathPrecision, ModelSpec, Precision};
use std::collections::BTreeMap;

const SUITE: &str = include_str!("../../validation/suite.toml");
/// Validation models that are not built-ins (as served in the paper; see each file's source).
const EXTRA_MODELS: &[(&str, &str)] = &[(
    "palm-540b-padded",
    include_str!("../../validation/models/palm-540b-padded.json"),
)];

/// Run the validation suite: predicted vs measured for every published case the model can express.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Print the JSON report instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Search the global efficiencies and overheads that minimise the mean absolute log error and print them.
    #[arg(long)]
    pub fit: bool,
    /// Override a cost parameter for every case (NAME=VALUE, repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Suite {
    case: Vec<Case>,
    pending: Vec<Pending>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum Scenario {
    Offline,
    Prefill,
    Decode,
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
enum Metric {
    OutputTokensPerS,
    LatencyS,
    Mfu,
    MsPerToken,
}

impl Metric {
    fn name(self) -> &'static str {
        match self {
            Metric::OutputTokensPerS => "output_tokens_per_s",
            Metric::LatencyS => "latency_s",
            Metric::Mfu => "mfu",
            Metric::MsPerToken => "ms_per_token",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    id: String,
    model: String,
    hardware: String,
    weights: Option<String>,
    kv: Option<String>,
    compute: Option<String>,
    tp: Option<u32>,
    pp: Option<u32>,
    ep: Option<u32>,
    dp_attn: Option<u32>,
    replicas: u32,
    max_batch: Option<f64>,
    /// Beam-search width: each request decodes this many sequences (MLPerf GPT-J uses 4).
    beams: Option<f64>,
    scenario: Scenario,
    batch: Option<f64>,
    input: f64,
    output: Option<f64>,
    /// Server cases: sigma of the log-normal input and output lengths.
    input_sigma: Option<f64>,
    output_sigma: Option<f64>,
    /// Server cases: the p99 limits.
    ttft_p99_s: Option<f64>,
    tpot_p99_s: Option<f64>,
    metric: Metric,
    measured: f64,
    source: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    pub id: String,
    pub reason: String,
}

/// One case priced.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub id: String,
    pub metric: &'static str,
    pub measured: f64,
    pub predicted: f64,
    /// `predicted / measured − 1`.
    pub error: f64,
    /// Batch the prediction used (per replica).
    pub batch: f64,
    pub bound: &'static str,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricSummary {
    pub metric: &'static str,
    pub cases: usize,
    pub median_abs_error: f64,
    pub worst_abs_error: f64,
    pub worst_case: String,
}

#[derive(Debug, Clone, Serialize)]
struct Report {
    schema_version: &'static str,
    cases: Vec<Outcome>,
    summary: Vec<MetricSummary>,
    pending: Vec<Pending>,
}

fn suite() -> anyhow::Result<Suite> {
    toml::from_str(SUITE).context("validation/suite.toml")
}

fn model(name: &str) -> anyhow::Result<ModelSpec> {
    if let Some((_, json)) = EXTRA_MODELS.iter().find(|(n, _)| *n == name) {
        return servemath_model::parse_config(json, name).map_err(|e| anyhow!("{e}"));
    }
    servemath_model::builtin(name).map_err(|e| anyhow!("{e}"))
}

fn precision(field: &str, s: &str) -> anyhow::Result<Precision> {
    s.parse::<Precision>()
        .map_err(|e| anyhow!("field `{field}`: {e}"))
}

/// Everything needed to price a case, resolved once so `--fit` can re-price cheaply.
struct Resolved {
    case: Case,
    model: ModelSpec,
    hardware: Hardware,
    par: Parallelism,
    prec: Precisions,
}

fn resolve(case: &Case, catalog: &Catalog) -> anyhow::Result<Resolved> {
    let model = model(&case.model)?;
    let hardware = catalog
        .get(&case.hardware)
        .map_err(|e| anyhow!("{e}"))?
        .clone();
    let has = |p: MathPrecision| hardware.peak_flop_per_s(p).is_ok();
    let mut prec = Precisions::defaults_for(&model, has);
    if let Some(w) = &case.weights {
        prec = prec.with_linear_weights(precision("weights", w)?, has);
    }
    if let Some(kv) = &case.kv {
        prec.kv = precision("kv", kv)?;
    }
    if let Some(c) = &case.compute {
        prec.compute = precision("compute", c)?.math();
    }
    let par = Parallelism {
        tp: case.tp.unwrap_or(1),
        pp: case.pp.unwrap_or(1),
        ep: case.ep.unwrap_or(1),
        dp_attn: case.dp_attn.unwrap_or(1),
    };
    Ok(Resolved {
        case: case.clone(),
        model,
        hardware,
        par,
        prec,
    })
}

fn price(r: &Resolved, params: CostParams) -> anyhow::Result<Outcome> {
    let c = &r.case;
    let d = Deployment::new(&r.model, &r.hardware, r.par, r.prec, params)
        .map_err(|e| anyhow!("{e}"))?;
    let output = c.output.unwrap_or(0.0);
    let replicas = f64::from(c.replicas);
    let (predicted, batch, bound) = match c.scenario {
        Scenario::Offline => {
            let fits = d.max_batch(c.input + output) as f64;
            let batch = c.max_batch.map_or(fits, |m| m.min(fits));
            if batch < 1.0 {
                return Err(anyhow!(
                    "does not fit: {}",
                    d.memory(1.0, c.input + output).reason().unwrap_or_default()
                ));
            }
            let beams = c.beams.unwrap_or(1.0);
            // Beams share the prompt's KV blocks; each decodes its own token every step.
            let load = StepLoad::decode(batch * beams, c.input + output / 2.0)
                + StepLoad::prefill(batch / output, c.input, 0.0);
            let step = d.step(&load);
            (replicas * batch / step.time_s, batch, step.bound.name())
        }
        Scenario::Prefill => {
            let batch = c.batch.unwrap_or(1.0);
            let step = d.step(&StepLoad::prefill(batch, c.input, 0.0));
            let value = match c.metric {
                Metric::Mfu => step.mfu,
                _ => step.time_s,
            };
            (value, batch, step.bound.name())
        }
        Scenario::Server => {
            // The limit is set by the p99 targets in simulation, not by one step's bound.
            let (rate, batch) = server_rate(c, d)?;
            (rate * output, batch, "p99 limits")
        }
        Scenario::Decode => {
            let batch = c.batch.unwrap_or(1.0);
            let step = d.step(&StepLoad::decode(batch, c.input + output / 2.0));
            (step.time_s * 1e3, batch, step.bound.name())
        }
    };
    Ok(Outcome {
        id: c.id.clone(),
        metric: c.metric.name(),
        measured: c.measured,
        predicted,
        error: predicted / c.measured - 1.0,
        batch,
        bound,
        source: c.source.clone(),
    })
}

/// Simulated arrival window per trial rate in a server case: MLPerf's minimum run of ten minutes,
/// long against a request's lifetime so the tail reflects steady state, not warm-up.
const SERVER_DURATION_S: f64 = 600.0;

/// The highest Poisson rate (requests/s, all replicas) whose p99 TTFT and TPOT meet the case's
/// limits, by bisection over simulations with a fixed seed; and the mean running batch there.
fn server_rate(c: &Case, d: Deployment) -> anyhow::Result<(f64, f64)> {
    use servemath_sim::workload::{Arrivals, LengthDist, Lengths, Limit, Synthetic};
    use servemath_sim::{
        simulate, Policy, Pool, ReplicaSpec, Router, SchedulerConfig, SimConfig, Workload,
    };
    let output = c.output.unwrap_or(1.0);
    let (ttft, tpot) = (
        c.ttft_p99_s.unwrap_or(f64::INFINITY),
        c.tpot_p99_s.unwrap_or(f64::INFINITY),
    );
    let lengths = Lengths::Independent {
        input: LengthDist::LogNormal {
            mean: c.input,
            sigma: c.input_sigma.unwrap_or(0.0),
        },
        output: LengthDist::LogNormal {
            mean: output,
            sigma: c.output_sigma.unwrap_or(0.0),
        },
    };
    let dep = std::rc::Rc::new(d);
    let mut scheduler = SchedulerConfig::vllm(Policy::Chunked);
    if let Some(m) = c.max_batch {
        scheduler.max_seqs = m as u32;
    }
    let run = |rate: f64| -> anyhow::Result<servemath_sim::SimReport> {
        let synthetic = Synthetic::new(
            Arrivals::Poisson { rate_per_s: rate },
            lengths.clone(),
            0,
            Limit::duration_s(SERVER_DURATION_S),
        )
        .map_err(|e| anyhow!("{e}"))?;
        let cfg = SimConfig {
            replicas: vec![
                ReplicaSpec {
                    deployment: dep.clone(),
                    scheduler,
                    pool: Pool::Unified
                };
                c.replicas as usize
            ],
            router: Router::LeastOutstanding,
            leap: true,
            keep_records: false,
            slo: None,
            horizon_s: None,
            kv_transfer: None,
            timeseries_interval_s: None,
            keep_steps: false,
            progress: None,
        };
        Ok(simulate(
            cfg,
            Workload::Open(Box::new(synthetic.into_iter())),
        ))
    };
    let meets =
        |r: &servemath_sim::SimReport| r.ttft.p99 <= ttft && r.tpot.p99 <= tpot && !r.overloaded;
    // Bracket: the offline capacity bounds the rate from above.
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while meets(&run(hi)?) {
        lo = hi;
        hi *= 2.0;
        if hi > 1e6 {
            return Err(anyhow!("no rate limit found below 1e6 requests/s"));
        }
    }
    for _ in 0..10 {
        let mid = (lo + hi) / 2.0;
        if meets(&run(mid)?) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // The batch column shows the mean output tokens per step at that rate.
    let at = run(lo.max(f64::MIN_POSITIVE))?;
    let per_step = at.output_tokens_per_s * at.duration_s / (at.steps.max(1) as f64);
    Ok((lo, per_step))
}

/// Median and worst absolute error per metric.
pub fn summarize(outcomes: &[Outcome]) -> Vec<MetricSummary> {
    let mut by: BTreeMap<&'static str, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        by.entry(o.metric).or_default().push(o);
    }
    by.into_iter()
        .map(|(metric, os)| {
            let mut errs: Vec<f64> = os.iter().map(|o| o.error.abs()).collect();
            errs.sort_by(f64::total_cmp);
            let n = errs.len();
            let median = if n % 2 == 1 {
                errs[n / 2]
            } else {
                (errs[n / 2 - 1] + errs[n / 2]) / 2.0
            };
            let worst = os
                .iter()
                .max_by(|a, b| a.error.abs().total_cmp(&b.error.abs()))
                .map(|o| (o.error.abs(), o.id.clone()))
                .unwrap_or_default();
            MetricSummary {
                metric,
                cases: n,
                median_abs_error: median,
                worst_abs_error: worst.0,
                worst_case: worst.1,
            }
        })
        .collect()
}

/// Prices every case with the calibration for its hardware family plus `overrides`.
pub fn run_suite(overrides: &[(String, f64)]) -> anyhow::Result<(Vec<Outcome>, Vec<Pending>)> {
    let suite = suite()?;
    let catalog = Catalog::builtin();
    let calibration = Calibration::builtin();
    let mut outcomes = Vec::new();
    for case in &suite.case {
        let r =
            resolve(case, &catalog).with_context(|| format!("validation case `{}`", case.id))?;
        let mut params = calibration.for_family(&r.hardware.family);
        for (name, value) in overrides {
            params
                .set(name, *value, "--param")
                .map_err(|e| anyhow!("{e}"))?;
        }
        outcomes.push(price(&r, params).with_context(|| format!("validation case `{}`", case.id))?);
    }
    Ok((outcomes, suite.pending))
}

fn parse_overrides(raw: &[String]) -> anyhow::Result<Vec<(String, f64)>> {
    raw.iter()
        .map(|s| {
            let (name, value) = s
                .split_once('=')
                .ok_or_else(|| anyhow!("--param `{s}`: expected NAME=VALUE"))?;
            let v: f64 = value
                .trim()
                .parse()
                .map_err(|_| anyhow!("--param `{s}`: `{value}` is not a number"))?;
            Ok((name.trim().to_string(), v))
        })
        .collect()
}

pub fn run(args: &ValidateArgs) -> anyhow::Result<()> {
    let overrides = parse_overrides(&args.params)?;
    if args.fit {
        return fit(&overrides);
    }
    let (outcomes, pending) = run_suite(&overrides)?;
    let summary = summarize(&outcomes);
    if args.json {
        let report = Report {
            schema_version: "servemath.validate/1",
            cases: outcomes,
            summary,
            pending,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "Validation against published measurements (global calibration; docs/validation.md)\n"
    );
    println!(
        "{:<46} {:<20} {:>12} {:>12} {:>8} {:>7}  bound",
        "case", "metric", "measured", "predicted", "error", "batch"
    );
    for o in &outcomes {
        println!(
            "{:<46} {:<20} {:>12} {:>12} {:>+7.1}% {:>7} {}",
            o.id,
            o.metric,
            figure(o.measured),
            figure(o.predicted),
            o.error * 100.0,
            format!("{:.0}", o.batch),
            o.bound
        );
    }
    println!();
    for s in &summary {
        println!(
            "{:<20} {:>2} cases   median |error| {:>5.1}%   worst {:>5.1}% ({})",
            s.metric,
            s.cases,
            s.median_abs_error * 100.0,
            s.worst_abs_error * 100.0,
            s.worst_case
        );
    }
    println!("\nNot expressed (a layout servemath does not model yet):");
    for p in &pending {
        println!("  {}: {}", p.id, p.reason);
    }
    Ok(())
}

fn figure(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The parameters `--fit` searches, with their grids.
const FIT_GRID: &[(&str, &[f64])] = &[
    (
        "compute_efficiency",
        &[
            0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9,
        ],
    ),
    (
        "memory_efficiency",
        &[0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
    ),
    (
        "step_overhead_s",
        &[0.0, 0.0005, 0.001, 0.002, 0.004, 0.008],
    ),
    ("layer_overhead_s", &[0.0, 2e-6, 5e-6, 1e-5, 2e-5]),
    (
        "seq_overhead_s",
        &[0.0, 1e-6, 2e-6, 4e-6, 6e-6, 8e-6, 1e-5, 1.5e-5],
    ),
    ("moe_load_imbalance", &[1.0, 1.1, 1.2, 1.35, 1.5, 1.75, 2.0]),
];

/// Coordinate descent over `grid` minimising the mean absolute log error of `cases`.
fn descend(
    cases: &[&Resolved],
    mut params: CostParams,
    grid: &[(&str, &[f64])],
) -> (CostParams, f64) {
    let loss = |p: CostParams| -> f64 {
        let total: f64 = cases
            .iter()
            .map(|r| price(r, p).map_or(10.0, |o| (o.predicted / o.measured).ln().abs()))
            .sum();
        total / cases.len().max(1) as f64
    };
    let mut best = loss(params);
    for _round in 0..6 {
        let mut improved = false;
        for (name, values) in grid {
            for &v in *values {
                let mut trial = params;
                if trial.set(name, v, "fit").is_err() {
                    continue;
                }
                let l = loss(trial);
                if l < best - 1e-12 {
                    best = l;
                    params = trial;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    (params, best)
}

/// The fit: one global set over [`FIT_GRID`] from every case, then, for each hardware family
/// with at least two cases, its own compute and memory efficiency (never a per-case value).
/// Prints the `calibration.toml` to commit.
fn fit(overrides: &[(String, f64)]) -> anyhow::Result<()> {
    let suite = suite()?;
    let catalog = Catalog::builtin();
    let resolved: Vec<Resolved> = suite
        .case
        .iter()
        .map(|c| resolve(c, &catalog).with_context(|| format!("validation case `{}`", c.id)))
        .collect::<anyhow::Result<_>>()?;
    let mut params = Calibration::builtin().default;
    for (name, value) in overrides {
        params
            .set(name, *value, "--param")
            .map_err(|e| anyhow!("{e}"))?;
    }
    let all: Vec<&Resolved> = resolved.iter().collect();
    let (global, loss) = descend(&all, params, FIT_GRID);
    println!(
        "# global fit over {} cases: mean |log error| {loss:.4}",
        all.len()
    );
    println!("[default]");
    for (name, value) in global.as_map() {
        println!("{name} = {value:?}");
    }
    let mut families: BTreeMap<&str, Vec<&Resolved>> = BTreeMap::new();
    for r in &resolved {
        families
            .entry(r.hardware.family.as_str())
            .or_default()
            .push(r);
    }
    let family_grid: &[(&str, &[f64])] = &FIT_GRID[..2];
    for (family, cases) in families {
        if cases.len() < 2 {
            continue;
        }
        let (p, l) = descend(&cases, global, family_grid);
        println!(
            "\n# {family}: {} cases, mean |log error| {l:.4}",
            cases.len()
        );
        println!("[family.{family}]");
        for (name, _) in family_grid {
            println!("{name} = {:?}", p.get(name).unwrap_or(f64::NAN));
        }
    }
    Ok(())
}

#[cfg(test)]
const BASELINE: &str = include_str!("../../validation/baseline.toml");

#[cfg(test)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Baseline {
    median_abs_error: BTreeMap<String, f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_is_priced() {
        let (outcomes, pending) = run_suite(&[]).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(
            outcomes.len() + pending.len(),
            26,
            "every published case is a case or pending"
        );
        for o in &outcomes {
            assert!(
                o.predicted.is_finite() && o.predicted > 0.0,
                "{}: {}",
                o.id,
                o.predicted
            );
        }
    }

    #[test]
    fn median_error_does_not_regress_past_the_recorded_value() {
        let baseline: Baseline =
            toml::from_str(BASELINE).unwrap_or_else(|e| panic!("baseline.toml: {e}"));
        let (outcomes, _) = run_suite(&[]).unwrap_or_else(|e| panic!("{e:#}"));
        for s in summarize(&outcomes) {
            let recorded = baseline
                .median_abs_error
                .get(s.metric)
                .copied()
                .unwrap_or(0.0);
            assert!(
                s.median_abs_error <= recorded + 1e-9,
                "{}: median |error| {:.4} regressed past the recorded {:.4}",
                s.metric,
                s.median_abs_error,
                recorded
            );
        }
    }
}
