//! The `--config` scenario file and its merge with the command line: the file fills in what
//! the command line did not say, and remembers which values came from it so that an error
//! names the file and key rather than a flag nobody typed.
//!
//! Paths in the file (`hardware_file`, `params`, `lengths_from`, `trace`) are relative to the
//! file's directory; output paths are relative to the current directory, like the flags.

use super::{FleetFlags, OutputFlags, SchedulerFlags, SimulateArgs};
use crate::args::{Origins, Text};
use crate::args::{SloFlags, WorkloadFlags};
use crate::common::DeployArgs;
use anyhow::anyhow;
use serde::Deserialize;
use servemath_model::Precision;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A scenario file: one section per flag group.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScenarioFile {
    deployment: DeploymentSection,
    fleet: FleetFlags,
    scheduler: SchedulerFlags,
    workload: WorkloadFlags,
    slo: SloFlags,
    output: OutputFlags,
}

/// `[deployment]`: the deployment flags every command shares.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DeploymentSection {
    model: Option<String>,
    hardware: Option<String>,
    hardware_file: Option<Vec<PathBuf>>,
    tp: Option<u32>,
    pp: Option<u32>,
    ep: Option<u32>,
    dp_attn: Option<u32>,
    weights: Option<Text>,
    kv: Option<Text>,
    compute: Option<Text>,
    activations: Option<Text>,
    /// A cost-parameter file (`--params`).
    params: Option<PathBuf>,
    /// Cost parameters by name (`--param NAME=VALUE`).
    param: Option<BTreeMap<String, f64>>,
}

/// The command line and the file, merged.
#[derive(Debug, Clone)]
pub struct Merged {
    pub deploy: DeployArgs,
    /// Whether `--tp` (or `tp` in the file) was said; otherwise the smallest that fits is used.
    pub tp_given: bool,
    pub fleet: FleetFlags,
    pub scheduler: SchedulerFlags,
    pub workload: WorkloadFlags,
    pub slo: SloFlags,
    pub output: OutputFlags,
    pub origins: Origins,
}

/// Takes each field the command line left empty from the file, noting where it came from.
macro_rules! fill {
    ($cli:expr, $file:expr, $origins:expr, $($field:ident => $key:literal;)*) => {
        $(
            if $cli.$field.is_none() {
                if let Some(v) = $file.$field.take() {
                    $cli.$field = Some(v);
                    $origins.note($key);
                }
            }
        )*
    };
}

/// The command line over the `--config` file, if any.
pub fn merge(args: &SimulateArgs) -> anyhow::Result<Merged> {
    let f = &args.flags;
    let mut m = Merged {
        deploy: f.deploy.clone(),
        tp_given: args.given.contains("tp"),
        fleet: f.fleet.clone(),
        scheduler: f.scheduler.clone(),
        workload: f.workload.clone(),
        slo: f.slo.clone(),
        output: f.output.clone(),
        origins: Origins::default(),
    };
    let Some(path) = &f.config else {
        return Ok(m);
    };
    let mut file = read(path)?;
    let name = path.display().to_string();
    m.origins = Origins::in_file(&name);
    rebase_paths(&mut file, path);
    merge_deployment(&mut m, file.deployment, &args.given, &name)?;

    let o = &mut m.origins;
    let (cli, mut ff) = (&mut m.fleet, file.fleet);
    fill!(cli, ff, o,
        replicas => "fleet.replicas";
        router => "fleet.router";
        prefill_replicas => "fleet.prefill_replicas";
        decode_replicas => "fleet.decode_replicas";
        prefill_tp => "fleet.prefill_tp";
        decode_tp => "fleet.decode_tp";
        prefill_hardware => "fleet.prefill_hardware";
        decode_hardware => "fleet.decode_hardware";
    );

    let (cli, mut fs) = (&mut m.scheduler, file.scheduler);
    fill!(cli, fs, o,
        scheduler => "scheduler.kind";
        max_seqs => "scheduler.max_seqs";
        max_batched_tokens => "scheduler.max_batched_tokens";
        block_size => "scheduler.block_size";
        static_batch => "scheduler.static_batch";
        static_timeout => "scheduler.static_timeout";
        period => "scheduler.period";
        max_waiting => "scheduler.max_waiting";
    );
    cli.no_prefix_caching |= fs.no_prefix_caching;

    let (cli, mut fw) = (&mut m.workload, file.workload);
    drop_overridden(cli, &mut fw);
    fill!(cli, fw, o,
        rate => "workload.rate";
        arrivals => "workload.arrivals";
        duration => "workload.duration";
        requests => "workload.requests";
        input => "workload.input";
        output => "workload.output";
        lengths_from => "workload.lengths_from";
        trace => "workload.trace";
        trace_speed => "workload.trace_speed";
        window => "workload.window";
        concurrency => "workload.concurrency";
        seed => "workload.seed";
    );

    let (cli, mut fl) = (&mut m.slo, file.slo);
    fill!(cli, fl, o,
        slo_ttft => "slo.ttft";
        slo_tpot => "slo.tpot";
    );

    let (cli, mut fo) = (&mut m.output, file.output);
    fill!(cli, fo, o,
        requests_csv => "output.requests_csv";
        timeseries_csv => "output.timeseries_csv";
        interval => "output.interval";
        chrome_trace => "output.chrome_trace";
        plot => "output.plot";
    );
    cli.json |= fo.json;
    cli.quiet |= fo.quiet;
    cli.reference |= fo.reference;
    cli.bench |= fo.bench;
    Ok(m)
}

