//! How a script waiting on its engine thread is woken: by a reply it armed, or a stop.
//!
//! An engine thread may host thousands of waiting scripts. Resuming each of them to look whether
//! its reply came costs a fiber switch per script per look, which at 10,000 scripts was most of
//! the thread's time. Instead, whatever finishes a wait names the script: [`ScriptWaker::wake`]
//! queues the script's slot on its thread's [`ReadyList`] (once, until the thread takes it) and
//! unparks the thread, which then resumes only the scripts named.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::Thread;

/// The scripts of one engine thread that were woken since it last looked.
pub(crate) struct ReadyList {
    slots: Mutex<Vec<usize>>,
    /// Set while `slots` may be non-empty, so an empty look takes no lock.
    any: AtomicBool,
    /// Set while the thread resumes every script on each pass anyway (it hosts few): wakes then
    /// only unpark it, and list nothing.
    polling: AtomicBool,
    thread: Thread,
}

impl ReadyList {
    /// The ready list of the current thread.
    pub(crate) fn for_current_thread() -> Arc<Self> {
        Arc::new(Self {
            slots: Mutex::new(Vec::new()),
            any: AtomicBool::new(false),
            polling: AtomicBool::new(false),
            thread: std::thread::current(),
        })
    }

    /// Moves the slots woken since the last call into `into` (which it clears first).
    pub(crate) fn take(&self, into: &mut Vec<usize>) {
        into.clear();
        // Read before written: a pass that finds nothing must not take the line from a waker.
        if !self.any.load(Ordering::Relaxed) || !self.any.swap(false, Ordering::Acquire) {
            return;
        }
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::swap(&mut *slots, into);
    }

    /// Switches polling on or off. After switching it off, the thread must resume every script
    /// once: a wake that came while it was on listed nothing.
    pub(crate) fn set_polling(&self, polling: bool) {
        self.polling.store(polling, Ordering::SeqCst);
        // Pairs with the fence in `wake`: either the waker sees polling off and lists its
        // script, or the resumes after this see the reply the waker delivered.
        std::sync::atomic::fence(Ordering::SeqCst);
    }

    fn push(&self, slot: usize) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(slot);
        self.any.store(true, Ordering::Release);
    }
}

/// What wakes one script: shared by its reply cells and its stop switch.
pub(crate) struct ScriptWaker {
    slot: usize,
    /// Set once the slot is on the list, until the thread resumes the script.
    queued: AtomicBool,
    list: Arc<ReadyList>,
}

impl ScriptWaker {
    /// The waker of the script in `slot` of the thread that owns `list`.
    pub(crate) fn new(list: &Arc<ReadyList>, slot: usize) -> Arc<Self> {
        Arc::new(Self {
            slot,
            queued: AtomicBool::new(false),
            list: list.clone(),
        })
    }

    /// A waker that only unparks the current thread (for code that waits outside an engine
    /// thread's loop: `Bridge::dispatch`, tests).
    pub(crate) fn for_current_thread() -> Arc<Self> {
        Self::new(&ReadyList::for_current_thread(), 0)
    }

    /// Queues the script to be resumed (unless its thread resumes every script anyway), and
    /// unparks its thread. Call after making the script's wait end (delivering its reply).
    pub(crate) fn wake(&self) {
        std::sync::atomic::fence(Ordering::SeqCst);
        if !self.list.polling.load(Ordering::Relaxed) && !self.queued.swap(true, Ordering::AcqRel) {
            self.list.push(self.slot);
        }
        self.list.thread.unpark();
    }

    /// The thread is about to resume the script: a wake from now on queues it again.
    pub(crate) fn clear(&self) {
        self.queued.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_woken_twice_is_listed_once_until_its_thread_resumes_it() {
        let list = ReadyList::for_current_thread();
        let (first, second) = (ScriptWaker::new(&list, 3), ScriptWaker::new(&list, 7));
        let mut woken = Vec::new();
        list.take(&mut woken);
        assert!(woken.is_empty());
        first.wake();
        first.wake();
        second.wake();
        list.take(&mut woken);
        assert_eq!(woken, [3, 7]);
        first.wake();
        list.take(&mut woken);
        assert!(woken.is_empty(), "3 was not resumed yet");
        first.clear();
        first.wake();
        list.take(&mut woken);
        assert_eq!(woken, [3]);
    }

    #[test]
    fn a_wake_from_another_thread_unparks_the_owner() {
        let waker = ScriptWaker::for_current_thread();
        let remote = waker.clone();
        let waking = std::thread::spawn(move || remote.wake());
        // Returns once unparked (a wake before the park leaves the token set).
        std::thread::park();
        waking.join().unwrap();
    }
}
