//! `servemath search`: every layout of a model on one or more machines, scored with the cost
//! model, the best re-scored in the simulator; the top configurations and the Pareto front as
//! a table, JSON, CSV or a plot. The search itself is `servemath-search`; this module resolves
//! the flags (the workload and SLOs as `simulate` resolves them) and writes what comes back.

mod csv;
mod plot;
mod render;

use crate::args::{
    resolve_cost_inputs, slo_request, workload_request, CostFlags, Origins, SloFlags, WorkloadFlags,
};
use crate::commands::write_json;
use crate::common::plot::Kind;
use crate::common::{self, fmt, ParamArgs};
use crate::usage;
use anyhow::{anyhow, bail};
use clap::{Args, ValueEnum};
use servemath::simulate::{resolve_slo, resolve_workload, Source};
use servemath_model::Precision;
use servemath_report::{
    SearchCounts, SearchHardware, SearchModel, SearchReport, SearchRestrict, SearchRow, SearchSlo,
    SimulationSetup, Versioned,
};
use servemath_search::{
    closest_miss, pareto_front, rank, rescore, search, Candidate, FrontAxis, HardwareOption,
    Objective, Restrict, SearchError, SearchResult, SearchSpec, SimOptions, SimScore, Slo, Traffic,
    Window, MEASURED_REQUESTS,
};
use servemath_sim::workload::Arrivals;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

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

/// The default most GPUs per unit.
const DEFAULT_MAX_GPUS: u32 = 64;

/// Everything resolved from the flags.
struct Setup {
    spec: SearchSpec,
    traffic: Traffic,
    simulation: SimulationSetup,
    slo: SearchSlo,
    objective: Objective,
}

fn resolve_setup(args: &SearchArgs) -> anyhow::Result<Setup> {
    let model = common::load_model(&args.model)?;
    let catalog = common::load_catalog(&args.hardware_file)?;
    let costs_given =
        args.costs.mode.is_some() || !args.costs.cost.is_empty() || args.costs.costs_file.is_some();
    let mut hardware = Vec::new();
    for id in &args.hardware {
        let hw = catalog.get(id.trim())?;
        let params = common::resolve_params(&args.params, hw)?;
        let cost = match resolve_cost_inputs(&args.costs, hw) {
            Ok(c) => Some(c),
            Err(e) if !costs_given => {
                if !args.quiet {
                    crate::note(&format!("{}: no $ figures ({e:#})", hw.id));
                }
                None
            }
            Err(e) => return Err(e),
        };
        let scale_ups: Vec<Option<u32>> = if args.scale_up.is_empty() {
            vec![None]
        } else {
            args.scale_up.iter().map(|&s| Some(s)).collect()
        };
        for s in scale_ups {
            if s == Some(0) {
                bail!("--scale-up 0: a scale-up domain holds at least one GPU");
            }
            hardware.push(HardwareOption::new(hw.clone(), s, params, cost.clone()));
        }
    }
    let flags = Origins::default();
    if args.workload.concurrency.is_some() {
        bail!("--concurrency: search offers each configuration a fraction (--load) of its capacity as open-loop arrivals; a closed loop does not apply");
    }
    if args.workload.rate.is_some() && !args.quiet {
        crate::warn("--rate sets only the arrival process; search rescales it to --load of each configuration's capacity");
    }
    let plan = resolve_workload(&workload_request(&args.workload)?, &flags)?;
    let mut workload = plan.report;
    let traffic = match plan.source {
        Source::Synthetic(s) => Traffic::Synthetic(s),
        Source::Trace(t) => Traffic::Trace(t),
        Source::Closed { .. } => bail!("--concurrency does not apply to search"),
    };
    // Only the shape of the arrivals is kept: each configuration gets its own rate.
    if let Traffic::Synthetic(s) = &traffic {
        workload.arrivals = Some(shape(s.arrivals()));
    }
    workload.mean_rate_per_s = None;
    let target = resolve_slo(&slo_request(&args.slo), &flags)?;
    let mut slo = target.map_or(
        Slo {
            ttft_s: f64::INFINITY,
            tpot_s: f64::INFINITY,
        },
        |t| t.0,
    );
    if let Some(x) = args.min_tokens_per_s_per_user {
        if !(x.is_finite() && x > 0.0) {
            bail!("--min-tokens-per-s-per-user {x}: must be a positive number of tokens/s");
        }
        slo.tpot_s = slo.tpot_s.min(1.0 / x);
    }
    let largest_domain = hardware
        .iter()
        .map(|h: &HardwareOption| h.hardware.scale_up_domain)
        .max()
        .unwrap_or(1);
    let max_gpus = args
        .max_gpus
        .unwrap_or(DEFAULT_MAX_GPUS.max(largest_domain));
    if max_gpus == 0 {
        bail!("--max-gpus 0: a configuration needs at least one GPU");
    }
    if !(args.load.is_finite() && args.load > 0.0 && args.load <= 1.5) {
        bail!(
            "--load {}: must be in (0, 1.5], a fraction of each configuration's capacity",
            args.load
        );
    }
    let all_priced = hardware.iter().all(|h| h.usd_per_gpu_hour.is_some());
    let objective = match args.rank_by {
        Some(RankBy::Cost) if !all_priced => bail!(
            "--rank-by cost: {} has no price; give --cost rental_usd_per_gpu_hour=... or rank by tokens-per-gpu",
            hardware
                .iter()
                .find(|h| h.usd_per_gpu_hour.is_none())
                .map_or("a machine", |h| h.label.as_str())
        ),
        Some(RankBy::Cost) => Objective::Cost,
        Some(RankBy::TokensPerGpu) => Objective::TokensPerGpu,
        None if all_priced => Objective::Cost,
        None => Objective::TokensPerGpu,
    };
    let spec = SearchSpec {
        model,
        hardware,
        input_tokens: workload.mean_input_tokens,
        output_tokens: workload.mean_output_tokens,
        slo,
        max_gpus,
        disaggregation: !args.no_disagg,
        restrict: Restrict {
            weights: args.weights.clone(),
            kv: args.kv.clone(),
            tp: args.tp.clone(),
            pp: args.pp.clone(),
            ep: args.ep.clone(),
            two_batch_overlap: args.tbo.map(|t| t == OnOff::On),
        },
    };
    Ok(Setup {
        spec,
        traffic,
        simulation: SimulationSetup {
            workload,
            load: args.load,
            candidates: 0,
            measured_requests: args.sim_requests,
            sized: 0,
        },
        slo: SearchSlo {
            ttft_s: target.and_then(|t| t.1.ttft_s),
            tpot_s: target.and_then(|t| t.1.tpot_s),
            min_tokens_per_s_per_user: args.min_tokens_per_s_per_user,
        },
        objective,
    })
}

