//! The best configurations of a model on one or more machines and the Pareto front of
//! throughput per GPU against speed per user: every layout scored with the cost model
//! (`servemath_search::search`), the best re-scored in the simulator and re-ranked on their
//! simulated p99s.

use crate::simulate::{resolve_slo, resolve_workload, SloRequest, Source, WorkloadRequest};
use crate::{Diagnostic, Invalid, Spelling};
use servemath_cost::CostParams;
use servemath_econ::CostInputs;
use servemath_hardware::Hardware;
use servemath_model::ModelSpec;
use servemath_report::{
    human, SearchCounts, SearchHardware, SearchModel, SearchReport, SearchRestrict, SearchRow,
    SearchSlo, SimulationSetup,
};
use servemath_search::{
    closest_miss, pareto_front, rank, rescore, search as analytic_search, Candidate, FrontAxis,
    HardwareOption, Objective, Restrict, SearchError, SearchResult, SearchSpec, SimOptions,
    SimScore, Slo, Traffic, Window,
};
use servemath_sim::workload::Arrivals;
use std::time::Instant;

/// The most GPUs per unit when none is given (or the largest scale-up domain searched, if
/// larger).
pub const DEFAULT_MAX_GPUS: u32 = 64;

/// One machine to search on.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The catalog entry (its scale-up domain may be overridden per search by `scale_up`).
    pub hardware: Hardware,
    /// Cost parameters for its family, with the caller's overrides.
    pub params: CostParams,
    /// Its cost inputs; `None` leaves its $ figures out.
    pub costs: Option<CostInputs>,
}

/// What `search` is asked.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The model to lay out.
    pub model: ModelSpec,
    /// The machines searched and compared side by side.
    pub machines: Vec<Machine>,
    /// Scale-up domain sizes to try on every machine as a design variable; empty: each
    /// machine's own.
    pub scale_up: Vec<u32>,
    /// Most GPUs in one replica or disaggregated unit ([`DEFAULT_MAX_GPUS`] when `None`).
    pub max_gpus: Option<u32>,
    /// A TPOT target of 1 / X (the tighter of it and `slo.tpot`).
    pub min_tokens_per_s_per_user: Option<f64>,
    /// p99 TTFT and TPOT targets a configuration must meet.
    pub slo: SloRequest,
    /// The arrival shape and lengths; the rate is rescaled to `load` of each configuration's
    /// capacity.
    pub workload: WorkloadRequest,
    /// Configurations to re-score in the simulator and report.
    pub top: usize,
    /// Offered load of each simulated configuration, a fraction of its capacity in (0, 1.5].
    pub load: f64,
    /// Requests measured per simulated configuration, at least.
    pub measured_requests: u64,
    /// Re-score the top in the simulator (else rank on the cost model alone).
    pub simulate: bool,
    /// Consider prefill/decode disaggregated units too.
    pub disaggregation: bool,
    /// Formats and layouts the search is held to (empty lists hold nothing).
    pub restrict: Restrict,
    /// What "best" means; `None`: cost when every machine has a price, else tokens per GPU.
    pub objective: Option<Objective>,
}

fn invalid(message: String) -> anyhow::Error {
    Invalid(message).into()
}