fn read(path: &Path) -> anyhow::Result<ScenarioFile> {
    let text = crate::common::read_input(path, "scenario file")?;
    parse_scenario(&text, &path.display().to_string())
}

/// Parses a scenario file's text; errors name `origin` and the line and column.
pub fn parse_scenario(text: &str, origin: &str) -> anyhow::Result<ScenarioFile> {
    toml::from_str(text).map_err(|e| crate::common::toml_error(origin, text, &e))
}

/// Input paths in the file are relative to the file's directory.
fn rebase_paths(file: &mut ScenarioFile, path: &Path) {
    let dir = path.parent().unwrap_or(Path::new(""));
    let rebase = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = dir.join(&*p);
        }
    };
    let d = &mut file.deployment;
    d.hardware_file.iter_mut().flatten().for_each(rebase);
    d.params.iter_mut().for_each(rebase);
    file.workload.lengths_from.iter_mut().for_each(rebase);
    file.workload.trace.iter_mut().for_each(rebase);
}

/// A command line that names a workload source replaces the file's other sources: `--trace`
/// replaces a synthetic workload, `--rate` a file's `arrivals` or trace, `--input` its
/// `lengths_from`, and so on. Conflicts within one layer are left for `resolve` to refuse.
fn drop_overridden(cli: &WorkloadFlags, file: &mut WorkloadFlags) {
    let arrivals = cli.rate.is_some() || cli.arrivals.is_some() || cli.concurrency.is_some();
    let lengths = cli.input.is_some() || cli.output.is_some() || cli.lengths_from.is_some();
    if cli.trace.is_some() {
        file.rate = None;
        file.arrivals = None;
        file.concurrency = None;
        file.input = None;
        file.output = None;
        file.lengths_from = None;
    }
    if arrivals || lengths {
        file.trace = None;
        file.trace_speed = None;
        file.window = None;
    }
    if arrivals {
        file.rate = None;
        file.arrivals = None;
        file.concurrency = None;
    }
    if cli.lengths_from.is_some() {
        file.input = None;
        file.output = None;
    }
    if cli.input.is_some() || cli.output.is_some() {
        file.lengths_from = None;
    }
}

/// The file's `[deployment]` under the command line's deployment flags.
fn merge_deployment(
    m: &mut Merged,
    file: DeploymentSection,
    given: &BTreeSet<String>,
    name: &str,
) -> anyhow::Result<()> {
    let d = &mut m.deploy;
    let open = |id: &str| !given.contains(id);
    let precision = |key: &str, t: &Text| -> anyhow::Result<Precision> {
        t.0.parse()
            .map_err(|e| anyhow!("{name}: deployment.{key}: {e}"))
    };
    if let (true, Some(v)) = (open("model"), file.model) {
        d.model = v;
    }
    if let (true, Some(v)) = (open("hardware"), file.hardware) {
        d.hardware = v;
    }
    if let (true, Some(v)) = (open("hardware_file"), file.hardware_file) {
        d.hardware_file = v;
    }
    if let (true, Some(v)) = (open("tp"), file.tp) {
        d.tp = Some(v);
        m.tp_given = true;
    }
    if let (true, Some(v)) = (open("pp"), file.pp) {
        d.pp = v;
    }
    if let (true, Some(v)) = (open("ep"), file.ep) {
        d.ep = v;
    }
    if let (true, Some(v)) = (open("dp_attn"), file.dp_attn) {
        d.dp_attn = v;
    }
    if let (true, Some(v)) = (open("weights"), &file.weights) {
        d.weights = Some(precision("weights", v)?);
    }
    if let (true, Some(v)) = (open("kv"), &file.kv) {
        d.kv = Some(precision("kv", v)?);
    }
    if let (true, Some(v)) = (open("activations"), &file.activations) {
        d.activations = precision("activations", v)?;
    }
    if let (true, Some(v)) = (open("compute"), &file.compute) {
        d.compute = Some(
            crate::common::parse_math_precision(&v.0)
                .map_err(|e| anyhow!("{name}: deployment.compute: {e}"))?,
        );
    }
    if let (true, Some(v)) = (open("params_file"), file.params) {
        d.params.params_file = Some(v);
    }
    // `--param` flags apply after the file's, so they win on the same name.
    if let Some(table) = file.param {
        d.params.from_scenario = table
            .into_iter()
            .map(|(key, value)| servemath::ParamOverride {
                origin: format!("{name}: deployment.param.{key}"),
                name: key,
                value,
            })
            .collect();
    }
    Ok(())
}
