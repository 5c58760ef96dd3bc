//! What a script holds for a resource: a token naming it, which the script cannot forge (it is
//! not a number, a string or a map, and only the bridge makes one) and which knows its script.
//!
//! The token's last copy going (wherever it goes: the script's engine thread, a host thread)
//! only asks the worker to release the resource; the value itself never leaves the worker.

use crate::resource::value::ScriptResource;
use crate::sync::control::CallScope;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// Ids of resources whose last token went, for the worker to release.
#[derive(Default)]
pub(crate) struct Releases {
    /// Set while `ids` may hold any: what the worker checks before each call, so that a script
    /// that lets a resource go and opens another is never refused for the one it let go.
    pending: AtomicBool,
    ids: Mutex<Vec<u64>>,
    /// Wakes the worker's task that releases them.
    added: tokio::sync::Notify,
}

impl Releases {
    fn push(&self, id: u64) {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(id);
        self.pending.store(true, Ordering::Release);
        self.added.notify_one();
    }

    /// Whether any id may have been pushed since the last [`take`](Self::take).
    #[inline]
    pub(crate) fn any(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Every id pushed since the last call.
    pub(crate) fn take(&self) -> Vec<u64> {
        self.pending.store(false, Ordering::Relaxed);
        std::mem::take(&mut *self.ids.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Completes once an id was pushed since the last wait (or is waiting now).
    pub(crate) async fn added(&self) {
        self.added.notified().await;
    }
}

/// One resource as every copy of its token refers to it.
pub(crate) struct TokenInner {
    /// The resource's id in the worker's table, never reused.
    pub(crate) id: u64,
    /// The script that holds it. Weak, so a token kept past its script does not keep its
    /// scope alive, while its address is never reused for another script's as long as the
    /// token exists.
    pub(crate) owner: Weak<CallScope>,
    releases: Arc<Releases>,
}

impl TokenInner {
    pub(crate) fn new(id: u64, owner: &Arc<CallScope>, releases: Arc<Releases>) -> Self {
        Self {
            id,
            owner: Arc::downgrade(owner),
            releases,
        }
    }

    /// Whether `scope` is the scope of the script that holds it.
    pub(crate) fn belongs_to(&self, scope: &Arc<CallScope>) -> bool {
        std::ptr::eq(self.owner.as_ptr(), Arc::as_ptr(scope))
    }
}

impl Drop for TokenInner {
    fn drop(&mut self) {
        self.releases.push(self.id);
    }
}

/// The script value of a resource of type `T`: a Rhai custom type named `T::TYPE_NAME`, whose
/// methods are `T`'s `#[script_async]` methods. A distinct Rust type per `T`, so Rhai picks the
/// method by the object's type (`tx.close()` and `cursor.close()` are different functions).
pub(crate) struct ResourceToken<T> {
    pub(crate) inner: Arc<TokenInner>,
    _type: PhantomData<fn() -> T>,
}

impl<T> ResourceToken<T> {
    pub(crate) fn new(inner: Arc<TokenInner>) -> Self {
        Self {
            inner,
            _type: PhantomData,
        }
    }
}

impl<T> Clone for ResourceToken<T> {
    fn clone(&self) -> Self {
        Self::new(self.inner.clone())
    }
}

/// A resource a call refers to (a method's receiver), as its command carries it to the worker.
///
/// A `start`ed call keeps the token alive until the call is over, so a script that lets its
/// last copy go right after the `start` cannot have the resource released before the call
/// reaches it. A call the script waits on needs no such hold (the script's own value is
/// borrowed for as long as it waits), and so takes none: the token's count is then touched by
/// the engine thread alone, never bounced to the worker's core and back on every call.
pub struct ResourceRef<T> {
    pub(crate) id: u64,
    _keep: Option<Arc<TokenInner>>,
    _type: PhantomData<fn() -> T>,
}

impl<T> ResourceRef<T> {
    /// Refers to `inner`'s resource and keeps its token alive while the call lasts.
    pub(crate) fn holding(inner: Arc<TokenInner>) -> Self {
        Self {
            id: inner.id,
            _keep: Some(inner),
            _type: PhantomData,
        }
    }

    /// Refers to the resource `id` while something else keeps its token alive.
    pub(crate) fn named(id: u64) -> Self {
        Self {
            id,
            _keep: None,
            _type: PhantomData,
        }
    }
}

impl<T: ScriptResource> std::fmt::Debug for ResourceRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", T::TYPE_NAME, self.id)
    }
}

/// A resource just kept in the worker's table, on its way to the script as its first token.
/// Dropped on the way (the script stopped), it releases the resource.
pub struct NewResource<T> {
    pub(crate) inner: Arc<TokenInner>,
    _type: PhantomData<fn() -> T>,
}

impl<T> NewResource<T> {
    pub(crate) fn new(inner: TokenInner) -> Self {
        Self {
            inner: Arc::new(inner),
            _type: PhantomData,
        }
    }
}
