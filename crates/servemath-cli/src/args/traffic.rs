//! The traffic flags `simulate`, `search` and `fleet` share: where requests come from and the
//! latency targets. Each group is also a scenario file's table (`[workload]`, `[slo]`), so
//! values are kept as text until they are resolved, and the file and the flag go through the
//! same parser.

use super::units::Text;
use clap::Args;
use serde::Deserialize;
use servemath::simulate::{LoadedText, SloRequest, WorkloadRequest};
use std::path::{Path, PathBuf};

/// Where requests come from (`[workload]` in a scenario file).
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[command(next_help_heading = "Workload")]
pub struct WorkloadFlags {
    /// Poisson arrivals at this many requests per second [default: 2].
    #[arg(long, value_name = "REQ/S", allow_negative_numbers = true)]
    pub rate: Option<f64>,

    /// An arrival process instead of --rate: poisson:RATE or gamma:RATE,CV, optionally with
    /// +daily:M0,...,M23 (24 hourly rate multipliers).
    #[arg(long, value_name = "SPEC")]
    pub arrivals: Option<Text>,

    /// Arrivals stop at this time (ms, s, m or h: 90s, 30m, 1h); with --concurrency the run
    /// stops there [default: 10m unless --requests is given].
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<Text>,

    /// At most this many requests.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub requests: Option<i64>,

    /// Prompt lengths: fixed:N, uniform:LO,HI or lognormal:MEAN,SIGMA [default:
    /// lognormal:2000,1.0].
    #[arg(long, value_name = "SPEC")]
    pub input: Option<Text>,

    /// Output lengths, as --input [default: lognormal:300,0.8].
    #[arg(long, value_name = "SPEC")]
    pub output: Option<Text>,

    /// Sample (input, output) pairs from a trace file (a lengths-only CSV such as ShareGPT's,
    /// or any timed trace) instead of --input/--output.
    #[arg(long, value_name = "FILE")]
    pub lengths_from: Option<PathBuf>,

    /// Replay a timed trace (Azure CSV, Mooncake JSONL, Vidur CSV): its own arrivals and
    /// lengths.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,

    /// Replay the trace at K times its recorded rate.
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub trace_speed: Option<f64>,

    /// Keep the trace's arrivals in [START, END) seconds of the file (e.g. 0,600 or 10m,20m),
    /// shifted to start at 0.
    #[arg(long, value_name = "START,END")]
    pub window: Option<Text>,

    /// Closed loop: N users, each sending its next request the moment the last completes.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub concurrency: Option<i64>,

    /// Seed of the arrival and length streams; the same seed gives the same output, byte for
    /// byte [default: 0].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// Latency targets for goodput (`[slo]` in a scenario file, keys `ttft` and `tpot`).
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[command(next_help_heading = "SLOs")]
pub struct SloFlags {
    /// Goodput counts requests whose time to first token is at most this (e.g. 2s).
    #[arg(long, value_name = "DURATION")]
    #[serde(rename = "ttft")]
    pub slo_ttft: Option<Text>,

    /// ... and whose time per output token is at most this (e.g. 50ms).
    #[arg(long, value_name = "DURATION")]
    #[serde(rename = "tpot")]
    pub slo_tpot: Option<Text>,
}

/// The workload request the flags describe, with its trace or lengths file read.
pub fn workload_request(w: &WorkloadFlags) -> anyhow::Result<WorkloadRequest> {
    let load = |path: &Option<PathBuf>| -> anyhow::Result<Option<LoadedText>> {
        path.as_deref().map(|p| loaded(p, "trace")).transpose()
    };
    let text = |t: &Option<Text>| t.as_ref().map(|t| t.0.clone());
    Ok(WorkloadRequest {
        rate: w.rate,
        arrivals: text(&w.arrivals),
        duration: text(&w.duration),
        requests: w.requests,
        input: text(&w.input),
        output: text(&w.output),
        lengths_from: load(&w.lengths_from)?,
        trace: load(&w.trace)?,
        trace_speed: w.trace_speed,
        window: text(&w.window),
        concurrency: w.concurrency,
        seed: w.seed,
    })
}

/// The SLO request the flags describe.
pub fn slo_request(s: &SloFlags) -> SloRequest {
    SloRequest {
        ttft: s.slo_ttft.as_ref().map(|t| t.0.clone()),
        tpot: s.slo_tpot.as_ref().map(|t| t.0.clone()),
    }
}

/// A file's text under its path, for messages.
fn loaded(path: &Path, what: &str) -> anyhow::Result<LoadedText> {
    Ok(LoadedText {
        name: path.display().to_string(),
        text: crate::common::read_input(path, what)?,
    })
}
