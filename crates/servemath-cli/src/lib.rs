//! The `servemath` command line: argument definitions (clap derive; doc comments are the
//! help), one module per subcommand under [`commands`], shared plumbing in [`common`].
//!
//! Data goes to stdout; warnings, notes and errors to stderr. Exit codes: 0 success, 1 a
//! runtime or input error (`error: ...` on stderr), 2 a usage error reported by clap.

pub mod args;
pub mod commands;
pub mod common;

use clap::{Parser, Subcommand};
use commands::estimate::EstimateArgs;
use commands::hardware::HardwareArgs;
use commands::model::ModelArgs;
use commands::models::ModelsArgs;
use commands::simulate::SimulateArgs;
use std::io::{self, Write};
use std::process::ExitCode;

/// Exit code of a runtime or input error (bad file, unknown name, a model that does not fit).
pub const EXIT_ERROR: u8 = 1;
/// Exit code of a usage error (unknown flag, malformed value); clap's own.
pub const EXIT_USAGE: u8 = 2;

/// A malformed value or an impossible combination of values, found after clap's own parsing
/// (a scheduler name, a duration, a distribution, a flag that needs another): the run exits
/// with [`EXIT_USAGE`], as clap's own usage errors do, wherever the value was given (a flag or
/// a `--config` file). The application layer's [`servemath::Invalid`] is the same error.
pub use servemath::Invalid as Usage;

/// `usage!("...", args)`: a [`Usage`] error as an `anyhow::Error`.
macro_rules! usage {
    ($($t:tt)*) => {
        anyhow::Error::new($crate::Usage(format!($($t)*)))
    };
}
pub(crate) use usage;

/// What it costs to serve a large language model: a roofline model of each forward step on
/// real model configs and a sourced hardware catalog, from batch 1 to the largest batch that
/// fits.
///
/// With no arguments, estimates Llama-3.1-70B on four H100s and shows where to go next.
#[derive(Debug, Parser)]
#[command(name = "servemath", version, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 success, 1 runtime or input error, 2 usage error.\n\
Every printed figure is defined in docs/metrics.md; --json schemas in docs/json-schema.md."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Estimate(EstimateArgs),
    Models(ModelsArgs),
    Model(ModelArgs),
    Hardware(HardwareArgs),
    Simulate(Box<SimulateArgs>),
    Search(Box<commands::search::SearchArgs>),
    Fleet(Box<commands::fleet::FleetArgs>),
    Claims(commands::claims::ClaimsArgs),
    Cost(commands::cost::CostArgs),
    Prices(Box<commands::prices::PricesArgs>),
    Lifecycle(commands::lifecycle::LifecycleArgs),
    Validate(commands::validate::ValidateArgs),
}

/// Runs a parsed command line, writing its data to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    match cli.command {
        None => default_run(out),
        Some(Command::Estimate(args)) => commands::estimate::run(&args, out),
        Some(Command::Models(args)) => commands::models::run(&args, out),
        Some(Command::Model(args)) => commands::model::run(&args, out),
        Some(Command::Hardware(args)) => commands::hardware::run(&args, out),
        Some(Command::Simulate(args)) => commands::simulate::run(&args, out),
        Some(Command::Search(args)) => commands::search::run(&args, out),
        Some(Command::Fleet(args)) => commands::fleet::run(&args, out),
        Some(Command::Claims(args)) => commands::claims::run(&args, out),
        Some(Command::Cost(args)) => commands::cost::run(&args, out),
        Some(Command::Prices(args)) => commands::prices::run(&args, out),
        Some(Command::Lifecycle(args)) => commands::lifecycle::run(&args, out),
        Some(Command::Validate(args)) => commands::validate::run(&args, out),
    }
}

