//! The command protocol between engine threads and the worker.
//!
//! `#[script_async]` writes one command type per function (its arguments as owned fields) and
//! implements [`ScriptCommand`] for it. The command channel carries [`Command`]s; a call travels as
//! its typed command boxed together with the slot its reply goes to: no encoding on the way.

use crate::catch_unwind::CatchUnwind;
use crate::reply::ReplySender;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;

/// One function's call, as plain data, and how the worker performs it.
///
/// Implemented by `#[script_async]`; you do not implement it by hand.
pub trait ScriptCommand: Send + 'static {
    /// The name scripts call the function by.
    const SCRIPT_NAME: &'static str;

    /// The function's value on success, sent back to the engine thread.
    type Output: serde::Serialize + Send + 'static;

    /// Worker side: awaits the real function with this command's arguments. `Err` holds the
    /// `Display` of the function's own error.
    fn dispatch(self) -> impl Future<Output = Result<Self::Output, String>>;
}

/// What the worker sends back for one call.
pub(crate) type Reply<C> = Result<<C as ScriptCommand>::Output, CallFailure>;

/// How a call failed on the worker.
#[derive(Debug)]
pub(crate) enum CallFailure {
    /// The function returned `Err`; its `Display`.
    Error(String),
    /// The function panicked; the panic message.
    Panic(String),
}

/// A message on the command channel.
pub(crate) enum Command {
    /// Perform one call and send its reply.
    Call(Box<dyn ErasedCall>),
}

/// A typed call with its reply slot, with the type erased so one channel carries every function.
pub(crate) trait ErasedCall: Send {
    /// The future that performs the call and delivers its reply; polled on the worker thread.
    fn into_future(self: Box<Self>) -> Pin<Box<dyn Future<Output = ()>>>;
}

/// A command on its way to the worker, with the slot its reply goes to.
pub(crate) struct PendingCall<C: ScriptCommand> {
    pub(crate) command: C,
    pub(crate) reply: ReplySender<Reply<C>>,
}

impl<C: ScriptCommand> ErasedCall for PendingCall<C> {
    fn into_future(self: Box<Self>) -> Pin<Box<dyn Future<Output = ()>>> {
        let PendingCall { command, reply } = *self;
        Box::pin(async move {
            let outcome = match CatchUnwind::new(command.dispatch()).await {
                Ok(Ok(output)) => Ok(output),
                Ok(Err(message)) => Err(CallFailure::Error(message)),
                Err(panic_message) => Err(CallFailure::Panic(panic_message)),
            };
            reply.send(outcome);
        })
    }
}

/// Replaces a function's error with its `Display`, taken on the worker so the error type itself
/// need not be `Send`.
pub fn describe_err<T, E: Display>(result: Result<T, E>) -> Result<T, String> {
    result.map_err(|error| error.to_string())
}
