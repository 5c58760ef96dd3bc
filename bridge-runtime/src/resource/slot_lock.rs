//! The lock that orders the calls on one resource: a fair read-write lock for the worker thread
//! alone, where the resources live.
//!
//! Shared holders (`&self` methods, `Ref<T>`) overlap; a sole holder (`&mut self` and `self`
//! methods, `Mut<T>`) waits for them and is waited for. Whoever asks while others wait queues
//! behind them, so calls take their turns in the order they were made (as deno's `AsyncRefCell`
//! and tokio's `RwLock` do). A lock that is free is taken at once, without a waiting future.
//!
//! tokio's `RwLock` did this job before; it is built for many threads, and every release took its
//! waiters' mutex. Nothing here is shared between threads: the lock is `Rc`-held and its state
//! is a few cells.

// The value sits in an `UnsafeCell`, reached through guards: sound because the lock's state
// (`readers`, `writer`), kept on one thread (`Rc`, `Cell`), lets a sole guard exist only alone
// and shared guards only together.
#![allow(unsafe_code)]

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::VecDeque;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::ptr::NonNull;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A value and the lock on it.
pub(crate) struct SlotLock<T> {
    value: UnsafeCell<T>,
    /// How many shared guards exist.
    readers: Cell<usize>,
    /// Whether a sole guard exists.
    writer: Cell<bool>,
    /// Who waits, in the order they asked.
    waiting: RefCell<VecDeque<Rc<Waiter>>>,
}

