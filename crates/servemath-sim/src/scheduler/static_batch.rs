//! Static batching: collect a full batch (or wait `timeout_s` after the oldest arrival),
//! prefill it in one step, decode until every sequence is done; admit nobody meanwhile.

use super::Scheduler;
use crate::replica::{Next, ReplicaState};

pub(crate) struct StaticBatch {
    batch: u32,
    timeout_s: f64,
    /// A batch is running: decode it to the end before admitting anyone.
    active: bool,
}

impl StaticBatch {
    pub fn new(batch: u32, timeout_s: f64) -> StaticBatch {
        StaticBatch {
            batch,
            timeout_s,
            active: false,
        }
    }
}

impl Scheduler for StaticBatch {
    fn plan(&mut self, state: &mut ReplicaState, now: f64) -> Next {
        if !self.active {
            let Some(oldest) = state.waiting.front().map(|s| s.cold.arrival_s) else {
                return Next::Idle(None);
            };
            let deadline = oldest + self.timeout_s;
            if state.waiting.len() < self.batch as usize && now < deadline {
                return Next::Idle(Some(deadline));
            }
            let (_, any) = state.admit(now, u32::MAX, true, self.batch as usize);
            if !any {
                return Next::Idle(None);
            }
            self.active = true;
            return state.launch(now);
        }
        state.make_room_for_decodes();
        state.mark_decoders();
        state.launch(now)
    }

    fn drained(&mut self) {
        self.active = false;
    }
}
