//! The one allocation a call lives in: what the worker needs for it (the payload), and the reply
//! on its way back.
//!
//! Hand-written rather than a channel plus a boxed command for speed: a call is a hand-off
//! between two cores, and each separate piece of memory the worker must read, or that both
//! threads write, is another cache line crossing between them (tens to hundreds of nanoseconds
//! on a virtual machine, more than the rest of a quick call). Here the engine thread writes the
//! payload, the worker reads it and writes the reply into the same allocation, and the engine
//! thread reads the reply and frees it, so memory does not move from one thread's allocator to
//! the other's. The worker wakes the engine thread only if it asked (see [`CellReceiver::arm`]):
//! a spinning waiter needs no wake-up, and waking one costs a write to a line it owns.
//!
//! The engine thread looks at its end from [`crate::sync::wait::block_until`]; a script may wait on
//! several at once (`wait_any`), and the waiting itself must be one place we control.

#![allow(unsafe_code)]

use crate::sync::wake::ScriptWaker;
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// Both ends hold the cell; the receiver is not parked.
const EMPTY: u8 = 0;
/// Both ends hold the cell; the receiver may park: the sender must unpark it when it finishes.
const ARMED: u8 = 1;
/// The reply is in; the sender has let go.
const READY: u8 = 2;
/// The sender let go without a reply (its call was dropped).
const DROPPED: u8 = 3;
/// The receiver let go first: the sender frees the cell when it finishes.
const LEFT: u8 = 4;

struct Shared<P, R> {
    state: AtomicU8,
    /// Wakes the script that waits on the receiver.
    waiter: Arc<ScriptWaker>,
    /// Touched only by the sender, once the cell is built.
    payload: UnsafeCell<P>,
    /// Written by the sender before `READY` (release), read by the receiver after it (acquire).
    reply: UnsafeCell<Option<R>>,
}

/// Creates a call cell holding `payload`, whose receiver will be waited on by the script that
/// `waiter` wakes.
pub(crate) fn call_cell<P, R>(
    payload: P,
    waiter: Arc<ScriptWaker>,
) -> (CellSender<P, R>, CellReceiver<P, R>) {
    let cell = NonNull::from(Box::leak(Box::new(Shared {
        state: AtomicU8::new(EMPTY),
        waiter,
        payload: UnsafeCell::new(payload),
        reply: UnsafeCell::new(None),
    })));
    (
        CellSender {
            cell,
            owns: PhantomData,
        },
        CellReceiver {
            cell,
            owns: PhantomData,
        },
    )
}

/// The worker's end: reads the payload, fills in the reply once. Dropped without a reply (the
/// call's future was dropped), it tells the waiter that no reply will come.
pub(crate) struct CellSender<P, R> {
    cell: NonNull<Shared<P, R>>,
    owns: PhantomData<(P, R)>,
}

// SAFETY: the sender hands `P` and `R` to whichever thread holds it, so both must be `Send`; the
// cell itself is shared through the state protocol, which orders every access to its parts.
unsafe impl<P: Send, R: Send> Send for CellSender<P, R> {}

impl<P, R> CellSender<P, R> {
    /// The payload.
    pub(crate) fn payload(&self) -> &P {
        // SAFETY: the cell lives while either end holds it, and only the sender touches the payload.
        unsafe { &*self.cell.as_ref().payload.get() }
    }

    /// The payload, to take parts out of it.
    pub(crate) fn payload_mut(&mut self) -> &mut P {
        // SAFETY: as in `payload`; `&mut self` makes this the only reference.
        unsafe { &mut *self.cell.as_ref().payload.get() }
    }

    /// Delivers the reply and, if the waiter asked, wakes it.
    pub(crate) fn send(self, reply: R) {
        let this = ManuallyDrop::new(self);
        // SAFETY: the state is not yet READY, so the receiver does not read the reply, and this is
        // the cell's only sender.
        unsafe {
            *this.cell.as_ref().reply.get() = Some(reply);
            finish(this.cell, READY);
        }
    }

    /// The cell as an untyped pointer, to travel with a function that knows its type.
    pub(crate) fn into_raw(self) -> NonNull<()> {
        ManuallyDrop::new(self).cell.cast()
    }

