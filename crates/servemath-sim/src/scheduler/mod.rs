//! Scheduling policies: what goes into a replica's next step. One file per policy; `Policy`
//! (in `config.rs`) is the serialisable choice and `Policy::scheduler` builds its scheduler.
//!
//! A scheduler composes a step from the operations `ReplicaState` offers (preempt to make room
//! for decoders, mark decoders, continue partial prompts, admit waiting prompts) and puts it
//! in flight with `ReplicaState::launch`, or says when to look again. The replica does what
//! every policy shares before `plan` (block accounting, clearing the step, admitting KV caches
//! that arrived from a prefill pool) and after a step (progress, completions, hand-offs).

mod chunked;
mod continuous;
mod static_batch;
mod train;

use crate::config::Policy;
use crate::replica::{Next, ReplicaState};

/// A scheduling policy with its own state, one per replica.
pub(crate) trait Scheduler: Send {
    /// Composes the next step at `now` on a free replica and puts it in flight, or returns
    /// when to plan again.
    fn plan(&mut self, state: &mut ReplicaState, now: f64) -> Next;

    /// Whether runs of identical decode steps may be leapt over in closed form. A policy whose
    /// steps depart on a clock must see every step boundary.
    fn can_leap(&self) -> bool {
        true
    }

    /// A step ended with no sequence left running.
    fn drained(&mut self) {}
}

impl Policy {
    /// A fresh scheduler for one replica.
    pub(crate) fn scheduler(self) -> Box<dyn Scheduler> {
        match self {
            Policy::Static { batch, timeout_s } => {
                Box::new(static_batch::StaticBatch::new(batch, timeout_s))
            }
            Policy::Continuous => Box::new(continuous::Continuous),
            Policy::Chunked => Box::new(chunked::Chunked),
            Policy::Train { period_s } => Box::new(train::Train::new(period_s)),
        }
    }
}
