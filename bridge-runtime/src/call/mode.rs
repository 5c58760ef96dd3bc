//! The middle stage of a script's call: how its reply reaches the script. A plain call waits for
//! it now (the fiber suspends, its neighbours run); a call made through `start` hands the script
//! a handle to wait on later.

use crate::call::call_handle::CallHandle;
use crate::call::raise::{terminated, ProxyResult};
use crate::call::running_script::{ErasedReply, Reservation, RunningScript};
use crate::call::script_reply::ScriptReply;
use crate::call::transport::PendingReply;
use crate::error::CallFailure;
use crate::sync::wait::{block_until, SpinPolicy};
use rhai::{Dynamic, Position};
use crate::resource::returned::SentValue;
use serde_json::Value;

/// Whether the proxy waits for the reply (a plain call) or hands back a handle (`start`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallMode {
    Wait,
    Start,
}

/// Where one call's reply goes.
pub(crate) enum Delivery {
    /// To the script, waiting now.
    Wait,
    /// Into a handle, in the place among the script's calls in flight kept for it.
    Start(Reservation),
}

impl Delivery {
    /// Delivers the reply `pending` will bring: waits for it (unless the script must stop
    /// first), or returns a handle holding it.
    pub(crate) fn pending<T, P>(
        self,
        pending: PendingReply<T, P>,
        reply: ScriptReply,
        running: &RunningScript,
        spin: &SpinPolicy,
        position: Position,
    ) -> ProxyResult
    where
        T: SentValue,
        P: 'static,
    {
        match self {
            Self::Wait => {
                let arrived = block_until(
                    &running.control,
                    spin,
                    || pending.is_finished(),
                    || pending.arm(),
                );
                match arrived {
                    Ok(()) => reply.finish(running, pending.take(), position),
                    Err(reason) => Err(terminated(reason, position)),
                }
            }
            Self::Start(reservation) => {
                let held = Box::new(HeldReply { pending, reply });
                Ok(Dynamic::from(CallHandle::new(held, reservation)))
            }
        }
    }

    /// Delivers an outcome there already (a replayed call): at once, or in a handle.
    pub(crate) fn ready(
        self,
        outcome: Result<Value, CallFailure>,
        reply: ScriptReply,
        running: &RunningScript,
        position: Position,
    ) -> ProxyResult {
        match self {
            Self::Wait => reply.finish(running, outcome, position),
            Self::Start(reservation) => {
                let held = Box::new(ReadyReply { outcome, reply });
                Ok(Dynamic::from(CallHandle::new(held, reservation)))
            }
        }
    }
}

/// A started call's reply on its way, as its handle holds it.
struct HeldReply<T, P> {
    pending: PendingReply<T, P>,
    reply: ScriptReply,
}

impl<T: SentValue, P> ErasedReply for HeldReply<T, P> {
    fn is_finished(&self) -> bool {
        self.pending.is_finished()
    }

    fn arm(&self) {
        self.pending.arm();
    }

    fn finish(self: Box<Self>, running: &RunningScript, position: Position) -> ProxyResult {
        let Self { pending, reply } = *self;
        reply.finish(running, pending.take(), position)
    }
}

/// A started call whose outcome was there at once (replayed).
struct ReadyReply {
    outcome: Result<Value, CallFailure>,
    reply: ScriptReply,
}

impl ErasedReply for ReadyReply {
    fn is_finished(&self) -> bool {
        true
    }

    fn arm(&self) {}

    fn finish(self: Box<Self>, running: &RunningScript, position: Position) -> ProxyResult {
        let Self { outcome, reply } = *self;
        reply.finish(running, outcome, position)
    }
}
