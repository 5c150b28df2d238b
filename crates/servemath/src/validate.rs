//! `servemath validate`: the validation suite against published measurements.
//!
//! The suite (`validation/suite.toml`, compiled in) expresses each measured result of the
//! project's reference set in the cost model's terms; this command prices every case with the
//! global calibration and reports predicted against measured, per case and per metric.
//! `--fit` searches the global efficiencies that minimise the error over all cases.

use crate::ParamOverride;
use anyhow::{anyhow, Context};
use serde::Deserialize;
use servemath_cost::{Calibration, CostParams, Deployment, Parallelism, Precisions, StepLoad};
use servemath_hardware::{Catalog, Hardware};
use servemath_model::{MathPrecision, ModelSpec, Precision};
use servemath_report::{
    CaseOutcome as Outcome, FitReport, GroupSummary, HeldOutFamily, LeaveOneFamilyOut,
    MetricSummary, PendingCase, ValidateReport,
};
use std::collections::BTreeMap;

const SUITE: &str = include_str!("../validation/suite.toml");
/// The 2026 additions: latency, concurrency sweeps, MoE, AMD, and held-out DeepSeek checks.
const CASES_2026: &str = include_str!("../validation/cases-2026.toml");
/// Validation models that are not built-ins (as served in the paper; see each file's source).
const EXTRA_MODELS: &[(&str, &str)] = &[(
    "palm-540b-padded",
    include_str!("../validation/models/palm-540b-padded.json"),
)];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Suite {
    case: Vec<Case>,
    #[serde(default)]
    pending: Vec<Pending>,
}

/// What a case checks, for the per-category summary: MoE and AMD win over the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Category {
    Latency,
    Throughput,
    Moe,
    Amd,
}

impl Category {
    fn name(self) -> &'static str {
        match self {
            Category::Latency => "latency",
            Category::Throughput => "throughput",
            Category::Moe => "moe",
            Category::Amd => "amd",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Scenario {
    Offline,
    Prefill,
    Decode,
    Server,
    /// Requests of fixed lengths through the serving simulator: `concurrency` closed-loop
    /// users (a benchmark client at concurrency c) or Poisson arrivals at `rate`; the metric
    /// is the mean ITL (`ms_per_token`), mean TTFT (`latency_s`) or output tokens/s.
    Serve,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
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
    redundant_experts: Option<u32>,
    tbo: Option<bool>,
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
    /// Serve cases: closed-loop users, or an open Poisson rate (requests/s).
    concurrency: Option<u32>,
    rate: Option<f64>,
    /// The figure was measured at the client (NIM, Triton): TTFT includes the per-request front
    /// end (`request_overhead_s`).
    #[serde(default)]
    client: bool,
    /// Server cases: the p99 limits.
    ttft_p99_s: Option<f64>,
    tpot_p99_s: Option<f64>,
    metric: Metric,
    measured: f64,
    source: String,
    /// Stated in the 2026 cases; derived from the model, hardware and metric otherwise.
    category: Option<Category>,
    /// A check only: never used by `--fit` (MLPerf v5.1+, DeepSeek's own figures and the
    /// engine blogs on DeepSeek-V3/R1 are held back).
    #[serde(default)]
    held_out: bool,
    url: Option<String>,
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "for readers of the suite; checked by a test")
    )]
    notes: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pending {
    id: String,
    reason: String,
}

fn suite() -> anyhow::Result<Suite> {
    let mut s: Suite = toml::from_str(SUITE).context("validation/suite.toml")?;
    let extra: Suite = toml::from_str(CASES_2026).context("validation/cases-2026.toml")?;
    s.case.extend(extra.case);
    s.pending.extend(extra.pending);
    Ok(s)
}

