//! `servemath estimate`: a deployment priced at a list of batch sizes: latency, throughput,
//! the bound, utilization and memory fit per batch, with the floor, B* and the largest batch.

pub(crate) mod plot;

use crate::args::CostFlags;
use crate::commands::write_json;
use crate::common::fmt::layout;
use crate::common::fmt::{self};
use crate::common::{self, DeployArgs};
use clap::Args;
use servemath::{EstimateRequest, Estimated};
use servemath_report::text::estimate::{render, render_explain};
use servemath_report::Versioned;
use std::io::Write;
use std::path::PathBuf;

/// The largest batch, prompt and generation accepted: beyond them no deployment is meaningful.
const MAX_BATCH: u64 = 10_000_000;
const MAX_TOKENS: u64 = 100_000_000;

/// Estimate latency and throughput of a model on hardware, one table row per batch size.
///
/// Each batch is `--batch` identical requests arriving together: the prompts are prefilled in
/// one step (TTFT), then every request decodes `--output` tokens, each step priced at the mean
/// context (TPOT). Definitions of every figure: docs/metrics.md.
#[derive(Debug, Clone, Args)]
pub struct EstimateArgs {
    #[command(flatten)]
    pub deploy: DeployArgs,

    /// Prompt tokens per request.
    #[arg(long, default_value_t = 2048, value_parser = parse_tokens, value_name = "TOKENS")]
    pub input: u64,

    /// Generated tokens per request.
    #[arg(long, default_value_t = 256, value_parser = parse_tokens, value_name = "TOKENS")]
    pub output: u64,

    /// Batch sizes (concurrent requests), comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = [1u64, 8, 32, 128, 512],
        value_parser = parse_batch,
        allow_negative_numbers = true,
        value_name = "B,B,..."
    )]
    pub batch: Vec<u64>,

    /// Fraction of held GPU-hours doing useful work, for the $/Mtok columns, in (0, 1].
    #[arg(long, default_value_t = 0.7, value_name = "U")]
    pub utilization: f64,

    #[command(flatten)]
    pub costs: CostFlags,

    /// Print the versioned JSON report (`servemath.estimate/2`) instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Also draw TPOT and output tokens/s per GPU against batch, with B*, the floor and the
    /// largest batch marked, to FILE.svg or FILE.png.
    #[arg(long, value_name = "FILE.svg|FILE.png")]
    pub plot: Option<PathBuf>,

    /// Also print, per batch, the prefill and decode steps by kernel class (time, compute and
    /// memory sides, launches, what limits each) and where each class's efficiency came from.
    #[arg(long)]
    pub explain: bool,
}

impl Default for EstimateArgs {
    /// The no-argument case: Llama-3.1-70B on four H100s.
    fn default() -> Self {
        EstimateArgs {
            deploy: DeployArgs {
                tp: Some(4),
                ..DeployArgs::default()
            },
            input: 2048,
            output: 256,
            batch: vec![1, 8, 32, 128, 512],
            utilization: 0.7,
            costs: CostFlags::default(),
            json: false,
            plot: None,
            explain: false,
        }
    }
}

fn parse_count(s: &str, what: &str, max: u64) -> Result<u64, String> {
    let v: i128 = s
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{what} `{s}` is not a whole number"))?;
    if v < 1 {
        return Err(format!("{what} must be at least 1, got {v}"));
    }
    if v > i128::from(max) {
        return Err(format!(
            "{what} {v} is more than the {} accepted",
            fmt::int(max as f64)
        ));
    }
    u64::try_from(v).map_err(|_| format!("{what} {v} is out of range"))
}

fn parse_batch(s: &str) -> Result<u64, String> {
    parse_count(s, "batch", MAX_BATCH)
}

fn parse_tokens(s: &str) -> Result<u64, String> {
    parse_count(s, "token count", MAX_TOKENS)
}

pub fn run(args: &EstimateArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let plot_kind = args
        .plot
        .as_deref()
        .map(crate::common::plot::Kind::from_path)
        .transpose()?;
    crate::args::check_utilization(args.utilization)?;
    let deployment = common::deployment_request(&args.deploy)?;
    let costs = crate::args::apply_cost_flags(&args.costs, &deployment.hardware)?;
    let estimated = servemath::estimate(&EstimateRequest {
        deployment,
        input: args.input,
        output: args.output,
        batches: args.batch.clone(),
        utilization: args.utilization,
        costs: Some(costs),
    })?;
    crate::report_diagnostics(&estimated.diagnostics, false);
    if !estimated.fits() {
        return Err(nothing_fits(&estimated));
    }
    if let (Some(path), Some(kind)) = (&args.plot, plot_kind) {
        plot::draw(path, kind, &estimated)?;
        crate::note(&format!("plot written to {}", path.display()));
    }
    let report = estimated.report;
    if args.json {
        return write_json(out, &Versioned::new(report));
    }
    write!(out, "{}", render(&report))?;
    if args.explain {
        write!(out, "{}", render_explain(&report))?;
    }
    Ok(())
}

/// The error when no requested batch fits, with the reason for the smallest and a layout hint.
fn nothing_fits(e: &Estimated) -> anyhow::Error {
    let r = &e.report;
    let smallest = r.batches.first();
    let reason = smallest
        .and_then(|b| b.reason.clone())
        .unwrap_or_else(|| "no memory left for the KV cache".to_string());
    let what = match smallest {
        Some(b) if r.batches.len() == 1 => format!("--batch {} does not fit", b.batch),
        _ => "no requested batch fits".to_string(),
    };
    // When even one sequence does not fit, a wider tensor-parallel layout may.
    let hint = e
        .larger_tp
        .map(|tp| format!("; --tp {tp} would fit"))
        .unwrap_or_default();
    anyhow::anyhow!(
        "{} on {} ({}) at context {}: {what}: {reason}{hint}",
        r.model.name,
        r.hardware.id,
        layout(&r.layout),
        fmt::int(r.context_tokens as f64),
    )
}