/// `servemath` alone: the default estimate, then the commands that go further.
fn default_run(out: &mut dyn Write) -> anyhow::Result<()> {
    commands::estimate::run(&EstimateArgs::default(), out)?;
    writeln!(
        out,
        "\n\
This was `servemath estimate --model llama-3.1-70b --hardware h100-sxm --tp 4 --input 2048 --output 256 --batch 1,8,32,128,512`.\n\
Go further:\n  \
  servemath estimate --model deepseek-v3 --hardware h200 --tp 8 --ep 8    another model, machine and layout\n  \
  servemath estimate --weights fp8 --kv fp8 --plot tpot.svg               precisions, and a plot (.svg or .png)\n  \
  servemath models                                                        the built-in models\n  \
  servemath model qwen3-235b-a22b                                         one model's parameters, weights and KV cache\n  \
  servemath hardware h100-sxm                                             a catalog entry with its sources\n  \
  servemath simulate --replicas 8 --rate 40 --slo-ttft 2s --slo-tpot 50ms  a fleet under traffic: latency percentiles, goodput\n  \
  servemath search --hardware h100-sxm,b200 --slo-ttft 2s --slo-tpot 50ms  the best layout and the Pareto front\n  \
  servemath fleet --demand 1e9tok/day --slo-ttft 2s --slo-tpot 50ms     the smallest fleet for a demand, MW and $\n  \
  servemath cost --hardware gb200-nvl72 --mode owned                     what a GPU-hour costs, broken down\n  \
  servemath prices                                                        API price lists against the cost model's ratios\n  \
  servemath lifecycle                                                     training vs inference over a model's life\n  \
  servemath claims                                                        the seed claims, derived\n  \
  servemath validate                                                      predictions against published measurements\n  \
  servemath help estimate                                                 every flag"
    )?;
    Ok(())
}

/// A warning on stderr (never fails: a closed stderr must not abort the run).
pub(crate) fn warn(msg: &str) {
    let _ = writeln!(io::stderr(), "warning: {msg}");
}

/// A note on stderr, for side effects such as files written.
pub(crate) fn note(msg: &str) {
    let _ = writeln!(io::stderr(), "{msg}");
}

/// A command's diagnostics on stderr: warnings with their prefix, notes as they are unless
/// `quiet`.
pub(crate) fn report_diagnostics(diagnostics: &[servemath::Diagnostic], quiet: bool) {
    for d in diagnostics {
        match d {
            servemath::Diagnostic::Warning(w) => warn(w),
            servemath::Diagnostic::Note(n) if !quiet => note(n),
            servemath::Diagnostic::Note(_) => {}
        }
    }
}

/// The binary's entry point: parse, run, print `error: ...` with its chain on failure.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = run(cli, &mut out).and_then(|()| out.flush().map_err(anyhow::Error::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped reading (`servemath models | head -3`) is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.chain().any(|c| c.is::<Usage>()) => {
            print_error(&e);
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            print_error(&e);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `error: ...` with its chain, then the flag that would fix it where the error says which input
/// is missing (the core names the quantity; only the CLI knows its flag).
fn print_error(e: &anyhow::Error) {
    let _ = writeln!(io::stderr(), "error: {e:#}");
    if let Some(hint) = hint(e) {
        let _ = writeln!(io::stderr(), "hint: {hint}");
    }
}

/// The command-line way to supply what an error says is missing.
fn hint(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|c| {
        if let Some(servemath_econ::EconError::Missing { name, .. }) = c.downcast_ref() {
            return Some(format!("set it with --cost {name}=VALUE or a --costs file"));
        }
        let no_peak = matches!(
            c.downcast_ref(),
            Some(servemath_hardware::HardwareError::NoPeak { .. })
        ) || matches!(
            c.downcast_ref(),
            Some(servemath_cost::DeployError::Hardware(
                servemath_hardware::HardwareError::NoPeak { .. }
            ))
        );
        if no_peak {
            return Some("choose another precision with --compute".to_string());
        }
        None
    })
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    }) || e.chain().any(|c| {
        c.downcast_ref::<serde_json::Error>()
            .is_some_and(|j| j.is_io())
    })
}