/// A case's category: stated, or MoE for MoE models, AMD for AMD hardware, latency for
/// per-token and latency metrics, throughput otherwise.
fn category_of(r: &Resolved) -> Category {
    if let Some(c) = r.case.category {
        return c;
    }
    if r.model.is_moe() {
        Category::Moe
    } else if r.hardware.vendor == "AMD" {
        Category::Amd
    } else if matches!(r.case.metric, Metric::MsPerToken | Metric::LatencyS) {
        Category::Latency
    } else {
        Category::Throughput
    }
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
        redundant_experts: case.redundant_experts.unwrap_or(0),
        two_batch_overlap: case.tbo.unwrap_or(false),
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
            // Each beam decodes its own token every step and reads the whole context, the
            // prompt's KV included (as when the context KV is tiled to every beam after the
            // context phase). Reading the prompt once per request instead overshoots this case
            // by a third; which one TensorRT-LLM's beam-search kernels do is not documented.
            let load = StepLoad::decode(batch * beams, c.input + output / 2.0)
                + StepLoad::prefill(batch / output, c.input, 0.0);
            let step = d.step(&load);
            (replicas * batch / step.time_s, batch, step.bound.name())
        }
        Scenario::Prefill => {
            let batch = c.batch.unwrap_or(1.0);
            let step = d.step(&StepLoad::prefill(batch, c.input, 0.0));
            let front = if c.client {
                params.request_overhead_s
            } else {
                0.0
            };
            let value = match c.metric {
                Metric::Mfu => step.mfu,
                _ => step.time_s + front,
            };
            (value, batch, step.bound.name())
        }
        Scenario::Server => {
            // The limit is set by the p99 targets in simulation, not by one step's bound.
            let (rate, batch) = server_rate(c, d)?;
            (rate * output, batch, "p99 limits")
        }
        Scenario::Serve => {
            let r = serve(c, d)?;
            let value = match c.metric {
                Metric::MsPerToken => r.itl.mean * 1e3,
                Metric::LatencyS => {
                    r.ttft.mean
                        + if c.client {
                            params.request_overhead_s
                        } else {
                            0.0
                        }
                }
                _ => r.output_tokens_per_s,
            };
            let batch = r.output_tokens_per_s * r.duration_s / (r.steps.max(1) as f64);
            (value, batch, "simulated")
        }
        Scenario::Decode => {
            let batch = c.batch.unwrap_or(1.0);
            let step = d.step(&StepLoad::decode(batch, c.input + output / 2.0));
            (step.time_s * 1e3, batch, step.bound.name())
        }
    };
    Ok(Outcome {
        id: c.id.clone(),
        category: category_of(r).name().to_string(),
        family: r.hardware.family.clone(),
        held_out: c.held_out,
        metric: c.metric.name().to_string(),
        measured: c.measured,
        predicted,
        error: predicted / c.measured - 1.0,
        batch,
        bound: bound.to_string(),
        source: c.source.clone(),
        url: c.url.clone(),
    })
}

/// The simulated fleet of a case: `replicas` unified replicas with chunked prefill (the
/// engines' default), the case's max batch as the sequence limit, least-outstanding routing.
fn sim_config(c: &Case, dep: std::sync::Arc<Deployment>) -> servemath_sim::SimConfig {
    use servemath_sim::{Policy, Pool, ReplicaSpec, Router, SchedulerConfig, SimConfig};
    let mut scheduler = SchedulerConfig::vllm(Policy::Chunked);
    if let Some(m) = c.max_batch {
        scheduler.max_seqs = m as u32;
    }
    let replica = ReplicaSpec {
        deployment: dep,
        scheduler,
        pool: Pool::Unified,
    };
    SimConfig::new(vec![replica; c.replicas as usize], Router::LeastOutstanding)
}

