//! Fixed-period trains: a step departs every `period_s` carrying whoever is ready, composed as
//! in chunked prefill; a step longer than the period delays the next departure (an overrun).

use super::{chunked, Scheduler};
use crate::replica::{Next, ReplicaState};

pub(crate) struct Train {
    period_s: f64,
}

impl Train {
    pub fn new(period_s: f64) -> Train {
        Train { period_s }
    }
}

impl Scheduler for Train {
    fn plan(&mut self, state: &mut ReplicaState, now: f64) -> Next {
        if state.alarm.take().is_none() {
            // Wait for the next departure and compose the step then, with whoever is ready.
            let departure = (now / self.period_s).ceil() * self.period_s;
            if departure > now {
                if state.outstanding() == 0 {
                    return Next::Idle(None);
                }
                state.alarm = Some(departure);
                return Next::Wake(departure);
            }
        }
        let next = chunked::compose(state, now);
        if state.step_in_flight_s().is_some_and(|t| t > self.period_s) {
            state.stats.train_overruns += 1;
        }
        next
    }

    /// Every departure is a step boundary on the clock: a leap would skip them.
    fn can_leap(&self) -> bool {
        false
    }
}
