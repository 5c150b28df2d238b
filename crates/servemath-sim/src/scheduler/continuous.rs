//! Iteration-level batching without chunking (vLLM V0's default): a step is either a prefill
//! of newly admitted whole prompts (preferred when one can be admitted) or a decode step of
//! every running sequence.

use super::Scheduler;
use crate::replica::{Next, ReplicaState};

pub(crate) struct Continuous;

impl Scheduler for Continuous {
    fn plan(&mut self, state: &mut ReplicaState, now: f64) -> Next {
        let preempted = state.make_room_for_decodes();
        if !preempted && !state.waiting.is_empty() {
            let budget = state.max_batched_tokens();
            let (_, any) = state.admit(now, budget, true, usize::MAX);
            if any {
                return state.launch(now);
            }
        }
        state.mark_decoders();
        state.launch(now)
    }
}
