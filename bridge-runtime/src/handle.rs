//! [`ScriptHandle`]: a script started with [`Bridge::spawn`](crate::Bridge::spawn), and the slot its
//! outcome arrives in.

use crate::control::{ScriptControl, StopReason};
use crate::Error;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// How a script ends, as its caller receives it.
pub(crate) type Outcome = Result<serde_json::Value, Error>;

#[derive(Default)]
struct OutcomeState {
    outcome: Option<Outcome>,
    /// Set once the outcome was taken, so a second take reports that instead of hanging.
    taken: bool,
    waker: Option<Waker>,
}

/// Where a script's outcome is delivered: waited on by a blocked thread or an awaiting task.
#[derive(Default)]
struct OutcomeSlot {
    state: Mutex<OutcomeState>,
    delivered: Condvar,
}

impl OutcomeSlot {
    fn state(&self) -> MutexGuard<'_, OutcomeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The engine thread's end of an outcome slot. Dropped without sending (a bug), it delivers an
/// internal error rather than leaving the caller waiting forever.
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
    let waker = {
        let mut state = slot.state();
        state.outcome = Some(outcome);
        state.waker.take()
    };
    slot.delivered.notify_all();
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// A running (or queued) script: cancel it, wait for it, or `.await` it.
///
/// Dropping the handle lets the script run on; its outcome is discarded.
///
/// ```
/// use bridge_runtime::{script_async, Bridge, Error};
/// use std::time::Duration;
///
/// #[script_async]
/// async fn slow_job() -> i64 {
///     tokio::time::sleep(Duration::from_secs(10)).await;
///     1
/// }
///
/// let bridge = Bridge::new()?;
/// let handle = bridge.spawn("slow_job()");
/// handle.cancel();
/// assert_eq!(handle.join(), Err(Error::Cancelled));
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub struct ScriptHandle {
    slot: Arc<OutcomeSlot>,
    control: Arc<ScriptControl>,
}

impl ScriptHandle {
    /// A handle and the sender its outcome will come through.
    pub(crate) fn new(control: Arc<ScriptControl>) -> (Self, OutcomeSender) {
        let slot = Arc::new(OutcomeSlot::default());
        let sender = OutcomeSender {
            slot: Some(slot.clone()),
        };
        (Self { slot, control }, sender)
    }

    /// Stops the script promptly, from any thread, at any time: at its next operation, or at once
    /// if it is waiting on a call (that call's future is dropped on the worker). Its outcome
    /// becomes [`Error::Cancelled`]. Cancelling a finished script changes nothing.
    pub fn cancel(&self) {
        self.control.stop(StopReason::Cancelled);
    }

    /// Whether the outcome is ready.
    pub fn is_finished(&self) -> bool {
        self.slot.state().outcome.is_some()
    }

    /// Blocks this thread until the script ends, and returns its outcome.
    ///
    /// On one of a bridge's own threads (inside an async function a script called) it does not
    /// block, since the script may need that very thread: unless the outcome is already there, it
    /// returns [`Error::BlockingOnBridgeThread`] at once (the script runs on; `.await` the handle
    /// there instead).
    pub fn join(self) -> Result<serde_json::Value, Error> {
        let mut state = self.slot.state();
        if crate::bridge_thread::is_current() && state.outcome.is_none() && !state.taken {
            return Err(Error::BlockingOnBridgeThread);
        }
        loop {
            if let Some(outcome) = take(&mut state) {
                return outcome;
            }
            state = self
                .slot
                .delivered
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
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

impl Future for ScriptHandle {
    type Output = Result<serde_json::Value, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
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

/// A handle that cancels its script when dropped before the outcome was taken: what
/// `run_async` awaits, so dropping that future cancels the script.
pub(crate) struct CancelOnDrop(pub(crate) ScriptHandle);

impl Future for CancelOnDrop {
    type Output = Result<serde_json::Value, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if !self.0.slot.state().taken {
            self.0.cancel();
        }
    }
}
