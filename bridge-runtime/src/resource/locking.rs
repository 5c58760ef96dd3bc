//! Taking a resource's lock: at once, without a waiting future, when no call holds it or waits
//! for it, which is nearly every call a script makes one after another; otherwise in turn.
//!
//! tokio's lock is fair: a released lock goes to the calls waiting for it before it is free
//! again, so taking it at once never passes a call that asked first.

use crate::resource::table::Slot;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard};

/// A lock on a resource's slot, taken or on its way. Small, whichever it is: the waiting future
/// is boxed, so the futures of calls that never wait (and every future that holds one of these)
/// are not sized for it.
pub(crate) enum Locking<G> {
    /// Taken at once (`None` once handed out).
    Taken(Option<G>),
    /// Waiting for its turn.
    Waiting(Pin<Box<dyn Future<Output = G>>>),
}

// The guard is only ever moved out whole, never pinned.
impl<G> Unpin for Locking<G> {}

impl<G> Future for Locking<G> {
    type Output = G;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<G> {
        match self.get_mut() {
            // A `Locking` is awaited once, by the bridge's own code.
            Self::Taken(guard) => {
                Poll::Ready(guard.take().expect("a lock polled after it was taken"))
            }
            Self::Waiting(waiting) => waiting.as_mut().poll(cx),
        }
    }
}

/// Shared access to `slot`, as a `&self` method or a `Ref<T>` parameter takes it.
pub(crate) fn shared<T: 'static>(slot: &Slot<T>) -> Locking<OwnedRwLockReadGuard<Option<T>>> {
    match Arc::clone(slot).try_read_owned() {
        Ok(guard) => Locking::Taken(Some(guard)),
        Err(_) => Locking::Waiting(Box::pin(Arc::clone(slot).read_owned())),
    }
}

/// Sole access to `slot`, as a `&mut self` or `self` method or a `Mut<T>` parameter takes it.
pub(crate) fn exclusive<T: 'static>(slot: &Slot<T>) -> Locking<OwnedRwLockWriteGuard<Option<T>>> {
    match Arc::clone(slot).try_write_owned() {
        Ok(guard) => Locking::Taken(Some(guard)),
        Err(_) => Locking::Waiting(Box::pin(Arc::clone(slot).write_owned())),
    }
}
