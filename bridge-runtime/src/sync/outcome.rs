//! The one-shot slot a script's outcome arrives in: filled by its engine thread (or by the
//! queue or pool that ends it early), taken by a blocked thread or an awaiting task.

use crate::error::Error;
use crate::sync::wait::spin_briefly;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// How long a blocked caller spins for the outcome before it sleeps: a short script's outcome
/// comes within microseconds, sooner than a sleeping thread could be woken (and waking one costs
/// the engine thread a system call).
const SPIN_FOR_OUTCOME: Duration = Duration::from_micros(20);

/// How a script ends, as its caller receives it.
pub(crate) type Outcome = Result<serde_json::Value, Error>;

#[derive(Default)]
struct OutcomeState {
    outcome: Option<Outcome>,
    /// Set once the outcome was taken, so a second take reports that instead of hanging.
    taken: bool,
    waker: Option<Waker>,
    /// Set while a thread sleeps on `delivered`: only then does delivering notify it.
    sleeping: bool,
}

#[derive(Default)]
struct OutcomeSlot {
    state: Mutex<OutcomeState>,
    delivered: Condvar,
    /// Set once the outcome is in `state`, for a caller spinning without the lock.
    arrived: AtomicBool,
}

impl OutcomeSlot {
    fn state(&self) -> MutexGuard<'_, OutcomeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A fresh slot: the end that waits for the outcome (spinning briefly before it sleeps if
/// `spin`), and the end that delivers it.
pub(crate) fn outcome_slot(spin: bool) -> (OutcomeReceiver, OutcomeSender) {
    let slot = Arc::new(OutcomeSlot::default());
    let sender = OutcomeSender {
        slot: Some(slot.clone()),
    };
    (OutcomeReceiver { slot, spin }, sender)
}

/// The end that delivers the outcome. Dropped without sending (a bug), it delivers an internal
/// error rather than leaving the caller waiting forever.
pub(crate) struct OutcomeSender {
    slot: Option<Arc<OutcomeSlot>>,
}

impl OutcomeSender {
    pub(crate) fn send(mut self, outcome: Outcome) {
        if let Some(slot) = self.slot.take() {
            deliver(&slot, outcome);
        }
    }
}

impl Drop for OutcomeSender {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            let lost = "the engine thread ended without reporting the script's outcome";
            deliver(&slot, Err(Error::Internal(lost.to_owned())));
        }
    }
}

fn deliver(slot: &OutcomeSlot, outcome: Outcome) {
    let (waker, sleeping) = {
        let mut state = slot.state();
        state.outcome = Some(outcome);
        (state.waker.take(), state.sleeping)
    };
    slot.arrived.store(true, Ordering::Release);
    if sleeping {
        slot.delivered.notify_all();
    }
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// The end that waits for the outcome.
pub(crate) struct OutcomeReceiver {
    slot: Arc<OutcomeSlot>,
    spin: bool,
}

impl OutcomeReceiver {
    /// Whether the outcome arrived (and was not taken yet).
    pub(crate) fn is_ready(&self) -> bool {
        self.slot.state().outcome.is_some()
    }

    /// Whether the outcome was taken already.
    pub(crate) fn is_taken(&self) -> bool {
        self.slot.state().taken
    }

    /// Whether [`wait`](Self::wait) would have to block: no outcome yet, none taken.
    pub(crate) fn would_block(&self) -> bool {
        let state = self.slot.state();
        state.outcome.is_none() && !state.taken
    }

    /// Blocks this thread until the outcome arrives, and takes it.
    pub(crate) fn wait(&self) -> Outcome {
        if self.spin && !self.slot.state().taken {
            spin_briefly(SPIN_FOR_OUTCOME, || {
                self.slot.arrived.load(Ordering::Acquire)
            });
        }
        let mut state = self.slot.state();
        loop {
            if let Some(outcome) = take(&mut state) {
                return outcome;
            }
            // Read by the deliverer under the lock, which the wait below releases.
            state.sleeping = true;
            state = self
                .slot
                .delivered
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Takes the outcome if it arrived; else wakes `cx`'s task when it does.
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<Outcome> {
        let mut state = self.slot.state();
        match take(&mut state) {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

fn take(state: &mut OutcomeState) -> Option<Outcome> {
    if state.taken {
        return Some(Err(Error::Internal(
            "the script's outcome was already taken".to_owned(),
        )));
    }
    let outcome = state.outcome.take()?;
    state.taken = true;
    Some(outcome)
}
