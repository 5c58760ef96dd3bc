//! [`CallHandle`]: a call started with `start`, as the script holds it until it waits on it.

use crate::call::raise::runtime_error;
use crate::call::script::{CallsInFlight, ErasedReply, Reservation};
use rhai::{EvalAltResult, Position};
use std::cell::RefCell;
use std::rc::{Rc, Weak};

/// A call started with `start`, as scripts hold it.
#[derive(Clone)]
pub(crate) struct CallHandle(Rc<RefCell<HandleState>>);

struct HandleState {
    /// `None` once waited on.
    reply: Option<Box<dyn ErasedReply>>,
    calls: Weak<CallsInFlight>,
}

impl CallHandle {
    /// A handle for `reply`, in the place `reservation` kept for it.
    pub(crate) fn new(reply: Box<dyn ErasedReply>, reservation: Reservation) -> Self {
        Self(Rc::new(RefCell::new(HandleState {
            reply: Some(reply),
            calls: reservation.into_place(),
        })))
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.0
            .borrow()
            .reply
            .as_ref()
            .is_some_and(|reply| reply.is_finished())
    }

    pub(crate) fn is_taken(&self) -> bool {
        self.0.borrow().reply.is_none()
    }

    pub(crate) fn arm(&self) {
        if let Some(reply) = &self.0.borrow().reply {
            reply.arm();
        }
    }

    /// The reply, taken out of the handle: from here on it no longer counts as in flight.
    pub(crate) fn take(
        &self,
        position: Position,
    ) -> Result<Box<dyn ErasedReply>, Box<EvalAltResult>> {
        let mut state = self.0.borrow_mut();
        let reply = state
            .reply
            .take()
            .ok_or_else(|| runtime_error("this call handle was already waited on", position))?;
        if let Some(calls) = state.calls.upgrade() {
            calls.release_handle();
        }
        Ok(reply)
    }
}

impl Drop for HandleState {
    fn drop(&mut self) {
        let (Some(reply), Some(calls)) = (self.reply.take(), self.calls.upgrade()) else {
            return;
        };
        calls.release_handle();
        calls.keep_orphan(reply);
    }
}
