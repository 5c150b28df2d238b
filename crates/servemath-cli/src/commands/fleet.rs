//! `servemath fleet`: the smallest fleet that meets latency targets at a demand's peak, found
//! with the simulator; its GPUs, racks, megawatts and yearly cost; and the price of slack.
//! The sizing is [`servemath::fleet`]; this module reads the flags and files into a request and
//! writes the answer.

use crate::args::{
    apply_cost_flags, slo_request, workload_request, CostFlags, Origins, SloFlags, Text,
    WorkloadFlags,
};
use crate::commands::write_json;
use crate::common::fmt::{self};
use crate::common::DeployArgs;
use anyhow::anyhow;
use clap::Args;
use servemath::fleet::{DayShape, Demand, FleetRequest};
use servemath_report::text::fleet::{render, targets};
use servemath_report::{FleetReport, Versioned};
use std::io::Write;
use std::path::PathBuf;

/// Size a fleet for a demand: the smallest replica count that meets the latency targets at the
/// peak hour in the simulator; then GPUs, racks, megawatts, yearly cost and $ per million
/// tokens, and the price of slack (the same peak at target utilizations, with its p99s).
///
/// The demand is tokens (prompt + output) or requests per day, spread over the day by
/// --profile; the peak hour's rate is simulated for --duration (default 1 h) on r replicas
/// behind a least-outstanding router, and r is found by an exponential search and bisection.
/// A count meets the targets when p99 TTFT and p99 TPOT are within them and the run keeps up.
/// Definitions: docs/search.md; the --json schema (servemath.fleet/1) in docs/json-schema.md.
#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    #[command(flatten)]
    pub deploy: DeployArgs,

    /// Demand per day: tokens (prompt + output) as `1e9tok/day`, or requests as
    /// `50000req/day`; `/h` and `/s` also read.
    #[arg(
        long,
        allow_hyphen_values = true,
        default_value = "1e9tok/day",
        value_name = "N{tok|req}/day",
        help_heading = "Demand"
    )]
    pub demand: String,

    /// How the demand spreads over the day: flat, diurnal (1 + 0.5·sin, peak 1.5× at 15:00,
    /// trough 0.5× at 03:00) or 24 comma-separated hourly multipliers.
    #[arg(
        long,
        default_value = "diurnal",
        value_name = "flat|diurnal|M0,...,M23",
        help_heading = "Demand"
    )]
    pub profile: String,

    /// Prompt lengths: fixed:N, uniform:LO,HI or lognormal:MEAN,SIGMA [default:
    /// lognormal:2000,1.0].
    #[arg(long, value_name = "SPEC", help_heading = "Demand")]
    pub input: Option<Text>,

    /// Output lengths, as --input [default: lognormal:300,0.8].
    #[arg(long, value_name = "SPEC", help_heading = "Demand")]
    pub output: Option<Text>,

    /// Sample (input, output) pairs from a trace file instead of --input/--output.
    #[arg(long, value_name = "FILE", help_heading = "Demand")]
    pub lengths_from: Option<PathBuf>,

    /// Replay a timed trace as the peak hour's shape (its rate is scaled to the peak; its
    /// lengths are the demand's).
    #[arg(long, value_name = "FILE", help_heading = "Demand")]
    pub trace: Option<PathBuf>,

    /// Simulated time at the peak rate for each fleet size [default: 1h].
    #[arg(long, value_name = "DURATION", help_heading = "Demand")]
    pub duration: Option<Text>,

    /// At most this many requests per simulated fleet size.
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        help_heading = "Demand"
    )]
    pub requests: Option<i64>,

    /// Seed of the arrival and length streams (the same for every fleet size).
    #[arg(long, value_name = "N", help_heading = "Demand")]
    pub seed: Option<u64>,

    #[command(flatten)]
    pub slo: SloFlags,

    /// Peak utilizations to price the slack at: the fleet sized so the peak is that fraction
    /// of its analytic capacity, each simulated.
    #[arg(long, value_delimiter = ',', default_values_t = [0.6, 0.8, 0.95], value_name = "U,U,...", help_heading = "Fleet")]
    pub utilization_targets: Vec<f64>,

    /// Most sequences per replica (vLLM max_num_seqs; fewer when memory says so).
    #[arg(long, default_value_t = 256, value_name = "N", help_heading = "Fleet")]
    pub max_seqs: u32,

    /// No fleet larger than this is tried.
    #[arg(long, default_value_t = 4096, value_name = "N", help_heading = "Fleet")]
    pub max_replicas: u32,

    #[command(flatten)]
    pub costs: CostFlags,

    /// Print the versioned JSON report (servemath.fleet/1) instead of the table.
    #[arg(long, help_heading = "Output")]
    pub json: bool,

    /// No notes on stderr (warnings and errors still).
    #[arg(long, short = 'q', help_heading = "Output")]
    pub quiet: bool,
}

pub fn run(args: &FleetArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let demand: Demand = args
        .demand
        .parse()
        .map_err(|e| crate::usage!("--demand {}: {e}", args.demand))?;
    let shape: DayShape = args
        .profile
        .parse()
        .map_err(|e| anyhow!("--profile: {e}"))?;
    let workload = WorkloadFlags {
        input: args.input.clone(),
        output: args.output.clone(),
        lengths_from: args.lengths_from.clone(),
        trace: args.trace.clone(),
        duration: args.duration.clone(),
        requests: args.requests,
        seed: args.seed,
        ..WorkloadFlags::default()
    };
    let deployment = crate::common::deployment_request(&args.deploy)?;
    // Cost inputs the user gave must work; a catalog entry without a price only drops the $
    // figures, with a warning.
    let costs_given = !args.costs.cost.is_empty() || args.costs.costs_file.is_some();
    let costs = match apply_cost_flags(&args.costs, &deployment.hardware) {
        Ok(c) => Some(c),
        Err(e) if costs_given => return Err(e),
        Err(e) => {
            crate::warn(&format!("no $ figures: {e:#}"));
            None
        }
    };
    let (report, diagnostics) = servemath::fleet(
        &FleetRequest {
            deployment,
            demand,
            demand_text: args.demand.clone(),
            shape,
            workload: workload_request(&workload)?,
            slo: slo_request(&args.slo),
            utilization_targets: args.utilization_targets.clone(),
            max_seqs: args.max_seqs,
            max_replicas: args.max_replicas,
            costs,
            costs_given,
        },
        &Origins::default(),
    )?;
    crate::report_diagnostics(&diagnostics, args.quiet);
    if args.json {
        write_json(out, &Versioned::new(report.clone()))?;
    } else if report.feasible {
        write!(out, "{}", render(&report))?;
    }
    if !report.feasible {
        return Err(infeasible(&report));
    }
    Ok(())
}

fn infeasible(r: &FleetReport) -> anyhow::Error {
    let mut why = r.infeasible_reason.clone().unwrap_or_default();
    if why.contains("replicas tried") {
        why.push_str(" (--max-replicas raises it)");
    }
    match &r.closest_miss {
        Some(m) => anyhow!(
            "infeasible: {why} ({}); the closest miss is {} replicas with p99 TTFT {} and p99 TPOT {}{}",
            targets(r),
            m.replicas,
            fmt::seconds(m.ttft_p99_s),
            fmt::seconds(m.tpot_p99_s),
            if m.overloaded { ", overloaded" } else { "" }
        ),
        None => anyhow!("infeasible: {why} ({})", targets(r)),
    }
}
