//! One deployment's steps from batch 1 to the largest that fits: TTFT, TPOT, throughput per
//! GPU, the kernels behind each step, and (with cost inputs) $ per million tokens.

use crate::{DeploymentRequest, Diagnostic};
use servemath_cost::Deployment;
use servemath_econ::{CostInputs, Mode};
use servemath_report::{human, EstimateReport, TokenCostBasis};

/// What `estimate` is asked.
#[derive(Debug, Clone)]
pub struct EstimateRequest {
    /// The deployment, at its tensor-parallel degree (TP1 when none is given).
    pub deployment: DeploymentRequest,
    /// Prompt tokens per request.
    pub input: u64,
    /// Generated tokens per request.
    pub output: u64,
    /// Concurrent requests to price (sorted and deduplicated here).
    pub batches: Vec<u64>,
    /// Fraction of held GPU-hours doing useful work, in \[0.001, 1\], for the $ columns.
    pub utilization: f64,
    /// The hardware's cost inputs; `None` (or inputs missing a figure their mode needs, with a
    /// warning) leaves the $ columns out.
    pub costs: Option<CostInputs>,
}

/// The estimate, the deployment it priced (for sweeps and plots) and what the caller should
/// know.
pub struct Estimated {
    /// One row per requested batch (TTFT, TPOT, throughput, kernels, $/Mtok), the JSON
    /// boundary's type.
    pub report: EstimateReport,
    /// The deployment the rows were priced on, at the request's tensor-parallel degree.
    pub deployment: Deployment,
    /// When not even one sequence fits: the smallest wider tensor-parallel degree that would.
    pub larger_tp: Option<u32>,
    /// Warnings for the caller: a context longer than the model was trained for, $ columns
    /// dropped for a missing cost figure.
    pub diagnostics: Vec<Diagnostic>,
}

/// One point of a batch sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepPoint {
    /// Concurrent requests (not necessarily whole: a sweep is a curve).
    pub batch: f64,
    /// Time per output token at this batch, seconds.
    pub tpot_s: f64,
    /// Output tokens/s per GPU at this batch.
    pub output_tokens_per_s_per_gpu: f64,
}

impl Estimated {
    /// Whether any requested batch fits in memory.
    pub fn fits(&self) -> bool {
        self.report.batches.iter().any(|b| b.fits)
    }

    /// TPOT and output tokens/s per GPU at `points` batches spaced evenly on a log scale from
    /// `lo` to `hi`, stopping at the largest batch that fits (beyond it no batch runs).
    pub fn sweep(&self, lo: f64, hi: f64, points: usize) -> Vec<SweepPoint> {
        let r = &self.report;
        let limit = r.max_batch as f64;
        let (input, output) = (r.input_tokens as f64, r.output_tokens as f64);
        let steps = points.max(2) - 1;
        (0..=steps)
            .map(|i| lo * (hi / lo).powf(i as f64 / steps as f64))
            .filter(|&b| limit < 1.0 || b <= limit)
            .map(|b| {
                let e = self.deployment.estimate(b, input, output);
                SweepPoint {
                    batch: b,
                    tpot_s: e.tpot_s,
                    output_tokens_per_s_per_gpu: e.output_tokens_per_s_per_gpu,
                }
            })
            .collect()
    }
}

/// Prices every requested batch. A batch that does not fit is reported with its reason; the
/// caller decides whether none fitting is an error ([`Estimated::fits`]).
pub fn estimate(request: &EstimateRequest) -> anyhow::Result<Estimated> {
    let u = servemath_econ::check_utilization(request.utilization, "utilization")?;
    let dep = request.deployment.deploy()?;
    let mut diagnostics = Vec::new();
    let context = request.input + request.output;
    if context > dep.model().max_context {
        diagnostics.push(Diagnostic::Warning(format!(
            "context {} (input + output) exceeds the {} tokens {} was trained for (max_position_embeddings)",
            human::int(context as f64),
            human::int(dep.model().max_context as f64),
            dep.model().name
        )));
    }
    let mut batches = request.batches.clone();
    batches.sort_unstable();
    batches.dedup();
    let mut report = EstimateReport::new(&dep, request.input, request.output, &batches);
    if let Some(basis) = token_cost_basis(request.costs.as_ref(), u, &mut diagnostics) {
        report = report.with_token_costs(basis);
    }
    let larger_tp = if report.max_batch == 0 {
        request
            .deployment
            .smallest_fitting_tp(context as f64, dep.parallelism().tp)
            .map(|(tp, _)| tp)
    } else {
        None
    };
    Ok(Estimated {
        report,
        deployment: dep,
        larger_tp,
        diagnostics,
    })
}

/// The GPU-hour price of the $/Mtok columns at utilization `u`; inputs missing a figure their
/// mode needs only drop the columns, with a warning.
fn token_cost_basis(
    inputs: Option<&CostInputs>,
    u: f64,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<TokenCostBasis> {
    let inputs = inputs?;
    if let Err(e) = inputs.check() {
        diagnostics.push(Diagnostic::Warning(format!("no $/Mtok columns: {e}")));
        return None;
    }
    let g = servemath_econ::gpu_hour_cost(inputs, u);
    let source = match inputs.mode {
        Mode::Rental => inputs.source("rental_usd_per_gpu_hour"),
        Mode::Owned => inputs.source("capital_usd_per_gpu"),
    };
    Some(TokenCostBasis {
        mode: inputs.mode.name(),
        usd_per_gpu_hour: g.total_usd,
        utilization: u,
        source: source.unwrap_or("servemath cost").to_string(),
    })
}