/// An arrival process without its rate: `poisson`, `gamma with CV 2`, `... and a daily profile`.
fn shape(a: &Arrivals) -> String {
    match a {
        Arrivals::Poisson { .. } => "poisson arrivals".to_string(),
        Arrivals::Gamma { cv, .. } => format!("gamma arrivals with CV {cv}"),
        Arrivals::Daily { base, .. } => format!("{} and a daily profile", shape(base)),
    }
}

/// Sorts the simulated top: those meeting the targets at p99 first, by the objective on the
/// simulated figures; then the rest in their analytic order.
fn rerank(top: &mut [(Candidate, Option<SimScore>)], objective: Objective) {
    let key = |s: &SimScore| match objective {
        Objective::TokensPerGpu => -s.output_tokens_per_s_per_gpu,
        Objective::Cost => s.usd_per_m_output_tokens.unwrap_or(f64::INFINITY),
    };
    // A stable sort keeps the analytic order among the misses.
    top.sort_by(|a, b| match (&a.1, &b.1) {
        (Some(x), Some(y)) => y
            .meets_slo
            .cmp(&x.meets_slo)
            .then(if x.meets_slo && y.meets_slo {
                key(x).total_cmp(&key(y))
            } else {
                std::cmp::Ordering::Equal
            }),
        _ => std::cmp::Ordering::Equal,
    });
}