/// A serve case through the simulator: fixed lengths, chunked prefill (the engine's default),
/// closed-loop users or Poisson arrivals; enough requests that the start-up burst washes out.
fn serve(c: &Case, d: Deployment) -> anyhow::Result<servemath_sim::SimReport> {
    use servemath_sim::workload::{Arrivals, LengthDist, Lengths, Limit, Synthetic};
    use servemath_sim::{simulate, ClosedLoop, Workload};
    let input = c.input.round().max(1.0) as u32;
    let output = c.output.unwrap_or(1.0).round().max(1.0) as u32;
    let cfg = sim_config(c, std::sync::Arc::new(d));
    let workload = match (c.concurrency, c.rate) {
        (Some(users), None) => Workload::Closed(ClosedLoop {
            users,
            requests: u64::from(users.max(10)) * 40,
            lengths: Box::new(move || (input, output)),
        }),
        (None, Some(rate)) => {
            let lengths = Lengths::Independent {
                input: LengthDist::Fixed(input),
                output: LengthDist::Fixed(output),
            };
            let synthetic = Synthetic::new(
                Arrivals::Poisson { rate_per_s: rate },
                lengths,
                0,
                Limit::requests(2000),
            )
            .map_err(|e| anyhow!("{e}"))?;
            Workload::Open(Box::new(synthetic.into_iter()))
        }
        _ => {
            return Err(anyhow!(
                "a serve case states exactly one of `concurrency` and `rate`"
            ))
        }
    };
    Ok(simulate(cfg, workload)?)
}

/// Simulated arrival window per trial rate in a server case: MLPerf's minimum run of ten minutes,
/// long against a request's lifetime so the tail reflects steady state, not warm-up.
const SERVER_DURATION_S: f64 = 600.0;

/// The highest Poisson rate (requests/s, all replicas) whose p99 TTFT and TPOT meet the case's
/// limits, by bisection over simulations with a fixed seed; and the mean running batch there.
fn server_rate(c: &Case, d: Deployment) -> anyhow::Result<(f64, f64)> {
    use servemath_sim::workload::{Arrivals, LengthDist, Lengths, Limit, Synthetic};
    use servemath_sim::{simulate, Workload};
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
    let dep = std::sync::Arc::new(d);
    let run = |rate: f64| -> anyhow::Result<servemath_sim::SimReport> {
        let synthetic = Synthetic::new(
            Arrivals::Poisson { rate_per_s: rate },
            lengths.clone(),
            0,
            Limit::duration_s(SERVER_DURATION_S),
        )
        .map_err(|e| anyhow!("{e}"))?;
        let cfg = sim_config(c, dep.clone());
        Ok(simulate(
            cfg,
            Workload::Open(Box::new(synthetic.into_iter())),
        )?)
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
fn summarize(outcomes: &[Outcome]) -> Vec<MetricSummary> {
    let mut by: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes.iter().filter(|o| !o.held_out) {
        by.entry(o.metric.as_str()).or_default().push(o);
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
                metric: metric.to_string(),
                cases: n,
                median_abs_error: median,
                worst_abs_error: worst.0,
                worst_case: worst.1,
            }
        })
        .collect()
}

/// Median of `errs` (absolute relative errors); 0 when empty.
fn median(errs: &mut [f64]) -> f64 {
    errs.sort_by(f64::total_cmp);
    let n = errs.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => errs[n / 2],
        _ => (errs[n / 2 - 1] + errs[n / 2]) / 2.0,
    }
}

fn group(name: String, os: &[&Outcome]) -> GroupSummary {
    let mut errs: Vec<f64> = os.iter().map(|o| o.error.abs()).collect();
    let worst = os
        .iter()
        .max_by(|a, b| a.error.abs().total_cmp(&b.error.abs()))
        .map(|o| (o.error.abs(), o.id.clone()))
        .unwrap_or_default();
    GroupSummary {
        group: name,
        cases: os.len(),
        median_abs_error: median(&mut errs),
        worst_abs_error: worst.0,
        worst_case: worst.1,
    }
}

