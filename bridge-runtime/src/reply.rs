//! The one-shot slot a call's reply comes back through.
//!
//! The worker fills it and unparks the waiting engine thread; the engine thread looks at it from
//! [`crate::wait::block_until`]. Hand-written rather than a channel because a script may wait on
//! several at once (`wait_any`) and the waiting itself must be one place we control.

use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::Thread;

const EMPTY: u8 = 0;
const READY: u8 = 1;
const ABANDONED: u8 = 2;

/// The value is written once, by the sender, before `state` becomes `READY` (release), and read
/// once, by the receiver, after it saw `READY` (acquire): no lock on the hot path.
struct Slot<T> {
    state: AtomicU8,
    value: UnsafeCell<Option<T>>,
    waiter: Thread,
}

// SAFETY: the value moves from the sender's thread to the receiver's (so `T: Send`), and the two
// never touch it at the same time: the state hand-over above orders every access.
unsafe impl<T: Send> Sync for Slot<T> {}

/// Creates a slot whose receiver will be waited on by the thread `waiter`.
pub(crate) fn reply_slot<T>(waiter: Thread) -> (ReplySender<T>, ReplyReceiver<T>) {
    let slot = Arc::new(Slot {
        state: AtomicU8::new(EMPTY),
        value: UnsafeCell::new(None),
        waiter,
    });
    (
        ReplySender {
            slot: Some(slot.clone()),
        },
        ReplyReceiver {
            slot,
            not_sync: PhantomData,
        },
    )
}

/// The worker's end: fills the slot once. Dropped unfilled (the call's future was dropped), it
/// tells the waiter that no reply will come.
pub(crate) struct ReplySender<T> {
    slot: Option<Arc<Slot<T>>>,
}

impl<T> ReplySender<T> {
    /// Delivers the reply and wakes the waiter.
    pub(crate) fn send(mut self, value: T) {
        if let Some(slot) = self.slot.take() {
            // SAFETY: the state is still EMPTY (this sender is the only one, and consumed), so the
            // receiver does not read the value until `finish` publishes it.
            unsafe { *slot.value.get() = Some(value) };
            slot.finish(READY);
        }
    }
}

impl<T> Drop for ReplySender<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.finish(ABANDONED);
        }
    }
}

impl<T> Slot<T> {
    fn finish(&self, state: u8) {
        self.state.store(state, Ordering::Release);
        self.waiter.unpark();
    }
}

/// No reply will come: the call was dropped on the worker (the bridge shut down).
#[derive(Debug)]
pub(crate) struct Abandoned;

/// The engine thread's end. Waiting is [`crate::wait::block_until`]'s job; this only looks.
pub(crate) struct ReplyReceiver<T> {
    slot: Arc<Slot<T>>,
    /// Takes the value through `&self`, so it must stay on one thread at a time.
    not_sync: PhantomData<Cell<()>>,
}

impl<T> ReplyReceiver<T> {
    /// Whether the reply arrived or was abandoned.
    pub(crate) fn is_finished(&self) -> bool {
        self.slot.state.load(Ordering::Acquire) != EMPTY
    }

    /// The reply, if it arrived; `Some(Err(Abandoned))` if it never will; `None` while pending.
    pub(crate) fn try_take(&self) -> Option<Result<T, Abandoned>> {
        match self.slot.state.load(Ordering::Acquire) {
            EMPTY => None,
            // SAFETY: READY was seen with acquire ordering, so the sender wrote the value and will
            // not touch it again; this receiver is not `Sync`, so no other thread takes it.
            READY => Some(unsafe { (*self.slot.value.get()).take() }.ok_or(Abandoned)),
            _ => Some(Err(Abandoned)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::ScriptControl;
    use crate::wait::{block_until, SpinGate, SpinPolicy};
    use std::time::Duration;

    fn wait<T>(receiver: &ReplyReceiver<T>) -> Result<T, Abandoned> {
        let control = ScriptControl::new(None, Arc::default());
        let spin = SpinPolicy::new(SpinGate::for_this_machine());
        block_until(&control, &spin, || receiver.is_finished()).unwrap();
        receiver.try_take().unwrap()
    }

    #[test]
    fn a_reply_sent_from_another_thread_arrives() {
        let (sender, receiver) = reply_slot(std::thread::current());
        let worker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            sender.send(42);
        });
        assert_eq!(wait(&receiver).unwrap(), 42);
        worker.join().unwrap();
    }

    #[test]
    fn a_dropped_sender_abandons_the_wait() {
        let (sender, receiver) = reply_slot::<u8>(std::thread::current());
        let worker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(sender);
        });
        assert!(wait(&receiver).is_err());
        worker.join().unwrap();
    }

    #[test]
    fn a_pending_reply_is_not_finished() {
        let (_sender, receiver) = reply_slot::<u8>(std::thread::current());
        assert!(!receiver.is_finished());
        assert!(receiver.try_take().is_none());
    }
}
