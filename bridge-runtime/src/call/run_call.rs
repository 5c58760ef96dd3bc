//! How the worker drives one call: to its end, or until its time limit passes (a timeout
//! error), or until its script stops (no reply); a panic in it, or in its `Drop` when it is cut
//! short, is caught.
//!
//! Written as one loop over a call pinned in its caller's future, rather than as layers of
//! futures that each take the one inside by value: every such layer held the whole call again
//! (a moved-from argument keeps its place in an `async fn`'s state), and the future of a call
//! that returned at once came to several kilobytes, allocated, copied and touched on every call.

use crate::catch_unwind::{catch_drop_panic, CatchUnwind};
use crate::error::{describe_duration, CallErrorKind, CallFailure};
use crate::sync::control::CallScope;
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

/// How a call's run ended.
enum Ended<T> {
    /// It returned, or panicked (the message).
    Finished(Result<T, String>),
    TimedOut,
    Stopped,
}

/// Drives `call` (taken out of its place, and dropped, when the run ends) and gives its reply;
/// `None` if the script stopped first (the caller then drops its sender unsent: a waiter, if any
/// is left, learns that no reply is coming). A call past `timeout` is dropped and replies with a
/// timeout error.
///
/// The call is polled first, and the time limit and the stop flag only once it is pending, so a
/// call that finishes on its first poll never arms a timer or registers a waiter.
pub(crate) async fn run_call<T, F>(
    mut call: Pin<&mut Option<CatchUnwind<F>>>,
    scope: &CallScope,
    timeout: Option<Duration>,
) -> Option<Result<T, CallFailure>>
where
    F: Future<Output = Result<T, CallFailure>>,
{
    let mut deadline = pin!(None);
    let mut stopped = pin!(scope.wait());
    let ended = std::future::poll_fn(|cx| {
        if let Some(running) = call.as_mut().as_pin_mut() {
            if let Poll::Ready(output) = running.poll(cx) {
                return Poll::Ready(Ended::Finished(output));
            }
        }
        if let Some(limit) = timeout {
            if deadline.is_none() {
                deadline.set(Some(tokio::time::sleep(limit)));
            }
            if let Some(sleep) = deadline.as_mut().as_pin_mut() {
                if sleep.poll(cx).is_ready() {
                    return Poll::Ready(Ended::TimedOut);
                }
            }
        }
        match stopped.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Ended::Stopped),
            Poll::Pending => Poll::Pending,
        }
    })
    .await;
    let drop_panic = catch_drop_panic(|| call.as_mut().set(None));
    match ended {
        Ended::Finished(Ok(result)) => Some(result),
        Ended::Finished(Err(panic_message)) => {
            Some(Err(CallFailure::new(CallErrorKind::Panic, panic_message)))
        }
        Ended::TimedOut => {
            let mut message = format!(
                "the call did not finish within {}",
                describe_duration(timeout)
            );
            if let Some(panic_message) = drop_panic {
                message.push_str(&format!(
                    ", and panicked as it was dropped: {panic_message}"
                ));
            }
            Some(Err(CallFailure::new(CallErrorKind::Timeout, message)))
        }
        // The script is told nothing of a panic here: it stopped.
        Ended::Stopped => None,
    }
}