/// The Pareto front of each machine on `axis` (over the batch grid, among those meeting the
/// targets), machine by machine.
fn fronts(spec: &SearchSpec, r: &SearchResult, axis: FrontAxis, per_machine: bool) -> Vec<usize> {
    let meets = |i: &usize| {
        let c = &r.candidates[*i];
        c.on_grid && c.meets(&spec.slo)
    };
    if !per_machine {
        return pareto_front(&r.candidates, (0..r.candidates.len()).filter(meets), axis);
    }
    (0..spec.hardware.len())
        .flat_map(|h| {
            let among = (0..r.candidates.len())
                .filter(meets)
                .filter(move |&i| r.candidates[i].hardware == h);
            pareto_front(&r.candidates, among, axis)
        })
        .collect()
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
    let mut setup = resolve_setup(args)?;
    let spec = &setup.spec;
    let start = Instant::now();
    let result = search(spec).map_err(restricted)?;
    let analytic_s = start.elapsed().as_secs_f64();
    let note = |msg: String| {
        if !args.quiet {
            crate::note(&msg);
        }
    };
    note(format!(
        "analytic pass: {} configurations from {} layouts in {}",
        fmt::int(result.counts.candidates as f64),
        fmt::int(result.counts.layouts as f64),
        fmt::seconds(analytic_s)
    ));
    let ranked = rank(&result, &spec.slo, setup.objective);
    let row = |c: &Candidate, rank: Option<u32>, sim: Option<&SimScore>| {
        SearchRow::new(spec, c, rank, sim)
    };
    let mut top: Vec<(Candidate, Option<SimScore>)> = ranked
        .iter()
        .take(args.top)
        .map(|&i| (result.candidates[i], None))
        .collect();
    let simulate = !args.no_sim && !top.is_empty();
    if simulate {
        let start = Instant::now();
        let cands: Vec<Candidate> = top.iter().map(|t| t.0).collect();
        let opts = SimOptions {
            load: args.load,
            window: Window {
                measured_requests: args.sim_requests,
                ..Window::default()
            },
            ..SimOptions::default()
        };
        let scores = rescore(spec, &cands, &setup.traffic, &opts);
        for (t, s) in top.iter_mut().zip(scores) {
            let s = s?;
            setup.simulation.sized += u32::from(s.measured < s.completed);
            t.1 = Some(s);
        }
        note(format!(
            "simulated the top {} at {} of capacity in {}",
            top.len(),
            fmt::percent(args.load),
            fmt::seconds(start.elapsed().as_secs_f64())
        ));
        rerank(&mut top, setup.objective);
        setup.simulation.candidates = top.len() as u32;
    }
    let feasible_analytic = !ranked.is_empty();
    let feasible =
        feasible_analytic && (!simulate || top.iter().any(|t| t.1.is_some_and(|s| s.meets_slo)));
    let best_per_hardware = (0..spec.hardware.len())
        .filter_map(|h| ranked.iter().find(|&&i| result.candidates[i].hardware == h))
        .map(|&i| row(&result.candidates[i], None, None))
        .collect();
    let pareto = fronts(spec, &result, FrontAxis::TokensPerGpu, true);
    let pareto_cost = fronts(spec, &result, FrontAxis::Cost, false);
    let report = SearchReport {
        model: SearchModel::new(spec),
        hardware: SearchHardware::new(spec),
        input_tokens: spec.input_tokens,
        output_tokens: spec.output_tokens,
        slo: setup.slo,
        max_gpus: spec.max_gpus,
        disaggregation: spec.disaggregation,
        restrict: SearchRestrict::new(spec),
        objective: match setup.objective {
            Objective::TokensPerGpu => "tokens_per_gpu",
            Objective::Cost => "cost",
        },
        counts: SearchCounts::from(result.counts),
        simulation: simulate.then(|| setup.simulation.clone()),
        feasible,
        closest_miss: (!feasible_analytic)
            .then(|| closest_miss(&result, &spec.slo))
            .flatten()
            .map(|i| row(&result.candidates[i], None, None)),
        top: top
            .iter()
            .enumerate()
            .map(|(k, (c, s))| row(c, Some(k as u32 + 1), s.as_ref()))
            .collect(),
        best_per_hardware,
        pareto: pareto
            .iter()
            .map(|&i| row(&result.candidates[i], None, None))
            .collect(),
        pareto_cost: pareto_cost
            .iter()
            .map(|&i| row(&result.candidates[i], None, None))
            .collect(),
    };
    if !feasible_analytic {
        if args.json {
            write_json(out, &Versioned::new(report.clone()))?;
        }
        return Err(infeasible(&report));
    }
    if simulate && !feasible {
        crate::warn(&format!(
            "none of the top {} meets the targets at p99 in the simulator; a lower --load or looser targets may",
            top.len()
        ));
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

/// A restriction that leaves nothing to search is a usage error naming its flag and value.
fn restricted(e: SearchError) -> anyhow::Error {
    match e {
        SearchError::Restricted {
            field: "restrictions",
            value,
            reason,
        } => usage!("the restrictions ({value}) leave nothing to search: {reason}"),
        SearchError::Restricted {
            field,
            value,
            reason,
        } => usage!("--{field} {value}: {reason}"),
        e => e.into(),
    }
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
