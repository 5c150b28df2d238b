//! The workload of a request (synthetic arrivals, a trace replay or a closed loop) and its SLOs,
//! resolved into a request stream, the report of what it is, and how big the run will be.

use super::{count, duration, LoadedText, SloRequest, WorkloadRequest};
use crate::units::{parse_positive_duration_s, parse_window};
use crate::{Invalid, Spelling};
use anyhow::anyhow;
use servemath_report::human;
use servemath_report::{SloReport, WorkloadReport};
use servemath_sim::workload::{
    trace, Arrivals, LengthDist, LengthSampler, Lengths, Limit, ReadOptions, Request, Synthetic,
    Trace, TraceContents,
};
use servemath_sim::{ClosedLoop, Slo, Workload};

/// The default workload: Poisson arrivals at 2 requests/s for 10 minutes, chat-like lengths.
pub const DEFAULT_RATE_PER_S: f64 = 2.0;
/// Seconds of arrivals (or of a closed loop) when neither a duration nor a request count is
/// given: 10 minutes.
pub const DEFAULT_DURATION_S: f64 = 600.0;
/// Prompt lengths by default: lognormal with mean 2,000 tokens and sigma 1.0.
pub const DEFAULT_INPUT: &str = "lognormal:2000,1.0";
/// Output lengths by default: lognormal with mean 300 tokens and sigma 0.8.
pub const DEFAULT_OUTPUT: &str = "lognormal:300,0.8";

/// Most requests one synthetic simulation generates: 10 M take 10 to 20 s, and under overload
/// every queued request is held in memory (about 160 B each: 1.6 GB at the limit).
pub const MAX_SIM_REQUESTS: u64 = 10_000_000;

/// Most users of a closed loop (each holds a request in flight).
pub const MAX_USERS: u32 = 1_000_000;

/// How big the run is, for a progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Expected {
    /// Requests the run will complete (a trace's length, a limit, rate × duration); `None`
    /// when not known ahead.
    pub requests: Option<u64>,
    /// Simulated seconds the run will cover (a closed loop with a duration); `None` when it
    /// ends with its last request.
    pub span_s: Option<f64>,
}

/// Where requests come from.
pub enum Source {
    /// Generated arrivals and lengths, drawn lazily from a seed.
    Synthetic(Box<Synthetic>),
    /// A trace replayed with its own arrival times and lengths.
    Trace(Trace),
    /// A closed loop: each user sends its next request when the last completes.
    Closed {
        /// Users, each with one request in flight (at most [`MAX_USERS`]).
        users: u32,
        /// Requests to complete before stopping; `u64::MAX` when only a duration stops it.
        requests: u64,
        /// Where each request's (input, output) lengths come from.
        lengths: Box<LengthSampler>,
    },
}

