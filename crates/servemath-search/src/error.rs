//! Why a search or a fleet sizing cannot run: each error names the input and its value.

use servemath_sim::workload::{TraceError, WorkloadError};

/// Why [`crate::search`], [`crate::rescore`], [`crate::Traffic::at_rate`] or a fleet sizing
/// refused its input or could not finish.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    /// [`crate::SearchSpec::hardware`] is empty.
    #[error("no hardware to search over")]
    NoHardware,
    /// An input out of its range: a length below one token, a `max_gpus` of 0, a latency
    /// target that is not positive, a load outside (0, 1.5], a rate that is not positive.
    #[error("`{field}` = {value}: {reason}")]
    Invalid {
        /// The input, as its field or flag is named (`input_tokens`, `slo.ttft_s`, `load`).
        field: &'static str,
        /// The value given, as displayed.
        value: String,
        /// What the value must be.
        reason: String,
    },
    /// A restriction (named as its CLI flag, without dashes) leaves nothing to search.
    #[error("`{field}` = {value}: {reason}")]
    Restricted {
        /// The flag (`weights`, `kv`, `tp`, `pp`, `ep`, `tbo`), or `restrictions` when each
        /// allows something but together they leave nothing.
        field: &'static str,
        /// The values given, comma-separated (all restrictions, for `restrictions`).
        value: String,
        /// What the space does enumerate, or why nothing is left.
        reason: String,
    },
    /// A synthetic workload could not be rebuilt at the rate asked for.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// A trace could not be rescaled to the rate asked for.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// A candidate's layout did not build a deployment for the simulator.
    #[error(transparent)]
    Deploy(#[from] servemath_cost::DeployError),
    /// The simulator refused its configuration or workload.
    #[error(transparent)]
    Sim(#[from] servemath_sim::SimError),
}

impl SearchError {
    pub(crate) fn invalid(
        field: &'static str,
        value: impl ToString,
        reason: impl ToString,
    ) -> Self {
        SearchError::Invalid {
            field,
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }
}
