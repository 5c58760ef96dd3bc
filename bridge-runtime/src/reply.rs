//! The one-shot slot a call's reply comes back through.
//!
//! The engine thread waits on it; the worker fills it. Waiting spins briefly, then parks: parking
//! and waking a thread costs tens of microseconds on a virtual machine, while most replies of a
//! quick async function arrive within a few. Hand-written rather than a channel because the wait
//! must be one place we control (how long to spin, and later: cancellation and deadlines).

use crossbeam_utils::Backoff;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::Thread;

const EMPTY: u8 = 0;
const READY: u8 = 1;
const ABANDONED: u8 = 2;

struct Slot<T> {
    state: AtomicU8,
    value: Mutex<Option<T>>,
    waiter: Thread,
}

/// Creates a slot whose receiver will be waited on by the thread `waiter`.
pub(crate) fn reply_slot<T>(waiter: Thread) -> (ReplySender<T>, ReplyReceiver<T>) {
    let slot = Arc::new(Slot {
        state: AtomicU8::new(EMPTY),
        value: Mutex::new(None),
        waiter,
    });
    (
        ReplySender {
            slot: Some(slot.clone()),
        },
        ReplyReceiver { slot },
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
            *slot.value.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
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

/// The engine thread's end.
pub(crate) struct ReplyReceiver<T> {
    slot: Arc<Slot<T>>,
}

impl<T> ReplyReceiver<T> {
    /// Blocks the calling thread (the slot's waiter) until the reply arrives or is abandoned.
    pub(crate) fn wait(self) -> Result<T, Abandoned> {
        debug_assert_eq!(std::thread::current().id(), self.slot.waiter.id());
        let backoff = Backoff::new();
        loop {
            match self.slot.state.load(Ordering::Acquire) {
                READY => return self.take(),
                ABANDONED => return Err(Abandoned),
                _ if backoff.is_completed() => std::thread::park(),
                _ => backoff.snooze(),
            }
        }
    }

    fn take(&self) -> Result<T, Abandoned> {
        self.slot
            .value
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or(Abandoned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_reply_sent_from_another_thread_arrives() {
        let (sender, receiver) = reply_slot(std::thread::current());
        let worker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            sender.send(42);
        });
        assert_eq!(receiver.wait().unwrap(), 42);
        worker.join().unwrap();
    }

    #[test]
    fn a_dropped_sender_abandons_the_wait() {
        let (sender, receiver) = reply_slot::<u8>(std::thread::current());
        let worker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(sender);
        });
        assert!(receiver.wait().is_err());
        worker.join().unwrap();
    }
}
