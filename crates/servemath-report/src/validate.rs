//! `servemath.validate/2`: predictions against published measurements, and the calibration
//! fit behind `servemath validate --fit`.

use crate::Schema;
use serde::Serialize;
use std::collections::BTreeMap;

/// Every validation case priced, with summaries by metric and by group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidateReport {
    /// Every case priced, in file order.
    pub cases: Vec<CaseOutcome>,
    /// One row per metric.
    pub summary: Vec<MetricSummary>,
    /// `all`, each metric, `category:<name>`, `family:<name>` and `held_out`.
    pub groups: Vec<GroupSummary>,
    /// Present when leave-one-family-out was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leave_one_family_out: Option<LeaveOneFamilyOut>,
    /// Published results the model cannot express yet, with the reason.
    pub pending: Vec<PendingCase>,
}

impl Schema for ValidateReport {
    const SCHEMA_VERSION: &'static str = "servemath.validate/2";
}

/// One case priced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseOutcome {
    /// The case's id in the validation data.
    pub id: String,
    /// `latency`, `throughput`, `moe` or `amd`.
    pub category: String,
    /// Hardware family (`hopper`, `blackwell`, `cdna3`, ...).
    pub family: String,
    /// A check only, never used by the fit.
    pub held_out: bool,
    /// `output_tokens_per_s`, `latency_s`, `mfu` or `ms_per_token`.
    pub metric: String,
    /// The published figure, in the metric's unit.
    pub measured: f64,
    /// servemath's figure for the same setup, in the metric's unit.
    pub predicted: f64,
    /// Relative error `predicted / measured − 1` (0: exact; −0.1: 10 % under).
    pub error: f64,
    /// Batch the prediction used (per replica).
    pub batch: f64,
    /// What bounds the priced step (`compute`, `memory`, `serving`, ...).
    pub bound: String,
    /// Where the measurement was published (usually a URL).
    pub source: String,
    /// Where the measured figure was read, for the 2026 cases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Median and worst error over the cases of one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricSummary {
    /// The metric (`output_tokens_per_s`, `latency_s`, `mfu`, `ms_per_token`).
    pub metric: String,
    /// Cases of this metric.
    pub cases: usize,
    /// Median of |`error`| over them.
    pub median_abs_error: f64,
    /// Largest |`error`| over them.
    pub worst_abs_error: f64,
    /// Id of the case with the largest |`error`|.
    pub worst_case: String,
}

/// Median and worst error over one group of cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSummary {
    /// `all`, a metric, `category:<name>`, `family:<name>` or `held_out`.
    pub group: String,
    /// Cases in the group.
    pub cases: usize,
    /// Median of |`error`| over them.
    pub median_abs_error: f64,
    /// Largest |`error`| over them.
    pub worst_abs_error: f64,
    /// Id of the case with the largest |`error`|.
    pub worst_case: String,
}

/// A published result the model cannot express yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingCase {
    /// The case's id in the validation data.
    pub id: String,
    /// What the model lacks to price it (the simulator, a layout not modelled, ...).
    pub reason: String,
}

/// Each hardware family predicted by engine constants fitted without it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaveOneFamilyOut {
    /// One row per hardware family held out.
    pub families: Vec<HeldOutFamily>,
    /// Median |error| over every case predicted by a fit that never saw its family.
    pub median_abs_error: f64,
}

/// One family's cases predicted by a calibration fitted without them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldOutFamily {
    /// The hardware family held out of the fit.
    pub family: String,
    /// Its cases.
    pub cases: usize,
    /// Median |`error`| over its cases, predicted without them.
    pub median_abs_error: f64,
    /// Largest |`error`| over its cases, predicted without them.
    pub worst_abs_error: f64,
}

/// The global calibration fit: engine constants over every fittable case, then each
/// datasheet family's fallback efficiencies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    /// Cases on hardware with measured kernel curves that the global fit used.
    pub cases: usize,
    /// Mean |ln(predicted / measured)| at the chosen values.
    pub mean_abs_log_error: f64,
    /// Parameter name → fitted value, for `calibration.toml`'s `[default]`.
    pub global: BTreeMap<String, f64>,
    /// Family → parameter name → fitted value, for `[family.<name>]`.
    pub families: BTreeMap<String, BTreeMap<String, f64>>,
    /// Values that ended on the edge of their search range (`family: name = value`): a fit
    /// with any has failed.
    pub on_edge: Vec<String>,
}

impl Schema for FitReport {
    const SCHEMA_VERSION: &'static str = "servemath.fit/1";
}
