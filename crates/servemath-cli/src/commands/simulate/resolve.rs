//! From merged flags to validated simulator inputs: the workload (synthetic, trace replay or
//! closed loop), the replicas (deployments, schedulers, pools), the KV link between pools, the
//! SLOs and the outputs. Every refusal names the flag or scenario key and the value.

use super::scenario::{Merged, Origins};
use super::units::{parse_duration_s, parse_positive_duration_s, parse_window, Text};
use crate::commands::estimate::{layout, plot::Kind};
use crate::common::{self, fmt, DeployArgs};
use crate::usage;
use anyhow::{anyhow, bail, Context};
use servemath_cost::Deployment;
use servemath_report::{
    KvTransferReport, LayoutReport, PoolReport, SimulateSetup, SloReport, WorkloadReport,
};
use servemath_sim::workload::{
    trace, Arrivals, LengthDist, LengthSampler, Lengths, Limit, ReadOptions, Request, Synthetic,
    Trace, TraceContents,
};
use servemath_sim::{
    ClosedLoop, KvTransfer, Policy, Pool, ReplicaSpec, Router, SchedulerConfig, Slo, Workload,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The default workload: Poisson arrivals at 2 requests/s for 10 minutes, chat-like lengths.
pub const DEFAULT_RATE_PER_S: f64 = 2.0;
pub const DEFAULT_DURATION_S: f64 = 600.0;
pub const DEFAULT_INPUT: &str = "lognormal:2000,1.0";
pub const DEFAULT_OUTPUT: &str = "lognormal:300,0.8";
/// Static batching's defaults: a batch of 32, or whatever arrived 500 ms after the first.
const DEFAULT_STATIC_BATCH: u32 = 32;
const DEFAULT_STATIC_TIMEOUT_S: f64 = 0.5;
const DEFAULT_INTERVAL_S: f64 = 10.0;

/// Everything `run` needs.
pub struct Plan {
    pub replicas: Vec<ReplicaSpec>,
    pub router: Router,
    pub kv_transfer: Option<Link>,
    pub leap: bool,
    pub slo: Option<Slo>,
    /// Where the run stops (closed loops with a duration); `None`: when every request is done.
    pub horizon_s: Option<f64>,
    pub workload: Source,
    pub setup: SimulateSetup,
    pub outputs: Outputs,
    pub expected: Expected,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

/// The KV link between pools, with which network it is.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub link: KvTransfer,
    pub name: &'static str,
}

/// How big the run is, for the progress bar.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expected {
    pub requests: Option<u64>,
    pub span_s: Option<f64>,
}

/// Where requests come from.
pub enum Source {
    Synthetic(Box<Synthetic>),
    Trace(Trace),
    Closed {
        users: u32,
        requests: u64,
        lengths: Box<LengthSampler>,
    },
}

impl Source {
    pub fn into_sim(self) -> Workload {
        match self {
            Source::Synthetic(s) => Workload::Open(Box::new((*s).into_iter())),
            Source::Trace(t) => Workload::Open(Box::new(t.requests.into_iter())),
            Source::Closed {
                users,
                requests,
                mut lengths,
            } => Workload::Closed(ClosedLoop {
                users,
                requests,
                lengths: Box::new(move || {
                    let p = lengths.next_pair();
                    (p.input_tokens, p.output_tokens)
                }),
            }),
        }
    }
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
    let o = &m.origins;
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let outputs = outputs(&m, o)?;
    let (workload, report, horizon_s, expected) = workload(&m, o)?;
    let context = (report.mean_input_tokens + report.mean_output_tokens).ceil();
    let fleet = fleet(&m, o, context, &mut warnings, &mut notes)?;
    let slo = slo(&m, o)?;
    Ok(Plan {
        setup: SimulateSetup {
            pools: fleet.pools,
            router: fleet.router,
            kv_transfer: fleet.link.map(|l| KvTransferReport {
                link: l.name,
                bytes_per_s: l.link.bytes_per_s,
                latency_s: l.link.latency_s,
            }),
            workload: report,
            slo: slo.map(|s| s.1),
            leap: !m.output.reference,
        },
        replicas: fleet.replicas,
        router: fleet.router,
        kv_transfer: fleet.link,
        leap: !m.output.reference,
        slo: slo.map(|s| s.0),
        horizon_s,
        workload,
        outputs,
        expected,
        warnings,
        notes,
    })
}

