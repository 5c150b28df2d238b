//! `servemath.fleet/1`: the smallest fleet that meets latency targets at a demand's peak,
//! found with the simulator; what it is in GPUs, racks, megawatts and dollars; and the price
//! of slack (the same peak at target utilizations, with the tail latency each gives).

use crate::estimate::LayoutReport;
use crate::simulate::{SloReport, WorkloadReport};
use crate::Schema;
use serde::Serialize;
use servemath_search::fleet::{Footprint, Trial};

/// The smallest fleet of identical replicas that meets latency targets at a demand's peak,
/// with the trials that found it and the price of slack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetReport {
    /// The model's name.
    pub model: String,
    /// The hardware's catalog id.
    pub hardware: String,
    /// Accelerators per scale-up domain.
    pub scale_up_domain: u32,
    /// One replica's layout and formats.
    pub layout: LayoutReport,
    /// The linear layers' weight format.
    pub weights: &'static str,
    /// The KV-cache format.
    pub kv: &'static str,
    /// The matmul rate class.
    pub compute: &'static str,
    /// Sequences per replica: the scheduler's max sequences.
    pub max_seqs: u32,
    /// The scheduler's token budget per step.
    pub max_batched_tokens: u32,
    /// The largest batch up to `max_seqs` whose steady-state TTFT and TPOT meet the targets
    /// (cost model): the batch `capacity_per_replica_per_s` is taken at.
    pub slo_batch: u32,
    /// The demand as given and as rates.
    pub demand: DemandReport,
    /// The peak traffic simulated: its lengths (or trace) and limits; the rate is the peak.
    pub workload: WorkloadReport,
    /// The latency targets (p99 in the simulator).
    pub slo: SloReport,
    /// Requests per second one replica sustains at `slo_batch` (cost model, steady state).
    pub capacity_per_replica_per_s: f64,
    /// Whether some replica count up to the limit meets the targets.
    pub feasible: bool,
    /// Why no replica count meets the targets; `null` when feasible.
    pub infeasible_reason: Option<String>,
    /// The smallest fleet meeting the targets; `null` when infeasible.
    pub fleet: Option<FleetSize>,
    /// The simulated peak on one replica fewer (it misses the targets); `null` when there is
    /// no fleet or it has one replica.
    pub one_fewer: Option<TrialReport>,
    /// When infeasible: the trial nearest the targets; `null` otherwise.
    pub closest_miss: Option<TrialReport>,
    /// The price of slack: the same peak on fleets sized for target utilizations.
    pub slack: Vec<SlackRow>,
    /// Every fleet size simulated, ascending.
    pub trials: Vec<TrialReport>,
}

impl Schema for FleetReport {
    const SCHEMA_VERSION: &'static str = "servemath.fleet/1";
}

/// The demand as given and as rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandReport {
    /// `--demand` as typed.
    pub given: String,
    /// Requests per day.
    pub requests_per_day: f64,
    /// Prompt plus output tokens per day.
    pub tokens_per_day: f64,
    /// Output tokens per day.
    pub output_tokens_per_day: f64,
    /// `flat`, `diurnal` or `custom`.
    pub profile: &'static str,
    /// The 24 hourly multipliers (their mean is the daily mean).
    pub hourly_multipliers: Vec<f64>,
    /// The day's mean request rate, in requests per second.
    pub mean_rate_per_s: f64,
    /// The busiest hour's rate: the mean times its multiplier over the mean multiplier.
    pub peak_rate_per_s: f64,
    /// The busiest hour of the day, 0 to 23.
    pub peak_hour: u32,
}