    /// Rebuilds a sender from [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    /// `raw` must come from `into_raw` of a `CellSender<P, R>` with these very `P` and `R`, and be
    /// used once.
    pub(crate) unsafe fn from_raw(raw: NonNull<()>) -> Self {
        Self {
            cell: raw.cast(),
            owns: PhantomData,
        }
    }
}

impl<P, R> Drop for CellSender<P, R> {
    fn drop(&mut self) {
        // SAFETY: this is the cell's only sender, finishing once.
        unsafe { finish(self.cell, DROPPED) };
    }
}

/// Moves the cell to `outcome` (READY or DROPPED) and lets the sender's hold go.
///
/// # Safety
/// Called once, by the cell's sender; the sender must not touch the cell afterwards.
unsafe fn finish<P, R>(cell: NonNull<Shared<P, R>>, outcome: u8) {
    // SAFETY: the cell lives while this sender holds it, which it does until the state says
    // otherwise below; it frees the cell only if the receiver has let go (`LEFT`).
    unsafe {
        let state = &cell.as_ref().state;
        let mut current = state.load(Ordering::Acquire);
        loop {
            match current {
                LEFT => {
                    // Nobody waits any more: the sender is the last to hold the cell.
                    drop(Box::from_raw(cell.as_ptr()));
                    return;
                }
                ARMED => {
                    // The waiter cannot free the cell before it sees `outcome`, so its waker is
                    // still there to take; once `outcome` is set, the cell may be gone.
                    let waiter = cell.as_ref().waiter.clone();
                    match state.compare_exchange(
                        ARMED,
                        outcome,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => return waiter.wake(),
                        Err(actual) => current = actual,
                    }
                }
                _ => {
                    match state.compare_exchange(
                        EMPTY,
                        outcome,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => return,
                        Err(actual) => current = actual,
                    }
                }
            }
        }
    }
}

/// No reply will come: the call was dropped on the worker (the bridge shut down).
#[derive(Debug)]
pub(crate) struct Abandoned;

/// The engine thread's end. Waiting is [`crate::sync::wait::block_until`]'s job; this only looks.
/// It stays on the thread that created it.
pub(crate) struct CellReceiver<P, R> {
    cell: NonNull<Shared<P, R>>,
    /// Owns its share of `P` and `R`; a raw pointer keeps it neither `Send` nor `Sync`.
    owns: PhantomData<(P, R, *const ())>,
}

impl<P, R> CellReceiver<P, R> {
    fn state(&self) -> u8 {
        // SAFETY: the cell lives while the receiver holds it.
        unsafe { self.cell.as_ref().state.load(Ordering::Acquire) }
    }

    /// Whether the reply arrived or was abandoned.
    pub(crate) fn is_finished(&self) -> bool {
        matches!(self.state(), READY | DROPPED)
    }

