//! `servemath search`: every layout of a model on one or more machines, scored with the cost
//! model, the best re-scored in the simulator; the top configurations and the Pareto front as
//! a table, JSON, CSV or a plot. The search is [`servemath::search`]; this module reads the
//! flags and files into a request and writes what comes back.

mod csv;
mod plot;
use servemath_report::text::search as render;

use crate::args::{
    resolve_cost_inputs, slo_request, workload_request, CostFlags, Origins, SloFlags, WorkloadFlags,
};
use crate::commands::write_json;
use crate::common::plot::Kind;
use crate::common::{self, fmt, ParamArgs};
use anyhow::{anyhow, bail};
use clap::{Args, ValueEnum};
use servemath::search::{Machine, SearchRequest};
use servemath_model::Precision;
use servemath_report::{SearchReport, Versioned};
use servemath_search::{Objective, Restrict, MEASURED_REQUESTS};
use std::io::Write;
use std::path::PathBuf;

/// Search every layout of a model on one or more machines for the best configuration, and the
/// Pareto front of tokens/s per user against tokens/s per GPU.
///
/// Enumerates tensor, pipeline, expert and attention-data parallelism (the last two for MoE
/// models), aggregated replicas and prefill/decode-disaggregated xPyD units, the weight and KV
/// formats the hardware has a peak for, and batches (powers of two up to the largest that
/// fits, and the largest that meets the targets); only layouts that divide the model and fit
/// in memory. Each is scored with the cost model in parallel; the best --top are then
/// simulated under the workload (default: simulate's, rescaled to --load of each one's
/// capacity) and ranked on p99 TTFT and TPOT. Definitions: docs/search.md; the --json schema
/// (servemath.search/1) in docs/json-schema.md.
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// Built-in model name (see `servemath models`) or path to a Hugging Face config.json.
    #[arg(
        long,
        short = 'm',
        default_value = "llama-3.1-70b",
        value_name = "NAME|PATH"
    )]
    pub model: String,

    /// Hardware catalog ids, comma-separated, searched and compared side by side.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "h100-sxm",
        value_name = "ID,ID,..."
    )]
    pub hardware: Vec<String>,

    /// TOML file adding or overriding hardware entries (repeatable; later files win).
    #[arg(long = "hardware-file", value_name = "FILE.toml")]
    pub hardware_file: Vec<PathBuf>,

    /// Scale-up domain sizes to try as a design variable (e.g. 8,72,144), each on every
    /// --hardware entry [default: each entry's own].
    #[arg(long = "scale-up", value_delimiter = ',', value_name = "N,N,...")]
    pub scale_up: Vec<u32>,

    /// Most GPUs in one replica or one disaggregated unit [default: 64, or the largest
    /// scale-up domain searched if larger].
    #[arg(long, value_name = "N")]
    pub max_gpus: Option<u32>,

    /// Tokens/s each user must see at least: a TPOT target of 1 / X (with --slo-tpot, the
    /// tighter of the two).
    #[arg(
        long,
        value_name = "X",
        allow_negative_numbers = true,
        help_heading = "SLOs"
    )]
    pub min_tokens_per_s_per_user: Option<f64>,

    #[command(flatten)]
    pub slo: SloFlags,

    #[command(flatten)]
    pub workload: WorkloadFlags,

    /// Configurations to re-score in the simulator and print.
    #[arg(long, default_value_t = 20, value_name = "N", help_heading = "Search")]
    pub top: usize,

    /// Offered load of each simulated configuration, as a fraction of its analytic capacity.
    #[arg(
        long,
        default_value_t = 0.8,
        value_name = "FRACTION",
        allow_negative_numbers = true,
        help_heading = "Search"
    )]
    pub load: f64,

    /// Requests measured per simulated configuration, at least. Each is simulated for a
    /// warm-up (as many requests as it holds in steady state), then at least N requests and 4
    /// of its end-to-end latencies, whose p50 and p99 are reported, then a cool-down; never
    /// beyond the workload's own window, and a trace or a daily profile is simulated whole. A
    /// larger N reads the tails more steadily and takes longer (plausible: 1,000 to 20,000).
    #[arg(
        long,
        default_value_t = MEASURED_REQUESTS,
        value_name = "N",
        value_parser = clap::value_parser!(u64).range(100..),
        help_heading = "Search"
    )]
    pub sim_requests: u64,

    /// Skip the simulation: rank on the cost model alone.
    #[arg(long, help_heading = "Search")]
    pub no_sim: bool,

    /// Aggregated replicas only (no prefill/decode disaggregation).
    #[arg(long, help_heading = "Restrict")]
    pub no_disagg: bool,

    /// Only these weight formats, comma-separated (bf16, fp8, nvfp4, ...): the format of the
    /// bulk linear layers, the "w" of w/kv; a format matches its class (fp8 also
    /// fp8-block128, nvfp4 also mxfp4) [default: the checkpoint's and each narrower class the
    /// hardware has a peak for].
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "FORMAT,...",
        help_heading = "Restrict"
    )]
    pub weights: Vec<Precision>,

    /// Only these KV-cache formats, comma-separated (bf16, fp8, ...) [default: bf16 and each
    /// narrower class the hardware has a peak for].
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "FORMAT,...",
        help_heading = "Restrict"
    )]
    pub kv: Vec<Precision>,

    /// Only these tensor-parallel degrees, comma-separated (both pools of an xPyD unit).
    #[arg(long, value_delimiter = ',', value_name = "N,...", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Restrict")]
    pub tp: Vec<u32>,

    /// Only these pipeline depths, comma-separated (both pools of an xPyD unit).
    #[arg(long, value_delimiter = ',', value_name = "N,...", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Restrict")]
    pub pp: Vec<u32>,

    /// Only these expert-parallel degrees, comma-separated (MoE models; 1: no expert
    /// parallelism).
    #[arg(long, value_delimiter = ',', value_name = "N,...", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Restrict")]
    pub ep: Vec<u32>,

    /// Two-batch overlap only (on) or never (off) [default: both, where there is
    /// expert-parallel traffic].
    #[arg(long, value_enum, value_name = "on|off", help_heading = "Restrict")]
    pub tbo: Option<OnOff>,

    /// What "best" means: cost (fewest $ per million output tokens) or tokens-per-gpu
    /// [default: cost when every machine has a price, else tokens-per-gpu].
    #[arg(long, value_enum, value_name = "OBJECTIVE", help_heading = "Search")]
    pub rank_by: Option<RankBy>,

    #[command(flatten)]
    pub params: ParamArgs,

    #[command(flatten)]
    pub costs: CostFlags,

    /// Print the versioned JSON report (servemath.search/1) instead of the table.
    #[arg(long, help_heading = "Output")]
    pub json: bool,

    /// Write the top configurations and the fronts as CSV rows.
    #[arg(long, value_name = "FILE.csv", help_heading = "Output")]
    pub csv: Option<PathBuf>,

    /// Draw each machine's Pareto front (tokens/s per GPU, or $/Mtok with --front-cost,
    /// against tokens/s per user) with the top configurations marked, to FILE.svg or FILE.png.
    #[arg(long, value_name = "FILE.svg|FILE.png", help_heading = "Output")]
    pub plot: Option<PathBuf>,

    /// Show and draw the front in dollars per million output tokens.
    #[arg(long, help_heading = "Output")]
    pub front_cost: bool,

    /// No notes on stderr (warnings and errors still).
    #[arg(long, short = 'q', help_heading = "Output")]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RankBy {
    Cost,
    TokensPerGpu,
}

