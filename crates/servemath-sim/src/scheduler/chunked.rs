//! Chunked prefill (vLLM V1, SGLang, TensorRT-LLM): every step decodes every running sequence
//! and fills the rest of the token budget with prompt chunks, partly prefilled prompts first.

use super::Scheduler;
use crate::replica::{Next, ReplicaState};

pub(crate) struct Chunked;

impl Scheduler for Chunked {
    fn plan(&mut self, state: &mut ReplicaState, now: f64) -> Next {
        compose(state, now)
    }
}

/// Composes a chunked-prefill step at `now` and launches it (trains compose theirs the same way).
pub(super) fn compose(state: &mut ReplicaState, now: f64) -> Next {
    state.make_room_for_decodes();
    let decoders = state.mark_decoders();
    let budget = state.max_batched_tokens().saturating_sub(decoders);
    let budget = state.continue_prefills(budget);
    state.admit(now, budget, false, usize::MAX);
    state.launch(now)
}
