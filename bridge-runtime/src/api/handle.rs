//! [`ScriptHandle`]: a script started with [`Bridge::spawn`](crate::Bridge::spawn).

use crate::error::Error;
use crate::sync::control::{ScriptControl, StopReason};
use crate::sync::outcome::{outcome_slot, OutcomeReceiver, OutcomeSender};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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
    outcome: OutcomeReceiver,
    control: Arc<ScriptControl>,
}

impl ScriptHandle {
    /// A handle and the sender its outcome will come through; `join` spins briefly before it
    /// sleeps if `spin`.
    pub(crate) fn new(control: Arc<ScriptControl>, spin: bool) -> (Self, OutcomeSender) {
        let (outcome, sender) = outcome_slot(spin);
        (Self { outcome, control }, sender)
    }

    /// Stops the script promptly, from any thread, at any time: at its next operation, or at once
    /// if it is waiting on a call (that call's future is dropped on the worker). Its outcome
    /// becomes [`Error::Cancelled`]. Cancelling a finished script changes nothing.
    pub fn cancel(&self) {
        self.control.stop(StopReason::Cancelled);
    }

    /// Whether the outcome is ready.
    pub fn is_finished(&self) -> bool {
        self.outcome.is_ready()
    }

    /// Blocks this thread until the script ends, and returns its outcome.
    ///
    /// On one of a bridge's own threads (inside an async function a script called) it does not
    /// block, since the script may need that very thread: unless the outcome is already there, it
    /// returns [`Error::BlockingOnBridgeThread`] at once (the script runs on; `.await` the handle
    /// there instead).
    pub fn join(self) -> Result<serde_json::Value, Error> {
        if crate::sync::bridge_thread::is_current() && self.outcome.would_block() {
            return Err(Error::BlockingOnBridgeThread);
        }
        self.outcome.wait()
    }
}

impl fmt::Debug for ScriptHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}

impl Future for ScriptHandle {
    type Output = Result<serde_json::Value, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.outcome.poll(cx)
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
        if !self.0.outcome.is_taken() {
            self.0.cancel();
        }
    }
}