// ------------------------------------------------------------------------------ helpers

/// Most requests one synthetic simulation generates: 10 M take 10 to 20 s, and under overload
/// every queued request is held in memory (about 160 B each: 1.6 GB at the limit).
const MAX_SIM_REQUESTS: u64 = 10_000_000;

/// Most users of a closed loop (each holds a request in flight).
const MAX_USERS: u32 = 1_000_000;

/// Most replicas one simulation holds: 65,536 (half a million GPUs at TP8), beyond which the
/// replica table alone would take gigabytes. Use `fleet` to size larger fleets analytically.
const MAX_REPLICAS: u32 = 1 << 16;

/// A replica count (1 by default), at most [`MAX_REPLICAS`].
fn replica_count(v: Option<i64>, flag: &'static str, o: &Origins) -> anyhow::Result<u32> {
    let n = count(v, flag, o)?.unwrap_or(1);
    if n > MAX_REPLICAS {
        return Err(usage!(
            "{} = {n}: at most {} replicas in one simulation",
            o.name(flag),
            fmt::int(f64::from(MAX_REPLICAS))
        ));
    }
    Ok(n)
}

/// A count of at least 1 (replicas, users, batch sizes, token limits).
fn count(v: Option<i64>, flag: &'static str, o: &Origins) -> anyhow::Result<Option<u32>> {
    v.map(|n| match u32::try_from(n) {
        Ok(n) if n >= 1 => Ok(n),
        _ if n < 1 => Err(usage!("{} = {n}: must be at least 1", o.name(flag))),
        _ => Err(usage!(
            "{} = {n}: must be at most {}",
            o.name(flag),
            fmt::int(f64::from(u32::MAX))
        )),
    })
    .transpose()
}

fn duration(
    v: &Option<Text>,
    flag: &'static str,
    o: &Origins,
    parse: fn(&str) -> Result<f64, String>,
) -> anyhow::Result<Option<f64>> {
    v.as_ref()
        .map(|t| parse(&t.0).map_err(|e| usage!("{}: {e}", o.name(flag))))
        .transpose()
}

fn path_text(p: &Path) -> String {
    p.display().to_string()
}

// ----------------------------------------------------------------------------- outputs

