//! `servemath simulate`: a fleet of replicas under traffic, through the discrete-event serving
//! simulator: request counts, latency percentiles, throughput, goodput, utilization and KV
//! occupancy, as a table, JSON, CSV files, a Chrome trace or a plot.
//!
//! The flags come in groups that double as the sections of a `--config` scenario file (each
//! group is both a clap `Args` and a serde mirror), so a file can say everything a command
//! line can; flags given on the command line win over the file. `scenario` merges the two,
//! `resolve` turns the result into validated simulator inputs, `output` and `plot` write what
//! was asked for.

mod output;
mod plot;
mod progress;
use servemath_report::text::simulate as render;
pub(crate) mod resolve;
pub(crate) mod scenario;
pub use scenario::{parse_scenario, ScenarioFile};

pub use crate::args::Text;
use crate::args::{SloFlags, WorkloadFlags};
use crate::commands::write_json;
use crate::common::DeployArgs;
use clap::{ArgMatches, Args, FromArgMatches};
use serde::Deserialize;
use servemath::simulate::{FleetCosts, RunOptions, Simulated};
use servemath_report::Versioned;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// The parsed flags of `simulate` and which of them the command line gave.
#[derive(Debug, Clone)]
pub struct SimulateArgs {
    pub flags: SimulateFlags,
    /// Ids of the arguments given on the command line (they override `--config`); clap's own
    /// defaults are not in it.
    pub given: BTreeSet<String>,
}

/// Simulate serving: replicas running cost-model steps under a scheduler, behind a router, fed
/// by synthetic or traced requests; prints latency percentiles, throughput and goodput.
///
/// With no workload flags it runs the default workload: Poisson arrivals at 2 requests/s for 10
/// minutes, prompts lognormal:2000,1.0 and outputs lognormal:300,0.8 tokens. Without --tp it
/// picks the smallest power-of-two tensor-parallel degree that fits. Every figure is defined
/// in docs/metrics.md; the --json schema (servemath.simulate/1) in docs/json-schema.md.
#[derive(Debug, Clone, Args)]
pub struct SimulateFlags {
    #[command(flatten)]
    pub deploy: DeployArgs,
    #[command(flatten)]
    pub fleet: FleetFlags,
    #[command(flatten)]
    pub scheduler: SchedulerFlags,
    #[command(flatten)]
    pub workload: WorkloadFlags,
    #[command(flatten)]
    pub slo: SloFlags,
    #[command(flatten)]
    pub output: OutputFlags,
    /// The GPU-hour price behind the $/Mtok figures (`servemath cost`): --mode, --cost, --costs.
    #[command(flatten, next_help_heading = "Cost")]
    pub costs: crate::args::CostFlags,

    /// A TOML scenario file that can say everything the flags say, in sections [deployment],
    /// [fleet], [scheduler], [workload], [slo] and [output] with keys named after the flags
    /// (see examples/scenario.toml); flags on the command line win over the file.
    #[arg(long, value_name = "FILE.toml", help_heading = "Scenario")]
    pub config: Option<PathBuf>,
}

/// Replicas, router and the disaggregated pools (`[fleet]` in a scenario file).
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[command(next_help_heading = "Fleet")]
pub struct FleetFlags {
    /// Replicas behind the router [default: 1].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub replicas: Option<i64>,

    /// How arrivals are spread over replicas: round-robin, least-outstanding (fewest running
    /// and waiting requests), least-kv (lowest KV occupancy) or prefix-affinity (most cached
    /// prompt-prefix blocks, for traces with hashes) [default: least-outstanding].
    #[arg(long, value_name = "POLICY")]
    pub router: Option<Text>,

    /// With --scheduler disagg: prefill replicas [default: 1].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub prefill_replicas: Option<i64>,

    /// With --scheduler disagg: decode replicas [default: 1].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub decode_replicas: Option<i64>,

    /// With --scheduler disagg: tensor-parallel degree of prefill replicas [default: --tp].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub prefill_tp: Option<i64>,

    /// With --scheduler disagg: tensor-parallel degree of decode replicas [default: --tp].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub decode_tp: Option<i64>,

    /// With --scheduler disagg: hardware of prefill replicas [default: --hardware].
    #[arg(long, value_name = "ID")]
    pub prefill_hardware: Option<String>,

    /// With --scheduler disagg: hardware of decode replicas [default: --hardware].
    #[arg(long, value_name = "ID")]
    pub decode_hardware: Option<String>,
}

/// The scheduler and its limits (`[scheduler]` in a scenario file; `--scheduler` is `kind`).
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[command(next_help_heading = "Scheduler")]
pub struct SchedulerFlags {
    /// static (a full batch or a timeout, then decode to the end), continuous (iteration-level,
    /// whole prompts), chunked (chunked prefill), train (a step departs every --period) or
    /// disagg (prefill and decode pools, chunked) [default: chunked].
    #[arg(long = "scheduler", value_name = "KIND")]
    #[serde(rename = "kind")]
    pub scheduler: Option<Text>,

    /// Most sequences running at once per replica (vLLM max_num_seqs) [default: 256].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_seqs: Option<i64>,

    /// Most tokens in one step (vLLM max_num_batched_tokens) [default: 2048 with chunked
    /// prefill and trains, 8192 otherwise].
    #[arg(long, value_name = "TOKENS", allow_negative_numbers = true)]
    pub max_batched_tokens: Option<i64>,