/// Summaries over all calibration cases, per category and per hardware family, and over the
/// held-out checks.
fn group_summaries(outcomes: &[Outcome]) -> Vec<GroupSummary> {
    let used: Vec<&Outcome> = outcomes.iter().filter(|o| !o.held_out).collect();
    let mut out = vec![group("all".to_string(), &used)];
    let mut cats: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    let mut fams: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in &used {
        cats.entry(o.category.as_str()).or_default().push(o);
        fams.entry(o.family.as_str()).or_default().push(o);
    }
    for (c, os) in cats {
        out.push(group(format!("category:{c}"), &os));
    }
    for (f, os) in fams {
        out.push(group(format!("family:{f}"), &os));
    }
    let held: Vec<&Outcome> = outcomes.iter().filter(|o| o.held_out).collect();
    if !held.is_empty() {
        out.push(group("held_out".to_string(), &held));
    }
    out
}

/// What `validate` is asked: parameter overrides applied to every case, and whether to run
/// leave-one-family-out too.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidateRequest {
    /// Cost parameters set on top of each case's family calibration.
    pub overrides: Vec<ParamOverride>,
    /// Refit the engine constants without each hardware family and predict its cases.
    pub leave_one_family_out: bool,
}

/// Every validation case priced against its published measurement, with summaries by metric,
/// category and hardware family.
pub fn validate(request: &ValidateRequest) -> anyhow::Result<ValidateReport> {
    let (cases, pending) = run_suite(&request.overrides)?;
    let leave_one_family_out = if request.leave_one_family_out {
        Some(leave_one_family_out()?)
    } else {
        None
    };
    Ok(ValidateReport {
        summary: summarize(&cases),
        groups: group_summaries(&cases),
        cases,
        leave_one_family_out,
        pending: pending
            .into_iter()
            .map(|p| PendingCase {
                id: p.id,
                reason: p.reason,
            })
            .collect(),
    })
}

/// `params` with every override applied, each error naming where the override came from.
fn overridden(mut params: CostParams, overrides: &[ParamOverride]) -> anyhow::Result<CostParams> {
    for o in overrides {
        params
            .set(&o.name, o.value, &o.origin)
            .map_err(|e| anyhow!("{e}"))?;
    }
    Ok(params)
}

/// Prices every case with the calibration for its hardware family plus `overrides`.
fn run_suite(overrides: &[ParamOverride]) -> anyhow::Result<(Vec<Outcome>, Vec<Pending>)> {
    let suite = suite()?;
    let catalog = Catalog::builtin();
    let calibration = Calibration::builtin();
    let mut outcomes = Vec::new();
    for case in &suite.case {
        let r =
            resolve(case, &catalog).with_context(|| format!("validation case `{}`", case.id))?;
        let params = overridden(calibration.for_family(&r.hardware.family), overrides)?;
        outcomes.push(price(&r, params).with_context(|| format!("validation case `{}`", case.id))?);
    }
    Ok((outcomes, suite.pending))
}

/// The engine-level constants `--fit` searches globally, each grid spanning its plausible range
/// (`PARAM_DOCS`). Kernel-level efficiencies are not here: they come from measured kernel
/// tables (`catalog/kernels.toml`).
const FIT_GRID: &[(&str, &[f64])] = &[
    (
        "step_overhead_s",
        &[
            5e-5, 1e-4, 2e-4, 3e-4, 4e-4, 5e-4, 6e-4, 7e-4, 8e-4, 1e-3, 1.25e-3, 1.5e-3, 2e-3, 3e-3,
        ],
    ),
    (
        "seq_overhead_s",
        &[
            5e-7, 1e-6, 2e-6, 4e-6, 6e-6, 8e-6, 1e-5, 1.5e-5, 2e-5, 3e-5, 5e-5, 8e-5,
        ],
    ),
    (
        "moe_load_imbalance",
        &[1.0, 1.05, 1.1, 1.15, 1.2, 1.3, 1.4, 1.5, 1.75, 2.0],
    ),
    (
        "graph_launch_overlap",
        &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    ),
    (
        "request_overhead_s",
        &[
            1e-3, 2e-3, 4e-3, 6e-3, 8e-3, 1e-2, 1.5e-2, 2e-2, 3e-2, 4e-2, 6e-2,
        ],
    ),
];