fn outputs(m: &Merged, o: &Origins) -> anyhow::Result<Outputs> {
    let f = &m.output;
    let interval_s = duration(&f.interval, "--interval", o, parse_positive_duration_s)?
        .unwrap_or(DEFAULT_INTERVAL_S);
    let plot = match &f.plot {
        Some(p) => Some((p.clone(), Kind::from_path(p)?)),
        None => None,
    };
    // Refuse a file that cannot be written before the run, not after it.
    for (flag, path) in [
        ("--requests-csv", &f.requests_csv),
        ("--timeseries-csv", &f.timeseries_csv),
        ("--chrome-trace", &f.chrome_trace),
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
        ("--requests-csv", f.requests_csv.as_deref()),
        ("--timeseries-csv", f.timeseries_csv.as_deref()),
        ("--chrome-trace", f.chrome_trace.as_deref()),
        ("--plot", f.plot.as_deref()),
    ]
    .into_iter()
    .filter_map(|(flag, p)| p.map(|p| (flag, p)))
    .collect();
    let model = Path::new(&m.deploy.model);
    let mut read: Vec<(&str, &Path)> = [
        ("--trace", m.workload.trace.as_deref()),
        ("--lengths-from", m.workload.lengths_from.as_deref()),
        ("--params", m.deploy.params.params_file.as_deref()),
        ("--model", model.is_file().then_some(model)),
    ]
    .into_iter()
    .filter_map(|(flag, p)| p.map(|p| (flag, p)))
    .collect();
    read.extend(
        m.deploy
            .hardware_file
            .iter()
            .map(|p| ("--hardware-file", p.as_path())),
    );
    if let Some(config) = o.file() {
        read.push(("--config", Path::new(config)));
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

pub(crate) fn slo(m: &Merged, o: &Origins) -> anyhow::Result<Option<(Slo, SloReport)>> {
    let ttft = duration(&m.slo.slo_ttft, "--slo-ttft", o, parse_positive_duration_s)?;
    let tpot = duration(&m.slo.slo_tpot, "--slo-tpot", o, parse_positive_duration_s)?;
    if ttft.is_none() && tpot.is_none() {
        return Ok(None);
    }
    Ok(Some((
        Slo {
            ttft_s: ttft.unwrap_or(f64::INFINITY),
            tpot_s: tpot.unwrap_or(f64::INFINITY),
        },
        SloReport {
            ttft_s: ttft,
            tpot_s: tpot,
        },
    )))
}

// ---------------------------------------------------------------------------- workload

pub(crate) type WorkloadParts = (Source, WorkloadReport, Option<f64>, Expected);

pub(crate) fn workload(m: &Merged, o: &Origins) -> anyhow::Result<WorkloadParts> {
    let w = &m.workload;
    let seed = w.seed.unwrap_or(0);
    let duration_s = duration(&w.duration, "--duration", o, parse_positive_duration_s)?;
    let requests = w
        .requests
        .map(|n| {
            u64::try_from(n)
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| usage!("{} = {n}: must be at least 1", o.name("--requests")))
        })
        .transpose()?;
    let mut report = WorkloadReport {
        kind: "synthetic",
        arrivals: None,
        mean_rate_per_s: None,
        input: None,
        output: None,
        lengths_from: None,
        trace: None,
        trace_speed: None,
        window_s: None,
        users: None,
        requests_limit: requests,
        duration_limit_s: duration_s,
        mean_input_tokens: 0.0,
        mean_output_tokens: 0.0,
        seed,
    };
    if let Some(path) = &w.trace {
        let trace = replay(m, o, path, duration_s, requests, &mut report)?;
        let expected = Expected {
            requests: Some(trace.len() as u64),
            span_s: None,
        };
        return Ok((Source::Trace(trace), report, None, expected));
    }
    for (set, flag) in [
        (w.trace_speed.is_some(), "--trace-speed"),
        (w.window.is_some(), "--window"),
    ] {
        if set {
            return Err(usage!("{} applies to --trace replays only", o.name(flag)));
        }
    }
    let lengths = lengths(m, o, &mut report)?;
    report.mean_input_tokens = lengths.mean_input_tokens();
    report.mean_output_tokens = lengths.mean_output_tokens();
    if let Some(users) = count(w.concurrency, "--concurrency", o)? {
        if users > MAX_USERS {
            return Err(usage!(
                "{} = {users}: at most {} users in a closed loop",
                o.name("--concurrency"),
                fmt::int(f64::from(MAX_USERS))
            ));
        }
        for (set, flag) in [
            (w.rate.is_some(), "--rate"),
            (w.arrivals.is_some(), "--arrivals"),
        ] {
            if set {
                return Err(usage!(
                    "{} and {} conflict: a closed loop sends each user's next request when the last completes",
                    o.name("--concurrency"),
                    o.name(flag)
                ));
            }
        }
        // N users for a duration; or until a number of requests is done; by default 10 minutes.
        let horizon_s = match (duration_s, requests) {
            (Some(d), _) => Some(d),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_DURATION_S),
        };
        report.kind = "closed_loop";
        report.users = Some(users);
        report.duration_limit_s = horizon_s;
        let sampler = LengthSampler::new(lengths, seed)?;
        let expected = Expected {
            requests,
            span_s: horizon_s,
        };
        let source = Source::Closed {
            users,
            requests: requests.unwrap_or(u64::MAX),
            lengths: Box::new(sampler),
        };
        return Ok((source, report, horizon_s, expected));
    }
    let arrivals = arrivals(m, o)?;
    let limit = match (requests, duration_s) {
        (None, None) => Limit::duration_s(DEFAULT_DURATION_S),
        (requests, duration_s) => Limit {
            requests,
            duration_s,
        },
    };
    report.arrivals = Some(arrivals.to_string());
    report.mean_rate_per_s = Some(arrivals.mean_rate_per_s());
    report.requests_limit = limit.requests;
    report.duration_limit_s = limit.duration_s;
    let by_time = limit
        .duration_s
        .map(|d| (d * arrivals.mean_rate_per_s()).ceil() as u64);
    let expected = Expected {
        requests: match (limit.requests, by_time) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
        span_s: None,
    };
    if let Some(n) = expected.requests.filter(|&n| n > MAX_SIM_REQUESTS) {
        return Err(usage!(
            "{} for {}: {} requests, above the {} one simulation takes (under overload every one of them waits in memory); shorten the run or lower the rate",
            o.name("--rate"),
            o.name("--duration"),
            fmt::int(n as f64),
            fmt::int(MAX_SIM_REQUESTS as f64)
        ));
    }
    let synthetic = Synthetic::new(arrivals, lengths, seed, limit)?;
    Ok((
        Source::Synthetic(Box::new(synthetic)),
        report,
        None,
        expected,
    ))
}