/// One holder-to-be in the queue.
struct Waiter {
    sole: bool,
    /// Set by the release that handed it the lock (the lock's state already counts it).
    granted: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl<T> SlotLock<T> {
    pub(crate) fn new(value: T) -> Rc<Self> {
        Rc::new(Self {
            value: UnsafeCell::new(value),
            readers: Cell::new(0),
            writer: Cell::new(false),
            waiting: RefCell::default(),
        })
    }

    /// Takes the lock now if it is free for `sole` and nobody waits for it.
    fn try_take(&self, sole: bool) -> bool {
        if self.writer.get() || !self.waiting.borrow().is_empty() {
            return false;
        }
        if sole {
            if self.readers.get() > 0 {
                return false;
            }
            self.writer.set(true);
        } else {
            self.readers.set(self.readers.get() + 1);
        }
        true
    }

    fn release(&self, sole: bool) {
        if sole {
            self.writer.set(false);
        } else {
            self.readers.set(self.readers.get() - 1);
        }
        if !self.waiting.borrow().is_empty() {
            self.grant_next();
        }
    }

    /// Hands the lock to the waiters at the head of the queue that can have it now: one sole
    /// holder, or every shared one up to the next sole one.
    fn grant_next(&self) {
        let mut woken = Vec::new();
        {
            let mut waiting = self.waiting.borrow_mut();
            while let Some(next) = waiting.front() {
                if next.sole {
                    if self.writer.get() || self.readers.get() > 0 {
                        break;
                    }
                    self.writer.set(true);
                } else {
                    if self.writer.get() {
                        break;
                    }
                    self.readers.set(self.readers.get() + 1);
                }
                let Some(next) = waiting.pop_front() else {
                    break;
                };
                next.granted.set(true);
                woken.extend(next.waker.take());
                if next.sole {
                    break;
                }
            }
        }
        // Woken with the queue no longer borrowed.
        for waker in woken {
            waker.wake();
        }
    }
}

/// Shared access to `lock`'s value, once its turn comes.
pub(crate) fn shared<T>(lock: &Rc<SlotLock<T>>) -> Acquire<T> {
    Acquire::new(lock, false)
}

/// Sole access to `lock`'s value, once its turn comes.
pub(crate) fn sole<T>(lock: &Rc<SlotLock<T>>) -> Acquire<T> {
    Acquire::new(lock, true)
}

/// Waiting for a turn at a [`SlotLock`]. Dropped while waiting it leaves the queue; dropped
/// after its turn came but before it was polled again, it hands the turn on.
pub(crate) struct Acquire<T> {
    /// Passed on to the turn when it comes.
    lock: Option<Rc<SlotLock<T>>>,
    sole: bool,
    /// Taken at once when free: no waiter.
    state: AcquireState,
}

enum AcquireState {
    Taken,
    Queued(Rc<Waiter>),
    /// Handed out as a turn (or, in a drop, being dropped).
    Done,
}

impl<T> Acquire<T> {
    fn new(lock: &Rc<SlotLock<T>>, sole: bool) -> Self {
        let state = if lock.try_take(sole) {
            AcquireState::Taken
        } else {
            let waiter = Rc::new(Waiter {
                sole,
                granted: Cell::new(false),
                waker: Cell::new(None),
            });
            lock.waiting.borrow_mut().push_back(waiter.clone());
            AcquireState::Queued(waiter)
        };
        Self {
            lock: Some(lock.clone()),
            sole,
            state,
        }
    }
}

impl<T> Unpin for Acquire<T> {}

impl<T> Future for Acquire<T> {
    type Output = Held<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Held<T>> {
        let this = self.get_mut();
        if let AcquireState::Queued(waiter) = &this.state {
            if !waiter.granted.get() {
                waiter.waker.set(Some(cx.waker().clone()));
                return Poll::Pending;
            }
        }
        let Some(lock) = this.lock.take() else {
            // The bridge awaits each acquire once; a second turn would be counted twice.
            panic!("a resource's lock was polled after it was had");
        };
        this.state = AcquireState::Done;
        Poll::Ready(Held {
            lock,
            sole: this.sole,
        })
    }
}

impl<T> Drop for Acquire<T> {
    fn drop(&mut self) {
        let Some(lock) = self.lock.take() else {
            return;
        };
        match std::mem::replace(&mut self.state, AcquireState::Done) {
            AcquireState::Done => {}
            AcquireState::Taken => lock.release(self.sole),
            AcquireState::Queued(waiter) if waiter.granted.get() => lock.release(self.sole),
            AcquireState::Queued(waiter) => {
                lock.waiting
                    .borrow_mut()
                    .retain(|other| !Rc::ptr_eq(other, &waiter));
                // A sole waiter at the head held back the shared ones behind it.
                lock.grant_next();
            }
        }
    }
}

/// A turn at the lock, shared or sole: released when dropped.
pub(crate) struct Held<T> {
    lock: Rc<SlotLock<T>>,
    sole: bool,
}

impl<T> Held<T> {
    fn value(&self) -> &T {
        // SAFETY: this turn is counted in the lock's state: while it lasts no sole turn but
        // this one exists, so nothing writes the value.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> Drop for Held<T> {
    fn drop(&mut self) {
        self.lock.release(self.sole);
    }
}

impl<T> Held<Option<T>> {
    /// The value itself, as a guard, if a method taking `self` has not taken it.
    pub(crate) fn shared_value(self) -> Option<SharedValue<T>> {
        let value = NonNull::from(self.value().as_ref()?);
        Some(SharedValue { _held: self, value })
    }

    /// The value itself, as a guard of sole access, if a method taking `self` has not taken it.
    /// `None` for a shared turn.
    pub(crate) fn sole_value(self) -> Option<SoleValue<T>> {
        if !self.sole {
            return None;
        }
        // SAFETY: a sole turn: no other guard of the value exists while it lasts.
        let slot = unsafe { &mut *self.lock.value.get() };
        let value = NonNull::from(slot.as_mut()?);
        Some(SoleValue { _held: self, value })
    }

    /// Takes the value out, on a sole turn (a method taking `self`); `None` if it was already
    /// taken, or for a shared turn.
    pub(crate) fn take(&self) -> Option<T> {
        if !self.sole {
            return None;
        }
        // SAFETY: a sole turn: no other guard of the value exists while it lasts.
        unsafe { (*self.lock.value.get()).take() }
    }