/// The request the flags describe, with the model, catalog, parameter and cost files read.
/// A machine with no price only loses its $ figures (with a note) unless cost flags were given.
fn request(args: &SearchArgs) -> anyhow::Result<SearchRequest> {
    let model = common::load_model(&args.model)?;
    let catalog = common::load_catalog(&args.hardware_file)?;
    let costs_given =
        args.costs.mode.is_some() || !args.costs.cost.is_empty() || args.costs.costs_file.is_some();
    let mut machines = Vec::new();
    for id in &args.hardware {
        let hw = catalog.get(id.trim())?;
        let params = common::resolve_params(&args.params, hw)?;
        let costs = match resolve_cost_inputs(&args.costs, hw) {
            Ok(c) => Some(c),
            Err(e) if !costs_given => {
                if !args.quiet {
                    crate::note(&format!("{}: no $ figures ({e:#})", hw.id));
                }
                None
            }
            Err(e) => return Err(e),
        };
        machines.push(Machine {
            hardware: hw.clone(),
            params,
            costs,
        });
    }
    Ok(SearchRequest {
        model,
        machines,
        scale_up: args.scale_up.clone(),
        max_gpus: args.max_gpus,
        min_tokens_per_s_per_user: args.min_tokens_per_s_per_user,
        slo: slo_request(&args.slo),
        workload: workload_request(&args.workload)?,
        top: args.top,
        load: args.load,
        measured_requests: args.sim_requests,
        simulate: !args.no_sim,
        disaggregation: !args.no_disagg,
        restrict: Restrict {
            weights: args.weights.clone(),
            kv: args.kv.clone(),
            tp: args.tp.clone(),
            pp: args.pp.clone(),
            ep: args.ep.clone(),
            two_batch_overlap: args.tbo.map(|t| t == OnOff::On),
        },
        objective: args.rank_by.map(|r| match r {
            RankBy::Cost => Objective::Cost,
            RankBy::TokensPerGpu => Objective::TokensPerGpu,
        }),
    })
}