impl Source {
    /// The simulator's form of the stream.
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

/// A resolved workload.
pub struct WorkloadPlan {
    /// The request stream.
    pub source: Source,
    /// What the stream is (kind, arrivals, mean lengths, limits), as the report states it.
    pub report: WorkloadReport,
    /// Where a closed loop stops; `None` for open streams, which end with their last request.
    pub horizon_s: Option<f64>,
    /// How big the run will be, for a progress bar.
    pub expected: Expected,
}

fn invalid(message: String) -> anyhow::Error {
    Invalid(message).into()
}

/// The SLO targets, or `None` when neither is given.
pub fn resolve_slo(
    slo: &SloRequest,
    spelling: &dyn Spelling,
) -> anyhow::Result<Option<(Slo, SloReport)>> {
    let ttft = duration(&slo.ttft, "slo.ttft", spelling, parse_positive_duration_s)?;
    let tpot = duration(&slo.tpot, "slo.tpot", spelling, parse_positive_duration_s)?;
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

/// The request stream a workload describes, refusing conflicting settings.
pub fn resolve_workload(
    w: &WorkloadRequest,
    spelling: &dyn Spelling,
) -> anyhow::Result<WorkloadPlan> {
    let name = |key: &'static str| spelling.name(key);
    let seed = w.seed.unwrap_or(0);
    let duration_s = duration(
        &w.duration,
        "workload.duration",
        spelling,
        parse_positive_duration_s,
    )?;
    let requests = w
        .requests
        .map(|n| {
            u64::try_from(n).ok().filter(|&n| n >= 1).ok_or_else(|| {
                invalid(format!(
                    "{} = {n}: must be at least 1",
                    name("workload.requests")
                ))
            })
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
    if let Some(file) = &w.trace {
        let trace = replay(w, spelling, file, duration_s, requests, &mut report)?;
        let expected = Expected {
            requests: Some(trace.len() as u64),
            span_s: None,
        };
        return Ok(WorkloadPlan {
            source: Source::Trace(trace),
            report,
            horizon_s: None,
            expected,
        });
    }
    for (set, key) in [
        (w.trace_speed.is_some(), "workload.trace_speed"),
        (w.window.is_some(), "workload.window"),
    ] {
        if set {
            return Err(invalid(format!(
                "{} applies to {} replays only",
                name(key),
                name("workload.trace")
            )));
        }
    }
    let lengths = lengths(w, spelling, &mut report)?;
    report.mean_input_tokens = lengths.mean_input_tokens();
    report.mean_output_tokens = lengths.mean_output_tokens();
    if let Some(users) = count(w.concurrency, "workload.concurrency", spelling)? {
        if users > MAX_USERS {
            return Err(invalid(format!(
                "{} = {users}: at most {} users in a closed loop",
                name("workload.concurrency"),
                human::int(f64::from(MAX_USERS))
            )));
        }
        for (set, key) in [
            (w.rate.is_some(), "workload.rate"),
            (w.arrivals.is_some(), "workload.arrivals"),
        ] {
            if set {
                return Err(invalid(format!(
                    "{} and {} conflict: a closed loop sends each user's next request when the last completes",
                    name("workload.concurrency"),
                    name(key)
                )));
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
        return Ok(WorkloadPlan {
            source: Source::Closed {
                users,
                requests: requests.unwrap_or(u64::MAX),
                lengths: Box::new(sampler),
            },
            report,
            horizon_s,
            expected: Expected {
                requests,
                span_s: horizon_s,
            },
        });
    }
    let arrivals = arrivals(w, spelling)?;
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
        return Err(invalid(format!(
            "{} for {}: {} requests, above the {} one simulation takes (under overload every one of them waits in memory); shorten the run or lower the rate",
            name("workload.rate"),
            name("workload.duration"),
            human::int(n as f64),
            human::int(MAX_SIM_REQUESTS as f64)
        )));
    }
    let synthetic = Synthetic::new(arrivals, lengths, seed, limit)?;
    Ok(WorkloadPlan {
        source: Source::Synthetic(Box::new(synthetic)),
        report,
        horizon_s: None,
        expected,
    })
}

fn arrivals(w: &WorkloadRequest, spelling: &dyn Spelling) -> anyhow::Result<Arrivals> {
    let name = |key: &'static str| spelling.name(key);
    match (w.rate, &w.arrivals) {
        (Some(_), Some(_)) => Err(invalid(format!(
            "{} and {} conflict: give one arrival process",
            name("workload.rate"),
            name("workload.arrivals")
        ))),
        (Some(rate), None) => {
            let a = Arrivals::Poisson { rate_per_s: rate };
            a.validate()
                .map_err(|e| invalid(format!("{} = {rate}: {e}", name("workload.rate"))))?;
            Ok(a)
        }
        (None, Some(spec)) => spec
            .parse()
            .map_err(|e| invalid(format!("{}: {e}", name("workload.arrivals")))),
        (None, None) => Ok(Arrivals::Poisson {
            rate_per_s: DEFAULT_RATE_PER_S,
        }),
    }
}

fn lengths(
    w: &WorkloadRequest,
    spelling: &dyn Spelling,
    report: &mut WorkloadReport,
) -> anyhow::Result<Lengths> {
    let name = |key: &'static str| spelling.name(key);
    if let Some(file) = &w.lengths_from {
        for (set, key) in [
            (w.input.is_some(), "workload.input"),
            (w.output.is_some(), "workload.output"),
        ] {
            if set {
                return Err(invalid(format!(
                    "{} and {} conflict: the file gives both lengths",
                    name("workload.lengths_from"),
                    name(key)
                )));
            }
        }
        let pairs = match read_trace(file)? {
            TraceContents::Lengths(e) => e,
            TraceContents::Timed(t) => t
                .lengths()
                .ok_or_else(|| anyhow!("{}: no requests in the file", file.name))?,
        };
        report.lengths_from = Some(file.name.clone());
        return Ok(Lengths::Empirical(pairs));
    }
    let dist =
        |v: &Option<String>, key: &'static str, default: &str| -> anyhow::Result<LengthDist> {
            let text = v.as_deref().unwrap_or(default);
            text.parse()
                .map_err(|e| invalid(format!("{}: {e}", name(key))))
        };
    let input = dist(&w.input, "workload.input", DEFAULT_INPUT)?;
    let output = dist(&w.output, "workload.output", DEFAULT_OUTPUT)?;
    report.input = Some(input.to_string());
    report.output = Some(output.to_string());
    Ok(Lengths::Independent { input, output })
}

fn read_trace(file: &LoadedText) -> anyhow::Result<TraceContents> {
    Ok(trace::read(
        &file.text,
        &file.name,
        &ReadOptions::default(),
    )?)
}

/// A timed trace, windowed, sped up and cut to the limits.
fn replay(
    w: &WorkloadRequest,
    spelling: &dyn Spelling,
    file: &LoadedText,
    duration_s: Option<f64>,
    requests: Option<u64>,
    report: &mut WorkloadReport,
) -> anyhow::Result<Trace> {
    let name = |key: &'static str| spelling.name(key);
    for (set, key) in [
        (w.rate.is_some(), "workload.rate"),
        (w.arrivals.is_some(), "workload.arrivals"),
        (w.concurrency.is_some(), "workload.concurrency"),
        (w.input.is_some(), "workload.input"),
        (w.output.is_some(), "workload.output"),
        (w.lengths_from.is_some(), "workload.lengths_from"),
    ] {
        if set {
            return Err(invalid(format!(
                "{} and {} conflict: a trace brings its own arrivals and lengths ({} scales its rate)",
                name("workload.trace"),
                name(key),
                name("workload.trace_speed")
            )));
        }
    }
    let mut t = match read_trace(file)? {
        TraceContents::Timed(t) => t,
        TraceContents::Lengths(_) => {
            return Err(anyhow!(
                "{}: the file has lengths but no arrival times; sample it with {} {} and an arrival process ({} or {})",
                file.name,
                name("workload.lengths_from"),
                file.name,
                name("workload.rate"),
                name("workload.arrivals")
            ))
        }
    };
    if let Some(text) = &w.window {
        let (start, end) =
            parse_window(text).map_err(|e| invalid(format!("{}: {e}", name("workload.window"))))?;
        t = t
            .window(start, end)
            .map_err(|e| invalid(format!("{}: {e}", name("workload.window"))))?;
        report.window_s = Some((start, end.is_finite().then_some(end)));
    }
    if let Some(k) = w.trace_speed {
        t = t
            .scale_rate(k)
            .map_err(|e| invalid(format!("{}: {e}", name("workload.trace_speed"))))?;
        report.trace_speed = Some(k);
    }
    if let Some(d) = duration_s {
        t.requests.retain(|r| r.arrival_s < d);
        if t.is_empty() {
            return Err(invalid(format!(
                "{}: no arrival of {} falls before it",
                name("workload.duration"),
                file.name
            )));
        }
    }
    if let Some(n) = requests {
        t.requests
            .truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    let n = t.len().max(1) as f64;
    let sum = |f: fn(&Request) -> u32| t.requests.iter().map(|r| f64::from(f(r))).sum::<f64>();
    report.kind = "trace";
    report.trace = Some(file.name.clone());
    report.mean_input_tokens = sum(|r| r.input_tokens) / n;
    report.mean_output_tokens = sum(|r| r.output_tokens) / n;
    report.mean_rate_per_s = (t.span_s() > 0.0).then(|| (n - 1.0) / t.span_s());
    Ok(t)
}
