//! Why a search or a fleet sizing cannot run: each error names the input and its value.

use servemath_sim::workload::{TraceError, WorkloadError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    #[error("no hardware to search over")]
    NoHardware,
    #[error("`{field}` = {value}: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
    /// A restriction (named as its CLI flag, without dashes) leaves nothing to search.
    #[error("`{field}` = {value}: {reason}")]
    Restricted {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error(transparent)]
    Deploy(#[from] servemath_cost::DeployError),
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
