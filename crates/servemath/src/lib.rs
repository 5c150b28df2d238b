//! servemath's application layer: one function per command, a typed request (and the sources
//! the front end loaded) in, a report out. The command line, the web page and the Python
//! package all call these functions; none of them holds a rule of its own.
//!
//! # Architecture invariant
//! No clap, no file system, no stdout here: a front end reads files and flags, builds a
//! request, calls a function and renders the report (`servemath-report` types, the JSON
//! boundary). Errors name the quantity and where its value came from
//! ([`ParamOverride::origin`]), never a command-line flag; a request value that is malformed
//! or contradicts another is an [`Invalid`] error, which front ends report as the caller's
//! mistake (the CLI exits 2).
//!
//! # Example
//! ```
//! let report = servemath::claims().expect("the seed claims reproduce");
//! let floor = report.claims.iter().find(|c| c.id == "3").expect("claim 3");
//! assert_eq!(floor.unit, "s");
//! assert!(floor.value > 0.005 && floor.value < 0.05, "{}", floor.value);
//! ```

#![warn(missing_docs)]

mod claims;
mod cost;
mod deploy;
mod estimate;
pub mod fleet;
mod lifecycle;
mod prices;
pub mod search;
pub mod simulate;
pub mod units;
mod validate;

pub use claims::claims;
pub use cost::cost;
pub use deploy::{DeploymentRequest, PrecisionChoice};
pub use estimate::{estimate, EstimateRequest, Estimated, SweepPoint};
pub use fleet::fleet;
pub use lifecycle::{lifecycle, LifecycleRequest};
pub use prices::{prices, PricesRequest};
pub use search::search;
pub use validate::{calibrate, validate, ValidateRequest};

/// A request value that is malformed or contradicts another (a scheduler name, a duration, a
/// flag that needs another): the caller's mistake, not the model's. Front ends find it in an
/// error's chain (`err.chain().any(|c| c.is::<Invalid>())`); the CLI exits 2 on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// One cost parameter set by name on top of the calibration, with where the value came from
/// (`--param x=1`, a file and key, a form field), so that an error names the user's own input.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamOverride {
    /// A `CostParams` name (`step_overhead_s`, `memory_efficiency`, ...).
    pub name: String,
    /// The value in the parameter's own unit (the unit is in its name: `_s`, `_bytes`, a bare
    /// fraction); its range is checked when it is applied, and a refusal names `origin`.
    pub value: f64,
    /// Where the value came from, as the user would recognise it.
    pub origin: String,
}

/// Something a command chose or noticed for the caller, returned with its report: a front end
/// shows it beside the result (the CLI on stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnostic {
    /// A result the caller may not expect (an input ignored, a figure missing).
    Warning(String),
    /// A choice made for the caller (a layout, a batch), or a side effect.
    Note(String),
}

/// How a front end names a request's values in messages. Keys are the request's own paths
/// (`workload.rate`, `scheduler.kind`, `fleet.prefill_tp`, `deployment.tp`); the CLI answers
/// with its flag (`--rate`) or, for a value read from a scenario file, the file and key.
pub trait Spelling {
    /// How the user wrote the value at `key`.
    fn name(&self, key: &'static str) -> String;
}

/// The request's own keys, for callers with nothing better (a library user, a JSON API).
#[derive(Debug, Clone, Copy, Default)]
pub struct Keys;

impl Spelling for Keys {
    fn name(&self, key: &'static str) -> String {
        key.to_string()
    }
}