/// The search: the top configurations (simulated unless asked not to), the best per machine,
/// the fronts, and the closest miss when nothing meets the targets (`feasible: false`).
pub fn search(
    request: &SearchRequest,
    spelling: &dyn Spelling,
) -> anyhow::Result<(SearchReport, Vec<Diagnostic>)> {
    let name = |key: &'static str| spelling.name(key);
    let mut diagnostics = Vec::new();
    let mut hardware = Vec::new();
    for m in &request.machines {
        let scale_ups: Vec<Option<u32>> = if request.scale_up.is_empty() {
            vec![None]
        } else {
            request.scale_up.iter().map(|&s| Some(s)).collect()
        };
        for s in scale_ups {
            if s == Some(0) {
                return Err(invalid(format!(
                    "{} 0: a scale-up domain holds at least one GPU",
                    name("search.scale_up")
                )));
            }
            hardware.push(HardwareOption::new(
                m.hardware.clone(),
                s,
                m.params,
                m.costs.clone(),
            ));
        }
    }
    if request.workload.concurrency.is_some() {
        return Err(invalid(format!(
            "{}: search offers each configuration a fraction ({}) of its capacity as open-loop arrivals; a closed loop does not apply",
            name("workload.concurrency"),
            name("search.load")
        )));
    }
    if request.workload.rate.is_some() {
        diagnostics.push(Diagnostic::Warning(format!(
            "{} sets only the arrival process; search rescales it to {} of each configuration's capacity",
            name("workload.rate"),
            name("search.load")
        )));
    }
    let plan = resolve_workload(&request.workload, spelling)?;
    let mut workload = plan.report;
    let traffic = match plan.source {
        Source::Synthetic(s) => Traffic::Synthetic(s),
        Source::Trace(t) => Traffic::Trace(t),
        Source::Closed { .. } => {
            return Err(invalid(format!(
                "{} does not apply to search",
                name("workload.concurrency")
            )))
        }
    };
    // Only the shape of the arrivals is kept: each configuration gets its own rate.
    if let Traffic::Synthetic(s) = &traffic {
        workload.arrivals = Some(shape(s.arrivals()));
    }
    workload.mean_rate_per_s = None;
    let target = resolve_slo(&request.slo, spelling)?;
    let mut slo = target.map_or(
        Slo {
            ttft_s: f64::INFINITY,
            tpot_s: f64::INFINITY,
        },
        |t| t.0,
    );
    if let Some(x) = request.min_tokens_per_s_per_user {
        if !(x.is_finite() && x > 0.0) {
            return Err(invalid(format!(
                "{} {x}: must be a positive number of tokens/s",
                name("search.min_tokens_per_s_per_user")
            )));
        }
        slo.tpot_s = slo.tpot_s.min(1.0 / x);
    }
    let largest_domain = hardware
        .iter()
        .map(|h: &HardwareOption| h.hardware.scale_up_domain)
        .max()
        .unwrap_or(1);
    let max_gpus = request
        .max_gpus
        .unwrap_or(DEFAULT_MAX_GPUS.max(largest_domain));
    if max_gpus == 0 {
        return Err(invalid(format!(
            "{} 0: a configuration needs at least one GPU",
            name("search.max_gpus")
        )));
    }
    if !(request.load.is_finite() && request.load > 0.0 && request.load <= 1.5) {
        return Err(invalid(format!(
            "{} {}: must be in (0, 1.5], a fraction of each configuration's capacity",
            name("search.load"),
            request.load
        )));
    }
    let all_priced = hardware.iter().all(|h| h.usd_per_gpu_hour.is_some());
    let objective = match request.objective {
        Some(Objective::Cost) if !all_priced => {
            return Err(invalid(format!(
                "{} cost: {} has no price; set its cost input `rental_usd_per_gpu_hour` or rank by tokens-per-gpu",
                name("search.rank_by"),
                hardware
                    .iter()
                    .find(|h| h.usd_per_gpu_hour.is_none())
                    .map_or("a machine", |h| h.label.as_str())
            )))
        }
        Some(o) => o,
        None if all_priced => Objective::Cost,
        None => Objective::TokensPerGpu,
    };
    let spec = SearchSpec {
        model: request.model.clone(),
        hardware,
        input_tokens: workload.mean_input_tokens,
        output_tokens: workload.mean_output_tokens,
        slo,
        max_gpus,
        disaggregation: request.disaggregation,
        restrict: request.restrict.clone(),
    };
    let mut simulation = SimulationSetup {
        workload,
        load: request.load,
        candidates: 0,
        measured_requests: request.measured_requests,
        sized: 0,
    };

    let start = Instant::now();
    let result = analytic_search(&spec).map_err(|e| restricted(e, spelling))?;
    diagnostics.push(Diagnostic::Note(format!(
        "analytic pass: {} configurations from {} layouts in {}",
        human::int(result.counts.candidates as f64),
        human::int(result.counts.layouts as f64),
        human::seconds(start.elapsed().as_secs_f64())
    )));
    let ranked = rank(&result, &spec.slo, objective);
    let row = |c: &Candidate, rank: Option<u32>, sim: Option<&SimScore>| {
        SearchRow::new(&spec, c, rank, sim)
    };
    let mut top: Vec<(Candidate, Option<SimScore>)> = ranked
        .iter()
        .take(request.top)
        .map(|&i| (result.candidates[i], None))
        .collect();
    let simulate = request.simulate && !top.is_empty();
    if simulate {
        let start = Instant::now();
        let cands: Vec<Candidate> = top.iter().map(|t| t.0).collect();
        let opts = SimOptions {
            load: request.load,
            window: Window {
                measured_requests: request.measured_requests,
                ..Window::default()
            },
            ..SimOptions::default()
        };
        let scores = rescore(&spec, &cands, &traffic, &opts);
        for (t, s) in top.iter_mut().zip(scores) {
            let s = s?;
            simulation.sized += u32::from(s.measured < s.completed);
            t.1 = Some(s);
        }
        diagnostics.push(Diagnostic::Note(format!(
            "simulated the top {} at {} of capacity in {}",
            top.len(),
            human::percent(request.load),
            human::seconds(start.elapsed().as_secs_f64())
        )));
        rerank(&mut top, objective);
        simulation.candidates = top.len() as u32;
    }
    let feasible_analytic = !ranked.is_empty();
    let feasible =
        feasible_analytic && (!simulate || top.iter().any(|t| t.1.is_some_and(|s| s.meets_slo)));
    if feasible_analytic && simulate && !feasible {
        diagnostics.push(Diagnostic::Warning(format!(
            "none of the top {} meets the targets at p99 in the simulator; a lower {} or looser targets may",
            top.len(),
            name("search.load")
        )));
    }
    let best_per_hardware = (0..spec.hardware.len())
        .filter_map(|h| ranked.iter().find(|&&i| result.candidates[i].hardware == h))
        .map(|&i| row(&result.candidates[i], None, None))
        .collect();
    let pareto = fronts(&spec, &result, FrontAxis::TokensPerGpu, true);
    let pareto_cost = fronts(&spec, &result, FrontAxis::Cost, false);
    let report = SearchReport {
        model: SearchModel::new(&spec),
        hardware: SearchHardware::new(&spec),
        input_tokens: spec.input_tokens,
        output_tokens: spec.output_tokens,
        slo: SearchSlo {
            ttft_s: target.and_then(|t| t.1.ttft_s),
            tpot_s: target.and_then(|t| t.1.tpot_s),
            min_tokens_per_s_per_user: request.min_tokens_per_s_per_user,
        },
        max_gpus: spec.max_gpus,
        disaggregation: spec.disaggregation,
        restrict: SearchRestrict::new(&spec),
        objective: match objective {
            Objective::TokensPerGpu => "tokens_per_gpu",
            Objective::Cost => "cost",
        },
        counts: SearchCounts::from(result.counts),
        simulation: simulate.then_some(simulation),
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
    Ok((report, diagnostics))
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

/// A restriction that leaves nothing to search is the caller's mistake, named by its key.
fn restricted(e: SearchError, spelling: &dyn Spelling) -> anyhow::Error {
    match e {
        SearchError::Restricted {
            field: "restrictions",
            value,
            reason,
        } => invalid(format!(
            "the restrictions ({value}) leave nothing to search: {reason}"
        )),
        SearchError::Restricted {
            field,
            value,
            reason,
        } => {
            let key = match field {
                "weights" => "search.weights",
                "kv" => "search.kv",
                "tp" => "search.tp",
                "pp" => "search.pp",
                "ep" => "search.ep",
                "tbo" => "search.tbo",
                _ => "search.restrict",
            };
            invalid(format!("{} {value}: {reason}", spelling.name(key)))
        }
        e => e.into(),
    }
}
