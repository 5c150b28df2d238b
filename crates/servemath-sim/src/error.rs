//! Why a simulation was refused or stopped: a configuration the engine cannot run as given
//! (each message names the quantity and its value), or a run cancelled from outside.

/// A `SimConfig` that cannot be simulated, or a cancelled run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// No replica to route requests to.
    #[error("no replicas: a simulation needs at least one")]
    NoReplicas,

    /// A prefill pool hands prompts to a decode pool that does not exist.
    #[error("replica {replica} is in the prefill pool but no replica is in the decode pool")]
    NoDecodePool {
        /// Index in `SimConfig::replicas` of the first prefill replica.
        replica: usize,
    },

    /// A decode pool would receive fresh prompts, which it cannot prefill.
    #[error("replica {replica} is in the decode pool but no replica is in the prefill pool")]
    NoPrefillPool {
        /// Index in `SimConfig::replicas` of the first decode replica.
        replica: usize,
    },

    /// Prefill and decode pools with no network between them.
    #[error("`kv_transfer` is not set: prefill and decode pools need the link between them")]
    NoKvTransfer,

    /// A quantity out of range: negative, zero where it divides, not a number, or infinite.
    #[error("`{quantity}` = {value}: must be {expected}")]
    Invalid {
        /// The field, as a path from the `SimConfig` (`replicas[0].scheduler.block_tokens`).
        quantity: String,
        /// The value given, in the field's unit.
        value: f64,
        /// The accepted range in words (`a finite number above zero`).
        expected: &'static str,
    },

    /// The cancel flag was raised; the run stopped at this point.
    #[error("cancelled after {completed} completed requests, at {simulated_s} simulated seconds")]
    Cancelled {
        /// Requests completed before the run stopped.
        completed: u64,
        /// Simulated seconds reached when the run stopped.
        simulated_s: f64,
    },
}