fn arrivals(m: &Merged, o: &Origins) -> anyhow::Result<Arrivals> {
    let w = &m.workload;
    match (w.rate, &w.arrivals) {
        (Some(_), Some(_)) => Err(usage!(
            "{} and {} conflict: give one arrival process",
            o.name("--rate"),
            o.name("--arrivals")
        )),
        (Some(rate), None) => {
            let a = Arrivals::Poisson { rate_per_s: rate };
            a.validate()
                .map_err(|e| usage!("{} = {rate}: {e}", o.name("--rate")))?;
            Ok(a)
        }
        (None, Some(spec)) => spec
            .0
            .parse()
            .map_err(|e| usage!("{}: {e}", o.name("--arrivals"))),
        (None, None) => Ok(Arrivals::Poisson {
            rate_per_s: DEFAULT_RATE_PER_S,
        }),
    }
}

fn lengths(m: &Merged, o: &Origins, report: &mut WorkloadReport) -> anyhow::Result<Lengths> {
    let w = &m.workload;
    if let Some(path) = &w.lengths_from {
        for (set, flag) in [
            (w.input.is_some(), "--input"),
            (w.output.is_some(), "--output"),
        ] {
            if set {
                return Err(usage!(
                    "{} and {} conflict: the file gives both lengths",
                    o.name("--lengths-from"),
                    o.name(flag)
                ));
            }
        }
        let pairs = match read_trace(path)? {
            TraceContents::Lengths(e) => e,
            TraceContents::Timed(t) => t
                .lengths()
                .ok_or_else(|| anyhow!("{}: no requests in the file", path.display()))?,
        };
        report.lengths_from = Some(path_text(path));
        return Ok(Lengths::Empirical(pairs));
    }
    let dist =
        |v: &Option<Text>, flag: &'static str, default: &str| -> anyhow::Result<LengthDist> {
            let text = v.as_ref().map_or(default, |t| t.0.as_str());
            text.parse().map_err(|e| usage!("{}: {e}", o.name(flag)))
        };
    let input = dist(&w.input, "--input", DEFAULT_INPUT)?;
    let output = dist(&w.output, "--output", DEFAULT_OUTPUT)?;
    report.input = Some(input.to_string());
    report.output = Some(output.to_string());
    Ok(Lengths::Independent { input, output })
}

