//! Argument groups that several commands flatten into their own (clap derive; doc comments
//! are the help), and the units their text values are written in. A command module imports
//! these, never another command's module.

mod cost;
mod spelling;
mod traffic;
pub mod units;

pub use cost::{apply_cost_flags, check_utilization, resolve_cost_inputs, CostFlags, ModeArg};
pub use spelling::{flag, Origins};
pub use traffic::{slo_request, workload_request, SloFlags, WorkloadFlags};
pub use units::Text;
