//! [`CallHandle`]: a call started with `start`, as the script holds it until it waits on it.

use crate::call::raise::runtime_error;
use crate::call::running_script::{CallsInFlight, ErasedReply, Reservation};
use crate::sync::thread_bound::{ThreadBound, OFF_ITS_THREAD};
use rhai::{EvalAltResult, Position};
use std::cell::RefCell;
use std::rc::{Rc, Weak};

/// A call started with `start`, as scripts hold it. Usable only on the engine thread of the
/// script that started it (held in a [`ThreadBound`], as a script value must be `Send + Sync`
/// under Rhai's `sync` feature).
#[derive(Clone)]
pub(crate) struct CallHandle(ThreadBound<Rc<RefCell<HandleState>>>);

struct HandleState {
    /// `None` once waited on.
    reply: Option<Box<dyn ErasedReply>>,
    calls: Weak<CallsInFlight>,
}

impl CallHandle {
    /// A handle for `reply`, in the place `reservation` kept for it.
    pub(crate) fn new(reply: Box<dyn ErasedReply>, reservation: Reservation) -> Self {
        Self(ThreadBound::new(Rc::new(RefCell::new(HandleState {
            reply: Some(reply),
            calls: reservation.into_place(),
        }))))
    }

    /// The handle's state, on its own engine thread.
    fn state(&self) -> Option<&RefCell<HandleState>> {
        self.0.get().map(|state| &**state)
    }

    /// Whether this handle may be used here: only on the engine thread that made it.
    pub(crate) fn check_thread(&self, position: Position) -> Result<(), Box<EvalAltResult>> {
        match self.state() {
            Some(_) => Ok(()),
            None => Err(runtime_error(OFF_ITS_THREAD, position)),
        }
    }

    /// Off its thread, never finished.
    pub(crate) fn is_finished(&self) -> bool {
        self.state().is_some_and(|state| {
            state
                .borrow()
                .reply
                .as_ref()
                .is_some_and(|reply| reply.is_finished())
        })
    }

    /// Off its thread, not taken ([`CallHandle::take`] says why it cannot be).
    pub(crate) fn is_taken(&self) -> bool {
        self.state()
            .is_some_and(|state| state.borrow().reply.is_none())
    }

    pub(crate) fn arm(&self) {
        if let Some(reply) = self.state().map(RefCell::borrow) {
            if let Some(reply) = &reply.reply {
                reply.arm();
            }
        }
    }

    /// The reply, taken out of the handle: from here on it no longer counts as in flight.
    pub(crate) fn take(
        &self,
        position: Position,
    ) -> Result<Box<dyn ErasedReply>, Box<EvalAltResult>> {
        self.check_thread(position)?;
        let mut state = self.state().expect("checked above").borrow_mut();
        if state.calls.strong_count() == 0 {
            // Only a handle a host hook kept past its script's end gets here.
            return Err(runtime_error(
                "this call handle belongs to a script that has ended, and its call ended with it",
                position,
            ));
        }
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