pub fn run(args: &SearchArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let plot_kind = args.plot.as_deref().map(Kind::from_path).transpose()?;
    if let Some(dir) = args
        .csv
        .as_deref()
        .and_then(std::path::Path::parent)
        .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        bail!("--csv: directory `{}` does not exist", dir.display());
    }
    let (report, diagnostics) = servemath::search(&request(args)?, &Origins::default())?;
    crate::report_diagnostics(&diagnostics, args.quiet);
    let note = |msg: String| {
        if !args.quiet {
            crate::note(&msg);
        }
    };
    // Nothing meets the targets even on the cost model: no machine has a best configuration.
    if report.best_per_hardware.is_empty() {
        if args.json {
            write_json(out, &Versioned::new(report.clone()))?;
        }
        return Err(infeasible(&report));
    }
    if let Some(path) = &args.csv {
        csv::write(path, &report)?;
        note(format!("CSV written to {}", path.display()));
    }
    if let (Some(path), Some(kind)) = (&args.plot, plot_kind) {
        plot::draw(path, kind, &report, args.front_cost)?;
        note(format!("plot written to {}", path.display()));
    }
    if args.json {
        write_json(out, &Versioned::new(report))?;
    } else {
        write!(out, "{}", render::render(&report, args.front_cost))?;
    }
    Ok(())
}

/// The error when nothing meets the targets, naming the closest configuration and its miss.
fn infeasible(r: &SearchReport) -> anyhow::Error {
    let targets = render::targets(&r.slo);
    match &r.closest_miss {
        Some(m) => anyhow!(
            "infeasible: no configuration of {}{} on {} meets {targets}; the closest is {} at batch {} with TTFT {} and TPOT {}",
            r.model.name,
            render::restrictions(&r.restrict)
                .map(|h| format!(" (held to {h})"))
                .unwrap_or_default(),
            r.hardware
                .iter()
                .map(|h| h.label.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            render::unit(m),
            m.batch,
            fmt::seconds(m.analytic.ttft_s),
            fmt::seconds(m.analytic.tpot_s),
        ),
        None => anyhow!(
            "infeasible: {} does not fit on {} within --max-gpus {}{}",
            r.model.name,
            r.hardware
                .iter()
                .map(|h| h.label.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            r.max_gpus,
            render::restrictions(&r.restrict)
                .map(|h| format!(" (held to {h})"))
                .unwrap_or_default()
        ),
    }
}