fn read_trace(path: &Path) -> anyhow::Result<TraceContents> {
    let text = common::read_input(path, "trace")?;
    Ok(trace::read(
        &text,
        &path_text(path),
        &ReadOptions::default(),
    )?)
}

/// A timed trace, windowed, sped up and cut to the limits.
fn replay(
    m: &Merged,
    o: &Origins,
    path: &Path,
    duration_s: Option<f64>,
    requests: Option<u64>,
    report: &mut WorkloadReport,
) -> anyhow::Result<Trace> {
    let w = &m.workload;
    for (set, flag) in [
        (w.rate.is_some(), "--rate"),
        (w.arrivals.is_some(), "--arrivals"),
        (w.concurrency.is_some(), "--concurrency"),
        (w.input.is_some(), "--input"),
        (w.output.is_some(), "--output"),
        (w.lengths_from.is_some(), "--lengths-from"),
    ] {
        if set {
            return Err(usage!(
                "{} and {} conflict: a trace brings its own arrivals and lengths (--trace-speed scales its rate)",
                o.name("--trace"),
                o.name(flag)
            ));
        }
    }
    let mut t = match read_trace(path)? {
        TraceContents::Timed(t) => t,
        TraceContents::Lengths(_) => bail!(
            "{}: the file has lengths but no arrival times; sample it with --lengths-from {} and an arrival process (--rate or --arrivals)",
            path.display(),
            path.display()
        ),
    };
    if let Some(text) = &w.window {
        let (start, end) =
            parse_window(&text.0).map_err(|e| usage!("{}: {e}", o.name("--window")))?;
        t = t
            .window(start, end)
            .map_err(|e| usage!("{}: {e}", o.name("--window")))?;
        report.window_s = Some((start, end.is_finite().then_some(end)));
    }
    if let Some(k) = w.trace_speed {
        t = t
            .scale_rate(k)
            .map_err(|e| usage!("{}: {e}", o.name("--trace-speed")))?;
        report.trace_speed = Some(k);
    }
    if let Some(d) = duration_s {
        t.requests.retain(|r| r.arrival_s < d);
        if t.is_empty() {
            return Err(usage!(
                "{}: no arrival of {} falls before it",
                o.name("--duration"),
                path.display()
            ));
        }
    }
    if let Some(n) = requests {
        t.requests
            .truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    let n = t.len().max(1) as f64;
    let sum = |f: fn(&Request) -> u32| t.requests.iter().map(|r| f64::from(f(r))).sum::<f64>();
    report.kind = "trace";
    report.trace = Some(path_text(path));
    report.mean_input_tokens = sum(|r| r.input_tokens) / n;
    report.mean_output_tokens = sum(|r| r.output_tokens) / n;
    report.mean_rate_per_s = (t.span_s() > 0.0).then(|| (n - 1.0) / t.span_s());
    Ok(t)
}

// ------------------------------------------------------------------------------- fleet

struct Fleet {
    replicas: Vec<ReplicaSpec>,
    pools: Vec<PoolReport>,
    router: Router,
    link: Option<Link>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SchedulerKind {
    Static,
    Continuous,
    Chunked,
    Train,
    Disagg,
}

const SCHEDULERS: [(&str, SchedulerKind); 5] = [
    ("static", SchedulerKind::Static),
    ("continuous", SchedulerKind::Continuous),
    ("chunked", SchedulerKind::Chunked),
    ("train", SchedulerKind::Train),
    ("disagg", SchedulerKind::Disagg),
];

const ROUTERS: [(&str, Router); 4] = [
    ("round-robin", Router::RoundRobin),
    ("least-outstanding", Router::LeastOutstanding),
    ("least-kv", Router::LeastKv),
    ("prefix-affinity", Router::PrefixAffinity),
];

/// `value` among `names`, case-insensitively with `_` for `-`; else an error with the nearest.
fn pick<T: Copy>(
    value: &str,
    names: &[(&str, T)],
    flag: &'static str,
    o: &Origins,
) -> anyhow::Result<T> {
    let v = value.trim().to_ascii_lowercase().replace('_', "-");
    if let Some((_, t)) = names.iter().find(|(n, _)| *n == v) {
        return Ok(*t);
    }
    let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    let hint = servemath_model::nearest(&v, &all)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
    Err(usage!(
        "{}: unknown value `{value}`{hint}; known: {}",
        o.name(flag),
        all.join(", ")
    ))
}

fn fleet(
    m: &Merged,
    o: &Origins,
    context: f64,
    warnings: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> anyhow::Result<Fleet> {
    let s = &m.scheduler;
    let f = &m.fleet;
    let kind = match &s.scheduler {
        Some(t) => pick(&t.0, &SCHEDULERS, "--scheduler", o)?,
        None => SchedulerKind::Chunked,
    };
    let router = match &f.router {
        Some(t) => pick(&t.0, &ROUTERS, "--router", o)?,
        None => Router::LeastOutstanding,
    };
    // Settings that the chosen scheduler does not use are reported, not silently dropped.
    let unused = |set: bool, flag: &'static str, applies: &str, warnings: &mut Vec<String>| {
        if set {
            warnings.push(format!(
                "{} is ignored: it applies to {applies}",
                o.name(flag)
            ));
        }
    };
    let static_only = kind != SchedulerKind::Static;
    unused(
        static_only && s.static_batch.is_some(),
        "--static-batch",
        "--scheduler static",
        warnings,
    );
    unused(
        static_only && s.static_timeout.is_some(),
        "--static-timeout",
        "--scheduler static",
        warnings,
    );
    unused(
        kind != SchedulerKind::Train && s.period.is_some(),
        "--period",
        "--scheduler train",
        warnings,
    );
    let unified = kind != SchedulerKind::Disagg;
    for (set, flag) in [
        (f.prefill_replicas.is_some(), "--prefill-replicas"),
        (f.decode_replicas.is_some(), "--decode-replicas"),
        (f.prefill_tp.is_some(), "--prefill-tp"),
        (f.decode_tp.is_some(), "--decode-tp"),
        (f.prefill_hardware.is_some(), "--prefill-hardware"),
        (f.decode_hardware.is_some(), "--decode-hardware"),
    ] {
        unused(unified && set, flag, "--scheduler disagg", warnings);
    }
    unused(
        !unified && f.replicas.is_some(),
        "--replicas",
        "unified pools; with --scheduler disagg give --prefill-replicas and --decode-replicas",
        warnings,
    );

    // The scheduler's token budget also sizes the activation workspace the memory fit reserves
    // (vLLM profiles activations at max_num_batched_tokens), so it sets the cost parameter too.
    let mut base = m.deploy.clone();
    if let Some(n) = s.max_batched_tokens {
        base.params
            .param
            .insert(0, format!("max_batched_tokens={n}"));
    }
    if unified {
        let replicas = replica_count(f.replicas, "--replicas", o)?;
        let dep = deploy(&base, m.tp_given, context, "", notes)?;
        let policy = policy(kind, s, o, &dep)?;
        let scheduler = scheduler(policy, s, o)?;
        let dep = Arc::new(dep);
        let spec = ReplicaSpec {
            deployment: dep.clone(),
            scheduler,
            pool: Pool::Unified,
        };
        return Ok(Fleet {
            replicas: vec![spec; replicas as usize],
            pools: vec![PoolReport::new(Pool::Unified, replicas, &dep, scheduler)],
            router,
            link: None,
        });
    }

    let prefill_n = replica_count(f.prefill_replicas, "--prefill-replicas", o)?;
    let decode_n = replica_count(f.decode_replicas, "--decode-replicas", o)?;
    let pool_args = |tp: Option<i64>, tp_flag: &'static str, hw: &Option<String>| {
        let mut a = base.clone();
        let tp = count(tp, tp_flag, o)?;
        if let Some(tp) = tp {
            a.tp = Some(tp);
        }
        if let Some(hw) = hw {
            a.hardware = hw.clone();
        }
        anyhow::Ok((a, m.tp_given || tp.is_some()))
    };
    let (pa, p_tp) = pool_args(f.prefill_tp, "--prefill-tp", &f.prefill_hardware)?;
    let (da, d_tp) = pool_args(f.decode_tp, "--decode-tp", &f.decode_hardware)?;
    let prefill = Arc::new(deploy(&pa, p_tp, context, "prefill ", notes)?);
    let decode = Arc::new(deploy(&da, d_tp, context, "decode ", notes)?);
    let scheduler = scheduler(Policy::Chunked, s, o)?;
    let link = kv_link(&prefill, prefill_n, &decode, decode_n)?;
    let spec = |dep: &Arc<Deployment>, pool| ReplicaSpec {
        deployment: dep.clone(),
        scheduler,
        pool,
    };
    let mut replicas = vec![spec(&prefill, Pool::Prefill); prefill_n as usize];
    replicas.extend(vec![spec(&decode, Pool::Decode); decode_n as usize]);
    Ok(Fleet {
        replicas,
        pools: vec![
            PoolReport::new(Pool::Prefill, prefill_n, &prefill, scheduler),
            PoolReport::new(Pool::Decode, decode_n, &decode, scheduler),
        ],
        router,
        link: Some(link),
    })
}

fn policy(
    kind: SchedulerKind,
    s: &super::SchedulerFlags,
    o: &Origins,
    dep: &Deployment,
) -> anyhow::Result<Policy> {
    Ok(match kind {
        SchedulerKind::Static => Policy::Static {
            batch: count(s.static_batch, "--static-batch", o)?.unwrap_or(DEFAULT_STATIC_BATCH),
            timeout_s: duration(&s.static_timeout, "--static-timeout", o, parse_duration_s)?
                .unwrap_or(DEFAULT_STATIC_TIMEOUT_S),
        },
        SchedulerKind::Continuous => Policy::Continuous,
        SchedulerKind::Chunked | SchedulerKind::Disagg => Policy::Chunked,
        SchedulerKind::Train => Policy::Train {
            period_s: match s.period.as_ref().map(|t| t.0.trim()) {
                None | Some("hbm") => hbm_read_s(dep),
                Some(p) => parse_positive_duration_s(p)
                    .map_err(|e| usage!("{}: {e}, or `hbm`", o.name("--period")))?,
            },
        },
    })
}

/// The time to read the whole HBM once: seed claim 7's train period.
pub fn hbm_read_s(dep: &Deployment) -> f64 {
    dep.hardware.hbm_bytes / dep.hardware.hbm_bytes_per_s
}

/// Largest KV block accepted: 2^16 tokens, far above any engine's (16 to 256).
const MAX_BLOCK_TOKENS: u32 = 1 << 16;

fn scheduler(
    policy: Policy,
    s: &super::SchedulerFlags,
    o: &Origins,
) -> anyhow::Result<SchedulerConfig> {
    let mut c = SchedulerConfig::vllm(policy);
    if let Some(n) = count(s.max_seqs, "--max-seqs", o)? {
        c.max_seqs = n;
    }
    if let Some(n) = count(s.max_batched_tokens, "--max-batched-tokens", o)? {
        c.max_batched_tokens = n;
    }
    if let Some(n) = count(s.block_size, "--block-size", o)? {
        // Engines use 16 to 256 tokens; a block larger than any model's context is a typo.
        if n > MAX_BLOCK_TOKENS {
            return Err(usage!(
                "{} = {n}: at most {MAX_BLOCK_TOKENS} tokens per KV block (engines use 16 to 256)",
                o.name("--block-size")
            ));
        }
        c.block_tokens = n;
    }
    c.prefix_caching = !s.no_prefix_caching;
    Ok(c)
}

/// The deployment the flags describe; without a tensor-parallel degree, the smallest power of
/// two (within the scale-up domain) at which a request of the mean context fits.
pub(crate) fn deploy(
    args: &DeployArgs,
    tp_given: bool,
    context: f64,
    pool: &str,
    notes: &mut Vec<String>,
) -> anyhow::Result<Deployment> {
    // Unknown names are reported as such, not as a layout that does not fit.
    let model = common::load_model(&args.model)?;
    let catalog = common::load_catalog(&args.hardware_file)?;
    let domain = catalog.get(&args.hardware)?.scale_up_domain;
    if args.dp_attn.max(1) > domain.max(1) {
        bail!(
            "{} on {}: --dp-attn {} exceeds the scale-up domain of {domain}",
            model.name,
            args.hardware,
            args.dp_attn
        );
    }
    let fits = |d: &Deployment| d.max_batch(context) > 0;
    if tp_given {
        let dep = common::build_deployment(args)?;
        if fits(&dep) {
            return Ok(dep);
        }
        let hint = common::smallest_fitting_tp(args, context, args.tp())?
            .map(|(tp, _)| format!("; --{}tp {tp} would fit", flag_prefix(pool)))
            .unwrap_or_default();
        return Err(does_not_fit(&dep, context, pool, &hint));
    }
    if let Some((tp, dep)) = common::smallest_fitting_tp(args, context, 0)? {
        notes.push(format!(
            "{pool}--tp {tp}: the smallest tensor-parallel degree at which {} fits on {} (give --{}tp to choose)",
            model.name, dep.hardware.id, flag_prefix(pool)
        ));
        return Ok(dep);
    }
    // Nothing fits: say why at TP1 (or why TP1 cannot be built).
    let dep = common::build_deployment(args)?;
    Err(does_not_fit(
        &dep,
        context,
        pool,
        &format!(
            "; no --{}tp up to the scale-up domain of {domain} fits: add pipeline stages (--pp) or choose larger --hardware",
            flag_prefix(pool)
        ),
    ))
}

fn flag_prefix(pool: &str) -> &'static str {
    match pool.trim() {
        "prefill" => "prefill-",
        "decode" => "decode-",
        _ => "",
    }
}