    /// Asks the sender to wake the waiting script (unparking its thread) when it finishes. Call before parking (or
    /// before anything else that may park this thread), then look again: a reply that came
    /// in between is seen, one that comes after wakes the thread.
    pub(crate) fn arm(&self) {
        // SAFETY: the cell lives while the receiver holds it. Failing means it was armed already
        // or has finished; either way there is nothing to do.
        let _ = unsafe {
            self.cell.as_ref().state.compare_exchange(
                EMPTY,
                ARMED,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
        };
    }

    /// The reply, if it arrived; `Some(Err(Abandoned))` if it never will; `None` while pending.
    pub(crate) fn try_take(&self) -> Option<Result<R, Abandoned>> {
        match self.state() {
            // SAFETY: READY was seen with acquire ordering, so the sender wrote the reply and has
            // let go of the cell; this receiver is neither `Send` nor `Sync`, so it is the only
            // reader.
            READY => Some(unsafe { (*self.cell.as_ref().reply.get()).take() }.ok_or(Abandoned)),
            DROPPED => Some(Err(Abandoned)),
            _ => None,
        }
    }
}

impl<P, R> Drop for CellReceiver<P, R> {
    fn drop(&mut self) {
        // SAFETY: the cell lives while the receiver holds it; whichever end lets go last frees it.
        unsafe {
            let state = &self.cell.as_ref().state;
            let mut current = state.load(Ordering::Acquire);
            loop {
                match current {
                    READY | DROPPED => {
                        drop(Box::from_raw(self.cell.as_ptr()));
                        return;
                    }
                    _ => match state.compare_exchange(
                        current,
                        LEFT,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => return,
                        Err(actual) => current = actual,
                    },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::control::ScriptControl;
    use crate::sync::wait::{block_until, SpinGate, SpinPolicy};
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::time::Duration;

    fn wait<T>(receiver: &CellReceiver<(), T>, spin: bool) -> Result<T, Abandoned> {
        let control = ScriptControl::new(None, crate::state::ContextValues::default());
        let gate = if spin {
            SpinGate::for_this_machine()
        } else {
            SpinGate::disabled()
        };
        let policy = SpinPolicy::new(gate);
        block_until(
            &control,
            &policy,
            || receiver.is_finished(),
            || receiver.arm(),
        )
        .unwrap();
        receiver.try_take().unwrap()
    }

    #[test]
    fn a_reply_sent_from_another_thread_arrives_to_a_parked_waiter() {
        for spin in [true, false] {
            let (sender, receiver) = call_cell((), ScriptWaker::for_current_thread());
            let worker = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                sender.send(42);
            });
            assert_eq!(wait(&receiver, spin).unwrap(), 42);
            worker.join().unwrap();
        }
    }

    #[test]
    fn a_dropped_sender_abandons_the_wait() {
        let (sender, receiver) = call_cell::<(), u8>((), ScriptWaker::for_current_thread());
        let worker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(sender);
        });
        assert!(wait(&receiver, false).is_err());
        worker.join().unwrap();
    }

    #[test]
    fn a_pending_reply_is_not_finished() {
        let (_sender, receiver) = call_cell::<(), u8>((), ScriptWaker::for_current_thread());
        assert!(!receiver.is_finished());
        assert!(receiver.try_take().is_none());
    }

    /// Counts its drops, to see that the payload and the reply are dropped exactly once.
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn whichever_end_lets_go_last_frees_the_cell_and_its_contents() {
        let drops = Arc::new(AtomicUsize::new(0));
        let counted = || Counted(drops.clone());
        // Receiver first, then a sender that replies; receiver first, sender dropped;
        // sender replies, then receiver untaken; sender replies, receiver takes.
        let (sender, receiver) = call_cell(counted(), ScriptWaker::for_current_thread());
        drop(receiver);
        sender.send(counted());
        assert_eq!(drops.load(Ordering::SeqCst), 2);

        let (sender, receiver) =
            call_cell::<_, Counted>(counted(), ScriptWaker::for_current_thread());
        receiver.arm();
        drop(receiver);
        drop(sender);
        assert_eq!(drops.load(Ordering::SeqCst), 3);

        let (sender, receiver) = call_cell(counted(), ScriptWaker::for_current_thread());
        sender.send(counted());
        drop(receiver);
        assert_eq!(drops.load(Ordering::SeqCst), 5);

        let (sender, receiver) = call_cell(counted(), ScriptWaker::for_current_thread());
        sender.send(counted());
        let reply = receiver.try_take().unwrap().unwrap();
        drop(receiver);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            6,
            "the payload goes with the cell"
        );
        drop(reply);
        assert_eq!(drops.load(Ordering::SeqCst), 7);
    }

    #[test]
    fn senders_and_receivers_racing_on_many_threads_free_every_cell_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let cells = 2000;
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..cells)
            .map(|_| {
                call_cell::<_, Counted>(Counted(drops.clone()), ScriptWaker::for_current_thread())
            })
            .unzip();
        let reply_drops = drops.clone();
        let worker = std::thread::spawn(move || {
            for (i, sender) in senders.into_iter().enumerate() {
                if i % 2 == 0 {
                    sender.send(Counted(reply_drops.clone()));
                } else {
                    drop(sender);
                }
            }
        });
        for (i, receiver) in receivers.into_iter().enumerate() {
            if i % 3 == 0 {
                receiver.arm();
            }
            drop(receiver);
        }
        worker.join().unwrap();
        // Every payload, and the reply of every other call.
        assert_eq!(drops.load(Ordering::SeqCst), cells + cells / 2);
    }
}