    /// KV-cache block size in tokens (vLLM block_size) [default: 16].
    #[arg(long, value_name = "TOKENS", allow_negative_numbers = true)]
    pub block_size: Option<i64>,

    /// Turn off prefix caching (used where a trace carries prefix-block hashes).
    #[arg(long)]
    pub no_prefix_caching: bool,

    /// Most requests waiting on one replica; an arrival beyond it is dropped and counted, as
    /// a front end refuses work it cannot queue [default: 10000].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_waiting: Option<i64>,

    /// --scheduler static: batch size [default: 32].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub static_batch: Option<i64>,

    /// --scheduler static: launch a partial batch this long after its first request arrived
    /// [default: 500ms].
    #[arg(long, value_name = "DURATION")]
    pub static_timeout: Option<Text>,

    /// --scheduler train: a step departs every period; `hbm` is the time to read the whole
    /// HBM once (capacity / bandwidth) [default: hbm].
    #[arg(long, value_name = "DURATION|hbm")]
    pub period: Option<Text>,
}

/// What to print and write (`[output]` in a scenario file).
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[command(next_help_heading = "Output")]
pub struct OutputFlags {
    /// Print the versioned JSON report (servemath.simulate/1) instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Write one CSV row per completed request (arrival, admission, first token, completion,
    /// lengths, latencies).
    #[arg(long, value_name = "FILE.csv")]
    pub requests_csv: Option<PathBuf>,

    /// Write the fleet's queue, running batch, KV occupancy and throughput every --interval.
    #[arg(long, value_name = "FILE.csv")]
    pub timeseries_csv: Option<PathBuf>,

    /// Sampling interval of the time series (CSV and plot) [default: 10s].
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<Text>,

    /// Write a Chrome/Perfetto trace: one track per replica with its steps, and each request's
    /// queueing, prefill and decode (open in ui.perfetto.dev or chrome://tracing).
    #[arg(long, value_name = "FILE.json")]
    pub chrome_trace: Option<PathBuf>,

    /// Draw TTFT, TPOT and end-to-end latency CDFs and the time series of queue, running batch,
    /// KV occupancy and throughput to FILE.svg or FILE.png.
    #[arg(long, value_name = "FILE.svg|FILE.png")]
    pub plot: Option<PathBuf>,

    /// No progress bar and no notes on stderr (warnings and errors still).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Run the step-by-step reference engine instead of leaping over runs of decode steps.
    #[arg(long)]
    pub reference: bool,

    /// Print simulated requests and steps per wall-clock second and peak memory to stderr.
    #[arg(long)]
    pub bench: bool,
}

impl FromArgMatches for SimulateArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(SimulateArgs {
            flags: SimulateFlags::from_arg_matches(m)?,
            given: given_ids(m),
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        self.flags.update_from_arg_matches(m)?;
        self.given.extend(given_ids(m));
        Ok(())
    }
}

impl Args for SimulateArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SimulateFlags::augment_args(cmd)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        SimulateFlags::augment_args_for_update(cmd)
    }
}

/// The arguments given on the command line, as opposed to clap defaults.
fn given_ids(m: &ArgMatches) -> BTreeSet<String> {
    m.ids()
        .filter(|id| m.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine))
        .map(|id| id.as_str().to_string())
        .collect()
}

/// The cost inputs of each hardware entry in the fleet: defaults with the cost flags applied.
/// Flags the user gave must work; an entry without cost data only drops the $ figures.
fn fleet_costs(
    replicas: &[servemath_sim::ReplicaSpec],
    flags: &crate::args::CostFlags,
) -> anyhow::Result<FleetCosts> {
    let given = !flags.cost.is_empty() || flags.costs_file.is_some() || flags.mode.is_some();
    let mut costs = FleetCosts {
        by_hardware: Default::default(),
        given,
    };
    for r in replicas {
        let hw = &r.deployment.hardware();
        if costs.by_hardware.contains_key(&hw.id) {
            continue;
        }
        match crate::args::apply_cost_flags(flags, hw) {
            Ok(inputs) => {
                costs.by_hardware.insert(hw.id.clone(), inputs);
            }
            Err(e) if given => return Err(e),
            Err(_) => {}
        }
    }
    Ok(costs)
}

pub fn run(args: &SimulateArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let merged = scenario::merge(args)?;
    let resolve::Plan { sim: plan, outputs } = resolve::resolve(merged)?;
    let quiet = outputs.quiet;
    crate::report_diagnostics(&plan.diagnostics, quiet);
    let progress = progress::Progress::new(quiet, plan.expected);
    let costs = fleet_costs(&plan.replicas, &args.flags.costs)?;
    let options = RunOptions {
        keep_records: outputs.keep_records(),
        keep_steps: outputs.chrome_trace.is_some(),
        timeseries_interval_s: outputs.timeseries_interval_s(),
        progress: Some(progress.callback()),
        cancel: None,
    };
    let start = Instant::now();
    let Simulated {
        report,
        sim,
        replicas,
    } = servemath::simulate::run(plan, options, &costs)?;
    let wall_s = start.elapsed().as_secs_f64();
    progress.finish();
    output::write_files(&outputs, &replicas, &sim, &report)?;
    if outputs.bench {
        progress::bench(&sim, wall_s);
    }
    if outputs.json {
        write_json(out, &Versioned::new(report))?;
    } else {
        write!(out, "{}", render::render(&report))?;
    }
    Ok(())
}
