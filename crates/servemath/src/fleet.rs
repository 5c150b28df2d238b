//! The smallest fleet that meets latency targets at a demand's peak, found with the simulator
//! (`servemath_search::fleet`); its GPUs, racks, megawatts and yearly cost; and the price of
//! slack (the same peak on fleets sized for target utilizations).

use crate::simulate::{fitting_deployment, resolve_slo, resolve_workload, Source};
use crate::simulate::{SloRequest, WorkloadRequest};
use crate::{DeploymentRequest, Diagnostic, Invalid, Spelling};
use anyhow::{anyhow, bail};
use servemath_econ::CostInputs;
use servemath_report::{
    human, DemandReport, FleetReport, FleetSize, LayoutReport, SlackRow, SloReport, TrialReport,
};
use servemath_search::fleet::{footprint, replica_plan, size, FleetSpec, Trial};
use servemath_search::{Slo, Traffic};
use servemath_sim::workload::DailyProfile;

const DAY_S: f64 = 86_400.0;

/// The simulated time at the peak rate for each fleet size when none is given.
pub const DEFAULT_PEAK_DURATION: &str = "1h";

/// A demand: tokens (prompt + output) or requests per day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Demand {
    /// Tokens (prompt and output together) per day, positive; converted to requests at the
    /// workload's mean input + output length.
    TokensPerDay(f64),
    /// Requests per day, positive.
    RequestsPerDay(f64),
}

impl std::str::FromStr for Demand {
    type Err = String;

    /// `1e9tok/day`, `50000req/day`; `/h`, `/min` and `/s` also read.
    fn from_str(s: &str) -> Result<Demand, String> {
        let t = s.trim().to_ascii_lowercase().replace(['_', ' '], "");
        let at = t.find("tok").or_else(|| t.find("req")).ok_or_else(|| {
            "give tokens or requests per day, e.g. 1e9tok/day or 50000req/day".to_string()
        })?;
        let (number, unit) = t.split_at(at);
        let n: f64 = number
            .parse()
            .map_err(|_| format!("`{number}` is not a number"))?;
        let (what, per) = unit
            .split_once('/')
            .ok_or_else(|| "say per what, e.g. tok/day".to_string())?;
        let per_day = match per {
            "day" | "d" => 1.0,
            "h" | "hour" => 24.0,
            "min" | "m" => 1440.0,
            "s" | "sec" => DAY_S,
            other => return Err(format!("unknown period `{other}`; use day, h or s")),
        };
        if !(n.is_finite() && n > 0.0) {
            return Err("must be positive; zero demand needs no fleet".to_string());
        }
        if !(n * per_day).is_finite() {
            return Err("is too large to count per day".to_string());
        }
        match what {
            "tok" | "toks" | "token" | "tokens" => Ok(Demand::TokensPerDay(n * per_day)),
            "req" | "reqs" | "request" | "requests" => Ok(Demand::RequestsPerDay(n * per_day)),
            other => Err(format!("unknown unit `{other}`; use tok or req")),
        }
    }
}

/// How a demand spreads over the day: a name and 24 hourly multipliers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayShape {
    /// `flat`, `diurnal` or `custom`.
    pub name: &'static str,
    /// Relative rate of each hour, 00:00 to 23:00; only ratios matter: the peak hour runs at
    /// the daily mean rate × the largest multiplier / their mean (1.5× for `diurnal`).
    pub hourly: [f64; 24],
}

impl std::str::FromStr for DayShape {
    type Err = String;

    /// `flat`, `diurnal` (1 + 0.5·sin, peak 1.5× at 15:00, trough 0.5× at 03:00) or 24
    /// comma-separated hourly multipliers.
    fn from_str(s: &str) -> Result<DayShape, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "flat" => Ok(DayShape {
                name: "flat",
                hourly: [1.0; 24],
            }),
            "diurnal" => Ok(DayShape {
                name: "diurnal",
                hourly: diurnal(),
            }),
            _ => {
                let p: DailyProfile = s
                    .parse()
                    .map_err(|e| format!("{e}; or use flat or diurnal"))?;
                Ok(DayShape {
                    name: "custom",
                    hourly: *p.multipliers(),
                })
            }
        }
    }
}

/// The built-in diurnal shape: `1 + 0.5·sin(2π(h − 9)/24)`, mean 1.
fn diurnal() -> [f64; 24] {
    std::array::from_fn(|h| {
        let x = 2.0 * std::f64::consts::PI * (h as f64 - 9.0) / 24.0;
        ((1.0 + 0.5 * x.sin()) * 1000.0).round() / 1000.0
    })
}

