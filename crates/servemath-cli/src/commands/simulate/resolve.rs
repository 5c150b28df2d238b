//! From merged flags to a simulation request and its outputs: the files the request needs are
//! read here (traces, lengths, model configs, catalogs), then `servemath::simulate::plan`
//! resolves the request; the files to write are checked before the run. Every refusal names
//! the flag or scenario key and the value.

use super::scenario::Merged;
use crate::args::units::parse_positive_duration_s;
use crate::args::Origins;
use crate::args::{slo_request, workload_request};
use crate::common::plot::Kind;
use crate::common::{self, DeployArgs};
use crate::usage;
use servemath::simulate::{FleetRequest, SchedulerRequest, SimulateRequest, SimulationPlan};
use servemath::Spelling;
use std::path::{Path, PathBuf};

/// Sampling interval of the time series when none is given.
const DEFAULT_INTERVAL_S: f64 = 10.0;

/// Everything `run` needs: the simulator's inputs and what to write.
pub struct Plan {
    pub sim: SimulationPlan,
    pub outputs: Outputs,
}

/// What to write besides the table or JSON.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub json: bool,
    pub quiet: bool,
    pub bench: bool,
    pub requests_csv: Option<PathBuf>,
    pub timeseries_csv: Option<PathBuf>,
    pub interval_s: f64,
    pub chrome_trace: Option<PathBuf>,
    pub plot: Option<(PathBuf, Kind)>,
}

impl Outputs {
    pub fn keep_records(&self) -> bool {
        self.requests_csv.is_some() || self.chrome_trace.is_some() || self.plot.is_some()
    }

    pub fn timeseries_interval_s(&self) -> Option<f64> {
        (self.timeseries_csv.is_some() || self.plot.is_some()).then_some(self.interval_s)
    }
}

pub fn resolve(m: Merged) -> anyhow::Result<Plan> {
    let outputs = outputs(&m, &m.origins)?;
    let request = request(&m)?;
    let sim = servemath::simulate::plan(&request, &m.origins)?;
    Ok(Plan { sim, outputs })
}

/// The request the merged flags and file describe, with its files read.
fn request(m: &Merged) -> anyhow::Result<SimulateRequest> {
    let deployment = common::deployment_request(&m.deploy)?;
    let f = &m.fleet;
    let pool_hardware = |hw: &Option<String>| -> anyhow::Result<_> {
        hw.as_ref()
            .map(|hw| {
                common::deployment_request(&DeployArgs {
                    hardware: hw.clone(),
                    ..m.deploy.clone()
                })
            })
            .transpose()
    };
    let s = &m.scheduler;
    Ok(SimulateRequest {
        fleet: FleetRequest {
            replicas: f.replicas,
            router: f.router.as_ref().map(|t| t.0.clone()),
            prefill_replicas: f.prefill_replicas,
            decode_replicas: f.decode_replicas,
            prefill_tp: f.prefill_tp,
            decode_tp: f.decode_tp,
            prefill_hardware: pool_hardware(&f.prefill_hardware)?,
            decode_hardware: pool_hardware(&f.decode_hardware)?,
        },
        scheduler: SchedulerRequest {
            kind: s.scheduler.as_ref().map(|t| t.0.clone()),
            max_seqs: s.max_seqs,
            max_batched_tokens: s.max_batched_tokens,
            block_size: s.block_size,
            static_batch: s.static_batch,
            static_timeout: s.static_timeout.as_ref().map(|t| t.0.clone()),
            period: s.period.as_ref().map(|t| t.0.clone()),
            no_prefix_caching: s.no_prefix_caching,
            max_waiting: s.max_waiting,
        },
        workload: workload_request(&m.workload)?,
        slo: slo_request(&m.slo),
        leap: !m.output.reference,
        deployment,
    })
}

fn path_text(p: &Path) -> String {
    p.display().to_string()
}

// ----------------------------------------------------------------------------- outputs

fn outputs(m: &Merged, o: &Origins) -> anyhow::Result<Outputs> {
    let f = &m.output;
    let interval_s = f
        .interval
        .as_ref()
        .map(|t| {
            parse_positive_duration_s(&t.0)
                .map_err(|e| usage!("{}: {e}", o.name("output.interval")))
        })
        .transpose()?
        .unwrap_or(DEFAULT_INTERVAL_S);
    let plot = match &f.plot {
        Some(p) => Some((p.clone(), Kind::from_path(p)?)),
        None => None,
    };
    // Refuse a file that cannot be written before the run, not after it.
    for (flag, path) in [
        ("output.requests_csv", &f.requests_csv),
        ("output.timeseries_csv", &f.timeseries_csv),
        ("output.chrome_trace", &f.chrome_trace),
    ] {
        if let Some(dir) = path
            .as_deref()
            .and_then(Path::parent)
            .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
        {
            return Err(usage!(
                "{} {}: directory `{}` does not exist",
                o.name(flag),
                path.as_deref().map(path_text).unwrap_or_default(),
                dir.display()
            ));
        }
    }
    // No output may replace an input or another output (a trace overwritten by its own
    // requests CSV is lost).
    let written: Vec<(&str, &Path)> = [
        ("output.requests_csv", f.requests_csv.as_deref()),
        ("output.timeseries_csv", f.timeseries_csv.as_deref()),
        ("output.chrome_trace", f.chrome_trace.as_deref()),
        ("output.plot", f.plot.as_deref()),
    ]
    .into_iter()
    .filter_map(|(flag, p)| p.map(|p| (flag, p)))
    .collect();
    let model = Path::new(&m.deploy.model);
    let mut read: Vec<(&str, &Path)> = [
        ("workload.trace", m.workload.trace.as_deref()),
        ("workload.lengths_from", m.workload.lengths_from.as_deref()),
        ("deployment.params", m.deploy.params.params_file.as_deref()),
        ("deployment.model", model.is_file().then_some(model)),
    ]
    .into_iter()
    .filter_map(|(flag, p)| p.map(|p| (flag, p)))
    .collect();
    read.extend(
        m.deploy
            .hardware_file
            .iter()
            .map(|p| ("deployment.hardware_file", p.as_path())),
    );
    if let Some(config) = o.file() {
        read.push(("scenario", Path::new(config)));
    }
    for (i, (flag, out)) in written.iter().enumerate() {
        let clash = read
            .iter()
            .chain(&written[..i])
            .find(|(_, other)| same_file(out, other));
        if let Some((other_flag, other)) = clash {
            return Err(usage!(
                "{} {} would overwrite {} {}: give another file",
                o.name(flag),
                path_text(out),
                o.name(other_flag),
                path_text(other)
            ));
        }
    }
    Ok(Outputs {
        json: f.json,
        quiet: f.quiet,
        bench: f.bench,
        requests_csv: f.requests_csv.clone(),
        timeseries_csv: f.timeseries_csv.clone(),
        interval_s,
        chrome_trace: f.chrome_trace.clone(),
        plot,
    })
}

/// Whether two paths name the same file: the same canonical path when both exist, else the
/// same path as written.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}