    /// The value, on a sole turn, without taking it out; `None` if it was taken, or for a shared
    /// turn.
    pub(crate) fn as_mut(&mut self) -> Option<&mut T> {
        if !self.sole {
            return None;
        }
        // SAFETY: a sole turn, borrowed mutably here: no other reference to the value exists.
        unsafe { (*self.lock.value.get()).as_mut() }
    }
}

/// Shared access to a resource's value, while its turn lasts.
pub(crate) struct SharedValue<T> {
    _held: Held<Option<T>>,
    /// Into the slot, which holds the value while this turn lasts (only a sole turn takes it).
    value: NonNull<T>,
}

impl<T> Deref for SharedValue<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: see `value`; the shared turn keeps writers away.
        unsafe { self.value.as_ref() }
    }
}

/// Sole access to a resource's value, while its turn lasts.
pub(crate) struct SoleValue<T> {
    _held: Held<Option<T>>,
    /// Into the slot, which holds the value while this turn lasts (this turn is the only one).
    value: NonNull<T>,
}

impl<T> Deref for SoleValue<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: see `value`.
        unsafe { self.value.as_ref() }
    }
}

impl<T> DerefMut for SoleValue<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: see `value`; borrowed mutably through this guard alone.
        unsafe { self.value.as_mut() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn poll<T>(acquire: &mut Acquire<T>) -> Option<Held<T>> {
        match Pin::new(acquire).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(held) => Some(held),
            Poll::Pending => None,
        }
    }

    #[test]
    fn shared_turns_overlap_and_a_sole_one_waits_for_them() {
        let lock = SlotLock::new(Some(1));
        let first = poll(&mut shared(&lock)).unwrap();
        let second = poll(&mut shared(&lock)).unwrap();
        let mut writer = sole(&lock);
        assert!(poll(&mut writer).is_none());
        drop(first);
        assert!(poll(&mut writer).is_none());
        drop(second);
        let mut held = poll(&mut writer).unwrap();
        *held.as_mut().unwrap() += 1;
        drop(held);
        assert_eq!(
            *poll(&mut shared(&lock)).unwrap().shared_value().unwrap(),
            2
        );
    }

    #[test]
    fn turns_go_in_the_order_asked_and_a_reader_behind_a_writer_waits() {
        let lock = SlotLock::new(Some(0));
        let first = poll(&mut sole(&lock)).unwrap();
        let mut writer = sole(&lock);
        let mut reader = shared(&lock);
        assert!(poll(&mut writer).is_none());
        assert!(poll(&mut reader).is_none());
        drop(first);
        assert!(poll(&mut reader).is_none(), "the writer asked first");
        let second = poll(&mut writer).unwrap();
        drop(second);
        assert!(poll(&mut reader).is_some());
    }

    #[test]
    fn a_waiter_dropped_leaves_the_queue_and_a_turn_dropped_unpolled_is_handed_on() {
        let lock = SlotLock::new(Some(0));
        let first = poll(&mut shared(&lock)).unwrap();
        let writer = sole(&lock);
        let mut reader = shared(&lock);
        assert!(poll(&mut reader).is_none());
        // The waiting writer goes: the reader behind it shares the lock at once.
        drop(writer);
        let second = poll(&mut reader).unwrap();
        let granted = sole(&lock);
        let mut last = sole(&lock);
        drop((first, second));
        // Its turn came, but it is dropped before it was polled again: the next one gets it.
        drop(granted);
        assert!(poll(&mut last).is_some());
    }

    #[test]
    fn a_taken_value_is_gone_for_every_later_turn() {
        let lock = SlotLock::new(Some(String::from("x")));
        let held = poll(&mut sole(&lock)).unwrap();
        assert!(poll(&mut shared(&lock)).is_none());
        assert_eq!(held.take().as_deref(), Some("x"));
        drop(held);
        let shared_turn = poll(&mut shared(&lock)).unwrap();
        assert!(shared_turn.shared_value().is_none());
        assert!(poll(&mut sole(&lock)).unwrap().sole_value().is_none());
    }
}
