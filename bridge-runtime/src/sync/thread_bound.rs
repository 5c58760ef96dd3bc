//! A value usable only on the thread that made it, though its holder may be `Send + Sync`.
//!
//! Rhai built with its `sync` feature (which cargo turns on for the whole build when any crate
//! asks for it) wants every registered function and every script value to be `Send + Sync`, as
//! its `Engine` may then move between threads. The bridge's engine threads keep their engine
//! and what its functions share (`Rc`s, cells) on the one thread, so each such value is held
//! in a `ThreadBound`: on its own thread it reads as the value; anywhere else it reads as
//! nothing, and the caller raises a clear error. The same code builds with and without `sync`.

// Send and Sync are asserted for a value that may be neither: sound because the value is
// reached (read, cloned, dropped) only on the thread that made it, which `owner` records.
#![allow(unsafe_code)]

use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, Ordering};

/// The number the next thread to ask for one gets.
static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's number, never reused (a thread-local's address may be, by a later thread,
    /// and `thread::current()` counts a reference on every call).
    static THREAD: u64 = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
}

/// The current thread's number.
fn current_thread() -> u64 {
    THREAD.with(|id| *id)
}

/// `T`, reachable only on the thread that made it (see the module docs).
pub(crate) struct ThreadBound<T> {
    /// `None` in a copy cloned on another thread.
    value: ManuallyDrop<Option<T>>,
    owner: u64,
}

// SAFETY: `value` is reached only through `get`, `clone` and `drop`, and each of them reaches it
// only when the current thread is `owner`; elsewhere they act as if it were empty (a `drop`
// there leaks it). So no two threads ever touch `T`, whatever `T` is.
unsafe impl<T> Send for ThreadBound<T> {}
// SAFETY: as for `Send`: a shared `ThreadBound` gives out `&T` only on the owner thread.
unsafe impl<T> Sync for ThreadBound<T> {}

impl<T> ThreadBound<T> {
    /// Binds `value` to the current thread.
    pub(crate) fn new(value: T) -> Self {
        Self {
            value: ManuallyDrop::new(Some(value)),
            owner: current_thread(),
        }
    }

    /// The value, on the thread that made it; `None` on any other.
    #[inline]
    pub(crate) fn get(&self) -> Option<&T> {
        if self.owner == current_thread() {
            self.value.as_ref()
        } else {
            None
        }
    }
}

impl<T: Clone> Clone for ThreadBound<T> {
    /// A copy of the value on its own thread; an empty one elsewhere.
    fn clone(&self) -> Self {
        Self {
            value: ManuallyDrop::new(self.get().cloned()),
            owner: self.owner,
        }
    }
}

impl<T> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if self.owner == current_thread() {
            // SAFETY: dropped once, here, and never read again.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        }
        // Elsewhere the value is leaked: dropping an `Rc` there could race its own thread.
    }
}

/// The message of the error raised when a bridge value is used off its engine thread.
pub(crate) const OFF_ITS_THREAD: &str =
    "a bridge function or value was used off the engine thread that made it \
     (an engine or value moved to another thread by a configure_engine hook)";

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn reads_on_its_own_thread_only() {
        let bound = ThreadBound::new(Rc::new(5));
        assert_eq!(bound.get().map(|value| **value), Some(5));
        let shared = std::sync::Arc::new(bound);
        let elsewhere = shared.clone();
        std::thread::spawn(move || {
            assert!(elsewhere.get().is_none());
            assert!(elsewhere.as_ref().clone().get().is_none());
        })
        .join()
        .unwrap();
        assert_eq!(shared.clone().get().map(|value| **value), Some(5));
    }

    #[test]
    fn dropped_elsewhere_it_leaks_rather_than_races() {
        let value = Rc::new(());
        let bound = ThreadBound::new(value.clone());
        std::thread::spawn(move || drop(bound)).join().unwrap();
        assert_eq!(Rc::strong_count(&value), 2);
    }
}
