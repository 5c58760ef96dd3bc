//! The last stage of every call: its payload handed to the worker in a fresh call cell, and the
//! caller's end of that cell, from which the reply is taken.
//!
//! The same for a script's call and a dispatched command; only the waiting differs: a script
//! waits as a fiber ([`crate::sync::wait::block_until`], so its neighbours run), a host thread
//! parks ([`PendingReply::wait_here`]).

use crate::call::command::{CallPayload, Command, ErasedCall};
use crate::call::queue::CommandSender;
use crate::error::{CallErrorKind, CallFailure};
use crate::sync::reply::{call_cell, CellReceiver};
use crate::sync::wake::ScriptWaker;
use std::sync::Arc;

/// What a call whose reply will never come says.
const SHUT_DOWN_BEFORE_REPLY: &str = "the bridge shut down before the call finished";

/// What a call says when the worker died of a fault.
const WORKER_FAILED: &str =
    "the bridge's worker thread stopped after a fault; no call can run on this bridge any more";

/// The caller's end of one call whose value is a `T`, whose cell holds the payload `P`.
pub(crate) struct PendingReply<T, P> {
    receiver: CellReceiver<P, Result<T, CallFailure>>,
}

/// Sends `payload` to the worker through `commands`; `waiter` is woken when the reply comes.
/// A bridge that shut down (or whose worker failed) is a `shutdown` failure, and nothing is sent.
pub(crate) fn hand_over<T, P>(
    commands: &CommandSender,
    payload: P,
    waiter: Arc<ScriptWaker>,
) -> Result<PendingReply<T, P>, CallFailure>
where
    P: CallPayload<Reply = Result<T, CallFailure>>,
{
    let (sender, receiver) = call_cell(payload, waiter);
    match commands.send(Command::Call(ErasedCall::new(sender))) {
        Ok(()) => Ok(PendingReply { receiver }),
        Err(closed) if closed.worker_failed => Err(shutdown(WORKER_FAILED)),
        Err(_) => Err(shutdown(SHUT_DOWN_BEFORE_REPLY)),
    }
}

fn shutdown(message: &str) -> CallFailure {
    CallFailure::new(CallErrorKind::Shutdown, message.to_owned())
}

impl<T, P> PendingReply<T, P> {
    /// Whether the reply arrived (or never will).
    pub(crate) fn is_finished(&self) -> bool {
        self.receiver.is_finished()
    }

    /// Asks for the waiter to be woken when the reply arrives.
    pub(crate) fn arm(&self) {
        self.receiver.arm();
    }

    /// The reply, once [finished](Self::is_finished): the function's outcome, or the `shutdown`
    /// failure of a call whose reply will never come (its future was dropped on the worker).
    pub(crate) fn take(self) -> Result<T, CallFailure> {
        match self.receiver.try_take() {
            Some(Ok(reply)) => reply,
            Some(Err(_)) | None => Err(shutdown(SHUT_DOWN_BEFORE_REPLY)),
        }
    }

    /// Blocks this thread, parked, until the reply arrives, then takes it: for host threads,
    /// whose waker ([`ScriptWaker::for_current_thread`]) unparks them.
    pub(crate) fn wait_here(self) -> Result<T, CallFailure> {
        while !self.is_finished() {
            self.arm();
            if !self.is_finished() {
                std::thread::park();
            }
        }
        self.take()
    }
}
