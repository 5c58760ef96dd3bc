//! The command protocol between engine threads and the worker.
//!
//! `#[script_async]` writes one command type per function (its arguments as owned fields) and
//! implements [`ScriptCommand`] for it. The command channel carries [`Command`]s; a call travels as
//! its typed command boxed together with the slot its reply goes to: no encoding on the way.

use crate::catch_unwind::CatchUnwind;
use crate::control::CallScope;
use crate::error::CallErrorKind;
use crate::reply::ReplySender;
use crate::state::{CallEnv, CallFailure, TypeMap};
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// One function's call, as plain data, and how the worker performs it.
///
/// Implemented by `#[script_async]`; you do not implement it by hand.
pub trait ScriptCommand: Send + 'static {
    /// The name scripts call the function by.
    const SCRIPT_NAME: &'static str;

    /// The function's value on success, sent back to the engine thread.
    type Output: serde::Serialize + Send + 'static;

    /// Worker side: awaits the real function with this command's arguments, and the state and
    /// context it asks for from `env`.
    fn dispatch(self, env: CallEnv) -> impl Future<Output = Result<Self::Output, CallFailure>>;
}

/// A call's future that may move between threads: what an eager call hands to the worker when its
/// first poll (on the engine thread) did not finish it.
pub type SendCallFuture<T> = Pin<Box<dyn Future<Output = Result<T, CallFailure>> + Send>>;

/// A command whose function is polled once on the engine thread before any hand-off
/// (`#[script_async(eager)]`): a call that finishes on that first poll never crosses threads.
/// Its future must be `Send`, since an unfinished one moves to the worker.
///
/// Implemented by `#[script_async(eager)]`; you do not implement it by hand.
pub trait EagerCommand: ScriptCommand {
    /// The same work as [`ScriptCommand::dispatch`], as a future that can move to the worker.
    fn dispatch_send(self, env: CallEnv) -> SendCallFuture<Self::Output>;
}

/// What the worker sends back for one call.
pub(crate) type Reply<C> = Result<<C as ScriptCommand>::Output, CallFailure>;

/// A message on the command channel.
pub(crate) enum Command {
    /// Perform one call and send its reply.
    Call(Box<dyn ErasedCall>),
}

/// A typed call with its reply slot, with the type erased so one channel carries every function.
pub(crate) trait ErasedCall: Send {
    /// The future that performs the call and delivers its reply; polled on the worker thread,
    /// where the bridge's `states` live.
    fn into_future(self: Box<Self>, states: &Arc<TypeMap>) -> Pin<Box<dyn Future<Output = ()>>>;
}

/// A command on its way to the worker, with everything the worker needs to run it.
pub(crate) struct PendingCall<C: ScriptCommand> {
    pub(crate) command: C,
    pub(crate) reply: ReplySender<Reply<C>>,
    /// The calling script's context values, and its flag: set when the script stops or ends, the
    /// call is dropped unfinished.
    pub(crate) scope: Arc<CallScope>,
    /// The call's own time limit.
    pub(crate) timeout: Option<Duration>,
}

impl<C: ScriptCommand> ErasedCall for PendingCall<C> {
    fn into_future(self: Box<Self>, states: &Arc<TypeMap>) -> Pin<Box<dyn Future<Output = ()>>> {
        let PendingCall {
            command,
            reply,
            scope,
            timeout,
        } = *self;
        let env = CallEnv {
            states: states.clone(),
            context: scope.context().clone(),
        };
        Box::pin(async move {
            // Nothing is started for a script that already stopped.
            if !scope.is_set() {
                let call = CatchUnwind::new(command.dispatch(env));
                finish_call(call, reply, &scope, timeout).await;
            }
        })
    }
}

/// An eager call whose first poll, on the engine thread, left it unfinished: the worker takes
/// over its future.
pub(crate) struct StartedCall<T> {
    pub(crate) call: CatchUnwind<SendCallFuture<T>>,
    pub(crate) reply: ReplySender<Result<T, CallFailure>>,
    pub(crate) scope: Arc<CallScope>,
    pub(crate) timeout: Option<Duration>,
}

impl<T: Send + 'static> ErasedCall for StartedCall<T> {
    fn into_future(self: Box<Self>, _states: &Arc<TypeMap>) -> Pin<Box<dyn Future<Output = ()>>> {
        let StartedCall {
            call,
            reply,
            scope,
            timeout,
        } = *self;
        Box::pin(async move { finish_call(call, reply, &scope, timeout).await })
    }
}

/// Drives a call to its end on the worker and sends the reply; a call whose script stops, or
/// that runs past `timeout`, is dropped. Returning without sending drops `reply` unsent, which
/// tells a waiter (if any is left) that no reply is coming.
async fn finish_call<T>(
    call: CatchUnwind<impl Future<Output = Result<T, CallFailure>>>,
    reply: ReplySender<Result<T, CallFailure>>,
    scope: &CallScope,
    timeout: Option<Duration>,
) {
    let Some(outcome) = until_stopped(within(timeout, call), scope).await else {
        return;
    };
    reply.send(match outcome {
        Some(Ok(result)) => result,
        Some(Err(panic_message)) => Err(CallFailure::new(CallErrorKind::Panic, panic_message)),
        None => Err(CallFailure::new(
            CallErrorKind::Timeout,
            format!(
                "the call did not finish within {}",
                describe_duration(timeout)
            ),
        )),
    });
}

/// Runs `call` until it finishes (`Some`) or the script stops (`None`, and it is dropped).
///
/// The call is polled first and the stop flag is only waited on once the call is pending, so a
/// call that finishes on its first poll never registers a waiter.
async fn until_stopped<F: Future>(call: F, stop: &CallScope) -> Option<F::Output> {
    let mut call = std::pin::pin!(call);
    let mut stopped = std::pin::pin!(stop.wait());
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = call.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        match stopped.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Runs `future` to completion, or until `timeout` passes (then `None`, and it is dropped).
async fn within<F: Future>(timeout: Option<Duration>, future: F) -> Option<F::Output> {
    match timeout {
        Some(limit) => tokio::time::timeout(limit, future).await.ok(),
        None => Some(future.await),
    }
}

/// `2 s`, `150 ms`: how durations appear in messages.
pub(crate) fn describe_duration(duration: Option<Duration>) -> String {
    match duration {
        Some(duration) if duration.subsec_millis() == 0 && duration.as_secs() > 0 => {
            format!("{} s", duration.as_secs())
        }
        Some(duration) => format!("{} ms", duration.as_millis()),
        None => "its time limit".to_owned(),
    }
}

/// Replaces a function's error with its `Display`, taken on the worker so the error type itself
/// need not be `Send`.
pub fn describe_err<T, E: Display>(result: Result<T, E>) -> Result<T, CallFailure> {
    result.map_err(|error| CallFailure::new(CallErrorKind::Error, error.to_string()))
}