/// What `fleet` is asked.
#[derive(Debug, Clone)]
pub struct FleetRequest {
    /// One replica; without a tensor-parallel degree, the smallest that fits.
    pub deployment: DeploymentRequest,
    /// The daily demand to serve; its peak hour sizes the fleet.
    pub demand: Demand,
    /// The demand as the user wrote it, for the report.
    pub demand_text: String,
    /// How the demand spreads over the day; the fleet is sized for its peak hour.
    pub shape: DayShape,
    /// Lengths (and a trace's shape) of the peak hour; its duration is the simulated time
    /// per fleet size ([`DEFAULT_PEAK_DURATION`] when none).
    pub workload: WorkloadRequest,
    /// The latency targets every fleet size is tested against (TTFT and TPOT).
    pub slo: SloRequest,
    /// Peak utilizations to price the slack at.
    pub utilization_targets: Vec<f64>,
    /// Most sequences per replica (fewer when memory says so), at least 1.
    pub max_seqs: u32,
    /// No fleet larger than this is tried.
    pub max_replicas: u32,
    /// The cost inputs of the replica's hardware; `None` drops the $ figures.
    pub costs: Option<CostInputs>,
    /// Whether the caller set cost inputs: then they must price, else a missing figure only
    /// drops the $ figures (with a warning).
    pub costs_given: bool,
}

