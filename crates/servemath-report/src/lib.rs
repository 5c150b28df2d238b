//! The output boundary: versioned, serializable report types behind `--json` (and, later, the
//! web API), built from the domain types of `servemath-model`, `servemath-hardware`,
//! `servemath-cost` and `servemath-sim`.
//!
//! Every number is in SI base units (seconds, bytes, FLOP/s, tokens, tokens/s, watts) with the
//! unit in the field name where it is not a plain count. Each top-level report carries a
//! `schema_version` such as `servemath.estimate/2`; the schemas are documented in
//! `docs/json-schema.md`. A field is never renamed or removed within a version; a new field may
//! be added.
//!
//! Human output in the CLI is rendered from these same types, so a table and its `--json`
//! never disagree.
//!
//! # Example
//!
//! A one-figure claims report, its display rendered by [`human`], serialized with its schema
//! version first:
//!
//! ```
//! use servemath_report::{human, Claim, ClaimsReport, Versioned};
//!
//! // The decode latency floor of 16.06 GB of weights read at 3.35 TB/s:
//! // 16.06e9 B / 3.35e12 B/s = 4.794e-3 s, shown to three significant figures as 4.79 ms.
//! let floor_s: f64 = 16.06e9 / 3.35e12;
//! assert!((floor_s - 4.794e-3).abs() < 1e-6);
//! let claim = Claim {
//!     id: "1".to_string(),
//!     title: "decode latency floor".to_string(),
//!     inputs: "llama-3.1-8b bf16 on h100-sxm".to_string(),
//!     value: floor_s,
//!     unit: "s".to_string(),
//!     display: human::seconds(floor_s),
//!     explanation: "weight bytes over HBM bandwidth".to_string(),
//! };
//! assert_eq!(claim.display, "4.79 ms");
//!
//! let json = serde_json::to_string(&Versioned::new(ClaimsReport { claims: vec![claim] }))?;
//! assert!(json.starts_with(r#"{"schema_version":"servemath.claims/1","claims":[{"id":"1","#));
//! # Ok::<(), serde_json::Error>(())
//! ```

#![warn(missing_docs)]

mod claims;
mod cost;
mod estimate;
mod fleet;
mod hardware;
pub mod human;
mod lifecycle;
mod model;
mod prices;
mod search;
mod simulate;
pub mod text;
mod validate;

pub use claims::{Claim, ClaimsReport};
pub use cost::{CostHardware, CostInputReport, CostReport, GpuHourReport, ScaleReport};
pub use estimate::{
    BatchReport, BatchTokenCost, EstimateReport, HardwareSummary, KernelClassReport,
    KernelRateReport, LayoutReport, MemoryReport, ModelSummary, PrecisionsReport, StepReport,
    TokenCostBasis, TrafficReport,
};
pub use fleet::{DemandReport, FleetReport, FleetSize, SlackRow, TrialReport};
pub use hardware::{HardwareListReport, HardwareReport, PeakReport, PriceReport};
pub use lifecycle::{
    LifecycleFigures, LifecycleInputsReport, LifecycleReport, LossModelReport, OptimumReport,
    PhaseReport, SensitivityRow, WhatIf,
};
pub use model::{
    AttentionReport, LayerGroupReport, MlpReport, ModelListReport, ModelListRow, ModelReport,
    ParamsReport, SpanReport, WeightBytesReport, WeightPrecisionsReport, KV_FORMAT, WEIGHT_FORMATS,
};
pub use prices::{
    LongContextCheck, LongContextTierReport, ModelRatios, PriceRow, PricesReport,
    ProviderPriceReport,
};
pub use search::{
    AnalyticScore, SearchCounts, SearchHardware, SearchModel, SearchReport, SearchRestrict,
    SearchRow, SearchSlo, SimulatedScore, SimulationSetup, WhyReport,
};
pub use simulate::{
    KvReport, KvTransferReport, LatencyReport, PercentilesReport, PolicyReport, PoolReport,
    PoolRole, RequestCounts, RouterReport, SchedulerReport, SimCostReport, SimulateReport,
    SimulateSetup, SloReport, ThroughputReport, WorkloadReport,
};
pub use validate::{
    CaseOutcome, FitReport, GroupSummary, HeldOutFamily, LeaveOneFamilyOut, MetricSummary,
    PendingCase, ValidateReport,
};

use serde::Serialize;

/// A report body with a fixed schema name and major version.
///
/// Downstream reports (claims, validation, simulation) implement this for their own body type
/// and serialize `Versioned::new(body)`.
pub trait Schema {
    /// `servemath.<report>/<major>`; bumped when a field changes meaning or is removed.
    const SCHEMA_VERSION: &'static str;
}

/// A report body with its `schema_version` as the first field of the JSON object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Versioned<T> {
    /// `servemath.<report>/<major>`, from the body's [`Schema::SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// The report itself; its fields are flattened into the same JSON object.
    #[serde(flatten)]
    pub body: T,
}

impl<T: Schema> Versioned<T> {
    /// Wraps `body` with its type's schema version.
    pub fn new(body: T) -> Versioned<T> {
        Versioned {
            schema_version: T::SCHEMA_VERSION,
            body,
        }
    }
}

/// `Some(x)` for a finite number, `None` (JSON `null`) otherwise, so that an unbounded figure
/// (a balance batch that is never reached) is explicit rather than a bare infinity.
pub(crate) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use servemath_cost::{Calibration, Deployment, Parallelism, Precisions};

    fn deployment() -> Deployment {
        let model = servemath_model::builtin("llama-3.1-8b");
        let catalog = servemath_hardware::Catalog::builtin();
        let hw = catalog.get("h100-sxm");
        let (Ok(model), Ok(hw)) = (model, hw) else {
            panic!("built-in model or hardware missing");
        };
        let prec = Precisions::defaults_for(&model, |p| hw.peak_flop_per_s(p).is_ok());
        let params = Calibration::builtin().for_family(&hw.family);
        match Deployment::new(&model, hw, Parallelism::default(), prec, params) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn schema_version_comes_first_and_numbers_are_base_units() {
        let dep = deployment();
        let report = Versioned::new(EstimateReport::new(&dep, 1000, 100, &[1, 16]));
        let json = serde_json::to_string(&report).unwrap_or_default();
        assert!(
            json.starts_with(r#"{"schema_version":"servemath.estimate/2","#),
            "{json}"
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(v["context_tokens"], 1100);
        assert_eq!(v["batches"][1]["batch"], 16);
        // 8 B parameters in bf16 on one GPU: about 16 GB of weights, in bytes.
        let w = v["weight_bytes_per_gpu"].as_f64().unwrap_or(0.0);
        assert!((15e9..17e9).contains(&w), "{w}");
    }

    #[test]
    fn an_unreached_balance_batch_is_null() {
        assert_eq!(finite(f64::INFINITY), None);
        assert_eq!(finite(2.0), Some(2.0));
    }

    #[test]
    fn model_report_counts_match_the_spec() {
        let Ok(spec) = servemath_model::builtin("mixtral-8x7b") else {
            panic!("mixtral-8x7b is built in");
        };
        let r = ModelReport::new(&spec);
        assert_eq!(r.total_params, spec.params().total());
        assert_eq!(r.params.total, r.total_params);
        assert_eq!(r.active_params, spec.active_params());
        assert!(r.is_moe && r.active_params < r.total_params);
        let json = serde_json::to_value(Versioned::new(r)).unwrap_or_default();
        assert_eq!(json["schema_version"], "servemath.model/1");
        assert_eq!(json["groups"][0]["mlp"]["kind"], "moe");
    }
}