/// One simulated fleet size at the peak.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrialReport {
    /// Replicas simulated side by side.
    pub replicas: u32,
    /// GPUs in those replicas.
    pub gpus: u32,
    /// The peak rate over the fleet's analytic capacity.
    pub peak_utilization: f64,
    /// Requests completed in the simulation.
    pub completed: u64,
    /// Median time to first token.
    pub ttft_p50_s: f64,
    /// 99th-percentile time to first token.
    pub ttft_p99_s: f64,
    /// Median time per output token.
    pub tpot_p50_s: f64,
    /// 99th-percentile time per output token.
    pub tpot_p99_s: f64,
    /// The offered load is beyond capacity, as
    /// [`SimulateReport::overloaded`](crate::SimulateReport::overloaded) defines it.
    pub overloaded: bool,
    /// Both p99s within their targets and not overloaded.
    pub meets_slo: bool,
}

impl From<&Trial> for TrialReport {
    fn from(t: &Trial) -> Self {
        TrialReport {
            replicas: t.replicas,
            gpus: t.gpus,
            peak_utilization: t.utilization,
            completed: t.completed,
            ttft_p50_s: t.ttft_p50_s,
            ttft_p99_s: t.ttft_p99_s,
            tpot_p50_s: t.tpot_p50_s,
            tpot_p99_s: t.tpot_p99_s,
            overloaded: t.overloaded,
            meets_slo: t.meets_slo,
        }
    }
}

/// A fleet in hardware, power and money. Money and power are `null` without cost inputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FleetSize {
    /// Replicas in the fleet.
    pub replicas: u32,
    /// GPUs in the fleet.
    pub gpus: u32,
    /// Scale-up domains the GPUs fill (8-GPU systems; racks for NVL72).
    pub scale_up_domains: u32,
    /// Racks at the cost inputs' GPUs per rack.
    pub racks: Option<u32>,
    /// Mean demand over the fleet's analytic capacity (what the GPUs are busy for on average).
    pub mean_utilization: f64,
    /// Peak demand over the fleet's analytic capacity.
    pub peak_utilization: f64,
    /// Mean draw at the meter in megawatts (system and PUE included) at the mean utilization.
    pub mw_at_meter: Option<f64>,
    /// Full draw at the meter in megawatts: the power to provision.
    pub mw_provisioned: Option<f64>,
    /// Dollars per held GPU-hour at the mean utilization.
    pub usd_per_gpu_hour: Option<f64>,
    /// Dollars per year for the whole fleet.
    pub usd_per_year: Option<f64>,
    /// Yearly cost per million of the year's prompt plus output tokens.
    pub usd_per_m_tokens: Option<f64>,
    /// Yearly cost per million of the year's output tokens.
    pub usd_per_m_output_tokens: Option<f64>,
    /// The simulated peak on this fleet.
    pub peak: TrialReport,
}

impl FleetSize {
    /// The fleet of `trial` with its `footprint`, serving `tokens_per_day` (prompt + output)
    /// and `output_tokens_per_day` at `mean_utilization` on average.
    pub fn new(
        trial: &Trial,
        footprint: &Footprint,
        mean_utilization: f64,
        tokens_per_day: f64,
        output_tokens_per_day: f64,
    ) -> FleetSize {
        let per_m = |tokens_per_day: f64| {
            footprint
                .usd_per_year
                .map(|usd| usd / (tokens_per_day * 365.0 / 1e6))
                .filter(|v| v.is_finite())
        };
        FleetSize {
            replicas: trial.replicas,
            gpus: footprint.gpus,
            scale_up_domains: footprint.scale_up_domains,
            racks: footprint.racks,
            mean_utilization,
            peak_utilization: trial.utilization,
            mw_at_meter: footprint.mw_at_meter,
            mw_provisioned: footprint.mw_provisioned,
            usd_per_gpu_hour: footprint.usd_per_gpu_hour,
            usd_per_year: footprint.usd_per_year,
            usd_per_m_tokens: per_m(tokens_per_day),
            usd_per_m_output_tokens: per_m(output_tokens_per_day),
            peak: TrialReport::from(trial),
        }
    }
}

/// The fleet sized for a target peak utilization, and the tail it gives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SlackRow {
    /// The peak utilization (peak rate over analytic capacity) the fleet is sized for.
    pub target_utilization: f64,
    /// The fleet so sized, with its simulated peak.
    pub fleet: FleetSize,
}