fn does_not_fit(dep: &Deployment, context: f64, pool: &str, hint: &str) -> anyhow::Error {
    let mem = dep.memory(1.0, context);
    let reason = mem
        .reason()
        .unwrap_or_else(|| "no memory left for the KV cache".to_string());
    let l = LayoutReport::of(dep);
    anyhow!(
        "{} on {} ({}{}): one request of the mean context, {} tokens, does not fit: {reason}{hint}",
        dep.model.name,
        dep.hardware.id,
        pool,
        layout(&l),
        fmt::int(context)
    )
}

/// The link between pools: the sending replica's GPUs × the per-GPU scale-up bandwidth when
/// both pools fit in one scale-up domain of the same hardware, else × scale-out bandwidth.
fn kv_link(
    prefill: &Deployment,
    prefill_n: u32,
    decode: &Deployment,
    decode_n: u32,
) -> anyhow::Result<Link> {
    let hw = &prefill.hardware;
    let total = u64::from(prefill_n) * u64::from(prefill.gpus())
        + u64::from(decode_n) * u64::from(decode.gpus());
    let gpus = f64::from(prefill.gpus());
    if hw.id == decode.hardware.id && total <= u64::from(hw.scale_up_domain) {
        return Ok(Link {
            link: KvTransfer {
                bytes_per_s: gpus * hw.scale_up_bytes_per_s,
                latency_s: hw.scale_up_latency_s,
            },
            name: "scale_up",
        });
    }
    let per_gpu = hw.scale_out().with_context(|| {
        format!("the KV transfer from the prefill pool ({total} GPUs in all, more than one scale-up domain) needs it")
    })?;
    Ok(Link {
        link: KvTransfer {
            bytes_per_s: gpus * per_gpu,
            latency_s: hw.scale_out_latency_s,
        },
        name: "scale_out",
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