/// The fleet for a demand, with what was chosen for the caller. An infeasible demand is a
/// report with `feasible: false` and the closest miss, not an error.
pub fn fleet(
    request: &FleetRequest,
    spelling: &dyn Spelling,
) -> anyhow::Result<(FleetReport, Vec<Diagnostic>)> {
    if request.max_seqs == 0 {
        return Err(Invalid(format!(
            "{} = 0: must be at least 1",
            spelling.name("fleet.max_seqs")
        ))
        .into());
    }
    let mut diagnostics = Vec::new();
    let mut workload_request = request.workload.clone();
    if workload_request.duration.is_none() {
        workload_request.duration = Some(DEFAULT_PEAK_DURATION.to_string());
    }
    let plan = resolve_workload(&workload_request, spelling)?;
    let mut workload = plan.report;
    let traffic = match plan.source {
        Source::Synthetic(s) => Traffic::Synthetic(s),
        Source::Trace(t) => Traffic::Trace(t),
        Source::Closed { .. } => {
            bail!("fleet sizes for open arrivals; a closed loop does not apply")
        }
    };
    let (input, output) = (workload.mean_input_tokens, workload.mean_output_tokens);
    let (slo, slo_report) = resolve_slo(&request.slo, spelling)?.unwrap_or((
        Slo {
            ttft_s: f64::INFINITY,
            tpot_s: f64::INFINITY,
        },
        SloReport {
            ttft_s: None,
            tpot_s: None,
        },
    ));
    let dep = fitting_deployment(
        &request.deployment,
        (input + output).ceil(),
        spelling,
        &mut diagnostics,
    )?;
    let replica = replica_plan(&dep, request.max_seqs, input, output, &slo).ok_or_else(|| {
        anyhow!(
            "{} on {}: not one sequence of {} tokens fits",
            dep.model().name,
            dep.hardware().id,
            human::int(input + output)
        )
    })?;

    let requests_per_day = match request.demand {
        Demand::TokensPerDay(t) => t / (input + output),
        Demand::RequestsPerDay(r) => r,
    };
    let hourly = request.shape.hourly;
    let mean_m = hourly.iter().sum::<f64>() / 24.0;
    let (peak_hour, peak_m) =
        hourly
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |b, (h, m)| if m > b.1 { (h, m) } else { b },
            );
    let mean_rate = requests_per_day / DAY_S;
    let peak_rate = mean_rate * peak_m / mean_m;
    // What is simulated is the peak: say so in the workload's own terms.
    if workload.arrivals.is_some() {
        workload.arrivals = Some(format!("poisson:{peak_rate:.4}"));
    }
    workload.mean_rate_per_s = Some(peak_rate);
    let cost = match request.costs.as_ref().map(|c| c.check().map(|()| c)) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) if request.costs_given => return Err(e.into()),
        Some(Err(e)) => {
            diagnostics.push(Diagnostic::Warning(format!("no $ figures: {e}")));
            None
        }
        None => None,
    };
    let spec = FleetSpec {
        replica,
        traffic,
        peak_rate_per_s: peak_rate,
        slo,
        max_replicas: request.max_replicas,
    };
    diagnostics.push(Diagnostic::Note(format!(
        "sizing for {} req/s at the peak ({} per replica at capacity)",
        human::num(peak_rate),
        human::num(spec.replica.capacity_per_s)
    )));
    let sizing = size(&spec)?;
    let slack = spec.at_utilizations(&request.utilization_targets)?;

    let gpus_per_replica = dep.gpus();
    let domain = dep.hardware().scale_up_domain;
    let tokens_per_day = requests_per_day * (input + output);
    let output_per_day = requests_per_day * output;
    let fleet_size = |t: &Trial| {
        let mean_u = mean_rate / (f64::from(t.replicas) * spec.replica.capacity_per_s);
        let fp = footprint(t.replicas * gpus_per_replica, domain, cost, mean_u);
        FleetSize::new(t, &fp, mean_u, tokens_per_day, output_per_day)
    };
    let weights = if dep.model().is_moe() {
        dep.precisions().weights.experts
    } else {
        dep.precisions().weights.dense_mlp
    };
    let report = FleetReport {
        model: dep.model().name.clone(),
        hardware: dep.hardware().id.clone(),
        scale_up_domain: domain,
        layout: LayoutReport {
            gpus: gpus_per_replica,
            ..LayoutReport::of(&dep)
        },
        weights: weights.name(),
        kv: dep.precisions().kv.name(),
        compute: dep.precisions().compute.name(),
        max_seqs: spec.replica.scheduler.max_seqs,
        slo_batch: spec.replica.slo_batch,
        max_batched_tokens: spec.replica.scheduler.max_batched_tokens,
        demand: DemandReport {
            given: request.demand_text.clone(),
            requests_per_day,
            tokens_per_day,
            output_tokens_per_day: output_per_day,
            profile: request.shape.name,
            hourly_multipliers: hourly.to_vec(),
            mean_rate_per_s: mean_rate,
            peak_rate_per_s: peak_rate,
            peak_hour: peak_hour as u32,
        },
        workload,
        slo: slo_report,
        capacity_per_replica_per_s: spec.replica.capacity_per_s,
        feasible: sizing.smallest.is_some(),
        infeasible_reason: sizing.infeasible.clone(),
        fleet: sizing.smallest.as_ref().map(fleet_size),
        one_fewer: sizing.one_fewer.as_ref().map(TrialReport::from),
        closest_miss: sizing.closest_miss.as_ref().map(TrialReport::from),
        slack: slack
            .iter()
            .map(|(u, t)| SlackRow {
                target_utilization: *u,
                fleet: fleet_size(t),
            })
            .collect(),
        trials: sizing.trials.iter().map(TrialReport::from).collect(),
    };
    Ok((report, diagnostics))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demands_read_per_day_per_hour_and_per_second() {
        // 1e9 tokens a day; 1,000 requests an hour = 24,000 a day; 1 request a second = 86,400.
        assert_eq!("1e9tok/day".parse(), Ok(Demand::TokensPerDay(1e9)));
        assert_eq!("1000 req/h".parse(), Ok(Demand::RequestsPerDay(24_000.0)));
        assert_eq!("1req/s".parse(), Ok(Demand::RequestsPerDay(86_400.0)));
        for (bad, says) in [
            ("0tok/day", "zero demand"),
            ("1e9 widgets/day", "tokens or requests"),
            ("1e9tokens/fortnight", "fortnight"),
            ("lots tok/day", "not a number"),
            ("1e308tok/s", "too large"),
        ] {
            let e = bad.parse::<Demand>().expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn the_diurnal_shape_peaks_at_fifteen_hundred_at_one_and_a_half_the_mean() {
        // 1 + 0.5·sin(2π(15 − 9)/24) = 1 + 0.5·sin(π/2) = 1.5; mean over 24 hours is 1.
        let d: DayShape = "diurnal".parse().expect("diurnal");
        assert!((d.hourly[15] - 1.5).abs() < 1e-12);
        assert!((d.hourly[3] - 0.5).abs() < 1e-12);
        assert!((d.hourly.iter().sum::<f64>() / 24.0 - 1.0).abs() < 1e-3);
        assert!("1,2,3".parse::<DayShape>().is_err());
    }
}
