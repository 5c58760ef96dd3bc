//! `#[script_async(eager)]`: a call's future polled once right on the engine thread, within the
//! worker runtime's context, before any hand-off. A call that finishes on that poll never
//! crosses threads; an unfinished one moves to the worker, which goes on polling it.

use crate::call::call_env::CallEnv;
use crate::call::command::EagerCommand;
use crate::call::placement::SendCallFuture;
use crate::catch_unwind::CatchUnwind;
use crate::error::{CallErrorKind, CallFailure};
use crate::trace::{self, CallTrace};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// What the first poll left.
pub(crate) enum FirstPoll<T> {
    /// The call finished (a panic in it is its `panic` failure).
    Ready(Result<T, CallFailure>),
    /// The call's future, to be handed to the worker.
    Pending(CatchUnwind<SendCallFuture<T>>),
}

/// Polls `command`'s future once, in `trace`'s span and `runtime`'s context.
pub(crate) fn poll_once<C: EagerCommand>(
    command: C,
    env: CallEnv,
    runtime: &tokio::runtime::Handle,
    trace: &CallTrace,
) -> FirstPoll<C::Output> {
    let mut call = CatchUnwind::new(command.dispatch_send(env));
    let first_poll = trace::in_span(trace.span(), || {
        let _runtime = runtime.enter();
        Pin::new(&mut call).poll(&mut Context::from_waker(Waker::noop()))
    });
    match first_poll {
        Poll::Ready(Ok(result)) => FirstPoll::Ready(result),
        Poll::Ready(Err(panic_message)) => {
            FirstPoll::Ready(Err(CallFailure::new(CallErrorKind::Panic, panic_message)))
        }
        Poll::Pending => FirstPoll::Pending(call),
    }
}