/// Per-family fallback efficiencies, fitted only for families without kernel tables.
const FAMILY_GRID: &[(&str, &[f64])] = &[
    (
        "compute_efficiency",
        &[
            0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9, 0.95,
        ],
    ),
    (
        "memory_efficiency",
        &[0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
    ),
    (
        "kernel_launch_s",
        &[1e-6, 2e-6, 3e-6, 4e-6, 6e-6, 8e-6, 1e-5, 1.5e-5, 2e-5, 3e-5],
    ),
    (
        "allreduce_latency_s",
        &[2e-6, 4e-6, 6e-6, 8e-6, 1e-5, 1.5e-5, 2e-5, 3e-5, 4e-5, 6e-5],
    ),
    (
        "step_overhead_s",
        &[
            5e-5, 1e-4, 2e-4, 3e-4, 5e-4, 7e-4, 1e-3, 1.5e-3, 2e-3, 3e-3, 4e-3, 6e-3,
        ],
    ),
];

/// Whether a case takes part in fits: measured, not held back, and cheap to price (server
/// cases run a simulated bisection per trial and are checked, not fitted).
fn fittable(r: &Resolved) -> bool {
    !r.case.held_out && r.case.scenario != Scenario::Server
}

/// Coordinate descent over `grid` minimising the mean absolute log error of `cases`, with
/// `params_of` giving each case's starting parameters (its family's) with the trial values on
/// top.
fn descend(
    cases: &[&Resolved],
    base: &dyn Fn(&Resolved) -> CostParams,
    mut chosen: BTreeMap<&'static str, f64>,
    grid: &[(&'static str, &[f64])],
) -> (BTreeMap<&'static str, f64>, f64) {
    let with = |r: &Resolved, set: &BTreeMap<&'static str, f64>| -> Option<CostParams> {
        let mut p = base(r);
        for (name, v) in set {
            p.set(name, *v, "fit").ok()?;
        }
        Some(p)
    };
    let loss = |set: &BTreeMap<&'static str, f64>| -> f64 {
        let total: f64 = cases
            .iter()
            .map(|r| {
                with(r, set)
                    .and_then(|p| price(r, p).ok())
                    .map_or(10.0, |o| (o.predicted / o.measured).ln().abs())
            })
            .sum();
        total / cases.len().max(1) as f64
    };
    let mut best = loss(&chosen);
    for _round in 0..6 {
        let mut improved = false;
        for (name, values) in grid {
            for &v in *values {
                let mut trial = chosen.clone();
                trial.insert(name, v);
                let l = loss(&trial);
                if l < best - 1e-12 {
                    best = l;
                    chosen = trial;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    (chosen, best)
}

/// Names the fitted values that landed on an edge of their grid: a failed fit.
fn on_edge(chosen: &BTreeMap<&'static str, f64>, grid: &[(&'static str, &[f64])]) -> Vec<String> {
    grid.iter()
        .filter_map(|(name, values)| {
            let v = *chosen.get(name)?;
            let (lo, hi) = (values.first()?, values.last()?);
            let at = |edge: f64| (v - edge).abs() <= 1e-12 * edge.abs().max(1e-30);
            (at(*lo) || at(*hi)).then(|| format!("{name} = {v} (grid {lo} .. {hi})"))
        })
        .collect()
}

fn resolve_all() -> anyhow::Result<Vec<Resolved>> {
    let suite = suite()?;
    let catalog = Catalog::builtin();
    suite
        .case
        .iter()
        .map(|c| resolve(c, &catalog).with_context(|| format!("validation case `{}`", c.id)))
        .collect()
}

/// Families whose kernel-level efficiencies have no measured tables: their fallback
/// efficiencies are fitted per family.
fn datasheet_family(r: &Resolved) -> bool {
    servemath_hardware::kernels::confidence(&r.hardware.id)
        == servemath_hardware::Confidence::Datasheet
}

/// The global engine constants over `cases`, then each datasheet family's fallback
/// efficiencies over its own cases. Returns the global values, per-family values and loss.
#[allow(clippy::type_complexity)]
fn fit_on(
    cases: &[&Resolved],
    overrides: &[ParamOverride],
) -> anyhow::Result<(
    BTreeMap<&'static str, f64>,
    BTreeMap<String, BTreeMap<&'static str, f64>>,
    f64,
)> {
    let calibration = Calibration::builtin();
    // Every override is checked once here, so that the fit's own trials cannot hide a bad one.
    let mut family_params = BTreeMap::new();
    for r in cases {
        if !family_params.contains_key(&r.hardware.family) {
            let p = overridden(calibration.for_family(&r.hardware.family), overrides)?;
            family_params.insert(r.hardware.family.clone(), p);
        }
    }
    let base = |r: &Resolved| -> CostParams {
        family_params
            .get(&r.hardware.family)
            .copied()
            .unwrap_or_else(|| calibration.for_family(&r.hardware.family))
    };
    let start: BTreeMap<&'static str, f64> = FIT_GRID
        .iter()
        .map(|(n, _)| (*n, calibration.default.get(n).unwrap_or(0.0)))
        .collect();
    let measured: Vec<&Resolved> = cases
        .iter()
        .copied()
        .filter(|r| !datasheet_family(r))
        .collect();
    let (global, loss) = descend(&measured, &base, start, FIT_GRID);
    let mut families: BTreeMap<String, Vec<&Resolved>> = BTreeMap::new();
    for r in cases.iter().copied().filter(|r| datasheet_family(r)) {
        families
            .entry(r.hardware.family.clone())
            .or_default()
            .push(r);
    }
    let mut per_family = BTreeMap::new();
    for (family, fc) in families {
        let mut start = global.clone();
        let family_params = calibration.for_family(&family);
        for (name, _) in FAMILY_GRID {
            start.insert(name, family_params.get(name).unwrap_or(0.0));
        }
        let (mut chosen, _) = descend(&fc, &base, start, FAMILY_GRID);
        chosen.retain(|n, _| FAMILY_GRID.iter().any(|(g, _)| g == n));
        per_family.insert(family, chosen);
    }
    Ok((global, per_family, loss))
}

/// The calibration fit: the engine constants globally over every fittable case of hardware
/// with measured kernel curves; then, for each family without kernel tables, its fallback
/// efficiencies. A value on the edge of its grid is listed in `on_edge`: such a fit has
/// failed, and the caller must not commit it.
pub fn calibrate(overrides: &[ParamOverride]) -> anyhow::Result<FitReport> {
    let resolved = resolve_all()?;
    let cases: Vec<&Resolved> = resolved.iter().filter(|r| fittable(r)).collect();
    let (global, families, loss) = fit_on(&cases, overrides)?;
    let mut on_edge_values = on_edge(&global, FIT_GRID);
    for (family, chosen) in &families {
        on_edge_values.extend(
            on_edge(chosen, FAMILY_GRID)
                .into_iter()
                .map(|e| format!("{family}: {e}")),
        );
    }
    let named = |m: &BTreeMap<&'static str, f64>| -> BTreeMap<String, f64> {
        m.iter().map(|(n, v)| (n.to_string(), *v)).collect()
    };
    Ok(FitReport {
        cases: cases.iter().filter(|r| !datasheet_family(r)).count(),
        mean_abs_log_error: loss,
        global: named(&global),
        families: families
            .iter()
            .map(|(family, chosen)| (family.clone(), named(chosen)))
            .collect(),
        on_edge: on_edge_values,
    })
}

/// Leave-one-family-out: for each hardware family, refit the global engine constants (and the
/// fallback efficiencies of datasheet families) without its cases, then price them.
/// Returns the per-family results and the median over every case so predicted.
fn leave_one_family_out() -> anyhow::Result<LeaveOneFamilyOut> {
    let resolved = resolve_all()?;
    let cases: Vec<&Resolved> = resolved.iter().filter(|r| fittable(r)).collect();
    let mut families: Vec<String> = cases.iter().map(|r| r.hardware.family.clone()).collect();
    families.sort();
    families.dedup();
    let calibration = Calibration::builtin();
    let mut all_errs = Vec::new();
    let mut out = Vec::new();
    for family in families {
        let train: Vec<&Resolved> = cases
            .iter()
            .copied()
            .filter(|r| r.hardware.family != family)
            .collect();
        let (global, fams, _) = fit_on(&train, &[])?;
        let mut errs = Vec::new();
        for r in cases.iter().filter(|r| r.hardware.family == family) {
            let mut p = calibration.default;
            for (n, v) in global.iter().chain(fams.get(&family).into_iter().flatten()) {
                p.set(n, *v, "fit").map_err(|e| anyhow!("{e}"))?;
            }
            let o = price(r, p)?;
            errs.push(o.error.abs());
        }
        all_errs.extend(errs.iter().copied());
        let worst = errs.iter().copied().fold(0.0, f64::max);
        out.push(HeldOutFamily {
            family,
            cases: errs.len(),
            median_abs_error: median(&mut errs),
            worst_abs_error: worst,
        });
    }
    Ok(LeaveOneFamilyOut {
        families: out,
        median_abs_error: median(&mut all_errs),
    })
}

#[cfg(test)]
const BASELINE: &str = include_str!("../validation/baseline.toml");

#[cfg(test)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Baseline {
    /// Group (`all`, `category:moe`, `family:hopper`, ...) -> recorded median |error|.
    median_abs_error: BTreeMap<String, f64>,
    /// Group -> recorded worst |error|.
    worst_abs_error: BTreeMap<String, f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_2026_case_cites_its_url_and_quotes_its_row() {
        let extra: Suite = toml::from_str(CASES_2026).unwrap_or_else(|e| panic!("{e}"));
        assert!(extra.case.len() >= 25, "{} cases", extra.case.len());
        for c in &extra.case {
            assert!(
                c.url.as_deref().is_some_and(|u| u.starts_with("https://")),
                "{}: no url",
                c.id
            );
            assert!(
                c.notes.as_deref().is_some_and(|n| n.len() > 20),
                "{}: no notes",
                c.id
            );
            assert!(c.category.is_some(), "{}: no category", c.id);
        }
    }

    #[test]
    fn every_case_is_priced() {
        let (outcomes, pending) = run_suite(&[]).unwrap_or_else(|e| panic!("{e:#}"));
        // 26 of shared/reference/published.toml (21 priced, 5 pending) and the 41 cases of
        // validation/cases-2026.toml.
        assert_eq!(
            outcomes.len() + pending.len(),
            26 + 41,
            "every published case is a case or pending"
        );
        let used = outcomes.iter().filter(|o| !o.held_out).count();
        assert!(used >= 45, "only {used} calibration cases");
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
        let groups = group_summaries(&outcomes);
        for (group, recorded) in &baseline.median_abs_error {
            let now = groups
                .iter()
                .find(|g| &g.group == group)
                .unwrap_or_else(|| panic!("baseline group `{group}` has no cases"));
            assert!(
                now.median_abs_error <= recorded + 1e-9,
                "{group}: median |error| {:.4} regressed past the recorded {recorded:.4}",
                now.median_abs_error,
            );
        }
        for (group, recorded) in &baseline.worst_abs_error {
            let now = groups
                .iter()
                .find(|g| &g.group == group)
                .unwrap_or_else(|| panic!("baseline group `{group}` has no cases"));
            assert!(
                now.worst_abs_error <= recorded + 1e-9,
                "{group}: worst |error| {:.4} ({}) regressed past the recorded {recorded:.4}",
                now.worst_abs_error,
                now.worst_case
            );
        }
    }
}
