//! What a call's dispatch draws on besides its arguments: the bridge's state, the calling
//! script's context, and (on the worker) the resources the script holds.

use crate::error::{CallErrorKind, CallFailure};
use crate::resource::claims::{self, Claim, Claimed};
use crate::resource::locking::{self, Locking};
use crate::resource::table::{ResourceTables, Slot};
use crate::resource::token::ResourceRef;
use crate::resource::value::ScriptResource;
use crate::state::{ScriptContext, State, TypeMap};
use crate::sync::control::CallScope;
use crate::sync::thread_bound::ThreadBound;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;
use std::sync::Arc;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard};

/// What a call's dispatch can draw on besides its arguments: the bridge's state, the calling
/// script's context, and the resources it holds. Passed to
/// [`ScriptCommand::dispatch`](crate::__private::ScriptCommand::dispatch).
pub struct CallEnv {
    pub(crate) states: Arc<TypeMap>,
    pub(crate) context: Arc<TypeMap>,
    /// The worker's resource tables and the calling script's scope; `None` off the worker (an
    /// eager call's first poll, on the engine thread).
    pub(crate) worker: Option<WorkerEnv>,
}

/// The part of a [`CallEnv`] only the worker has.
pub(crate) struct WorkerEnv {
    /// Bound to the worker thread: the tables are worker-local, and an eager call's future,
    /// which holds its env, must be `Send`.
    pub(crate) tables: ThreadBound<Rc<ResourceTables>>,
    pub(crate) scope: Arc<CallScope>,
}

impl CallEnv {
    /// The bridge's `State<T>`.
    pub fn state<T: Send + Sync + 'static>(&self) -> Result<State<T>, CallFailure> {
        self.states.state::<T>().ok_or_else(|| {
            CallFailure::new(
                CallErrorKind::Context,
                format!(
                    "no state of type `{}` was given to this bridge",
                    std::any::type_name::<T>()
                ),
            )
        })
    }

    /// The running script's `ScriptContext<T>`.
    pub fn context<T: Send + Sync + 'static>(&self) -> Result<ScriptContext<T>, CallFailure> {
        self.context.context::<T>().ok_or_else(|| {
            CallFailure::new(
                CallErrorKind::Context,
                format!(
                    "this script was given no context of type `{}`; pass one with \
                     bridge.script(...).context(value)",
                    std::any::type_name::<T>()
                ),
            )
        })
    }

    /// This env without the worker's part (its resource tables are bound to the worker
    /// thread), for a call that may run on another thread: only functions that take no resource
    /// are given one.
    pub fn off_worker(mut self) -> Self {
        self.worker = None;
        self
    }

    fn tables(&self) -> Option<(&Rc<ResourceTables>, &Arc<CallScope>)> {
        let worker = self.worker.as_ref()?;
        Some((worker.tables.get()?, &worker.scope))
    }

    /// The lock on the resource `resource` refers to, as `take` starts taking it, and what to
    /// report should its value be gone once the lock is had.
    fn lock<T: ScriptResource, G>(
        &self,
        resource: &ResourceRef<T>,
        take: fn(&Slot<T>) -> Locking<G>,
    ) -> Result<(Locking<G>, Taken<T>), CallFailure> {
        let (tables, scope) = self.tables().ok_or_else(|| {
            CallFailure::new(
                CallErrorKind::Argument,
                format!(
                    "a {} is reachable only from calls run on the worker",
                    T::TYPE_NAME
                ),
            )
        })?;
        let lock = tables.with_slot(resource, scope, take)?;
        let taken = Taken {
            tables: tables.clone(),
            resource: ResourceRef::named(resource.id),
        };
        Ok((lock, taken))
    }

    /// Shared access to the resource `resource` refers to, for a `&self` method: waits while a
    /// `&mut self` or `self` call asked before it runs.
    pub fn resource<T: ScriptResource>(
        &self,
        resource: &ResourceRef<T>,
    ) -> impl Future<Output = Result<impl Deref<Target = T> + use<T>, CallFailure>> + use<T> {
        let lock = self.lock(resource, locking::shared);
        async move {
            let (lock, taken) = lock?;
            OwnedRwLockReadGuard::try_map(lock.await, Option::as_ref).map_err(|_| taken.failure())
        }
    }

    /// Sole access to the resource `resource` refers to, for a `&mut self` method: waits for
    /// the calls asked before it, in order.
    pub fn resource_mut<T: ScriptResource>(
        &self,
        resource: &ResourceRef<T>,
    ) -> impl Future<Output = Result<impl DerefMut<Target = T> + use<T>, CallFailure>> + use<T>
    {
        let lock = self.lock(resource, locking::exclusive);
        async move {
            let (lock, taken) = lock?;
            OwnedRwLockWriteGuard::try_map(lock.await, Option::as_mut).map_err(|_| taken.failure())
        }
    }

    /// The value of the resource `resource` refers to, taken for the `self` method `method`
    /// (named in the error of any later call on it): waits for the calls asked before it.
    pub fn take_resource<T: ScriptResource>(
        &self,
        resource: &ResourceRef<T>,
        method: &'static str,
    ) -> impl Future<Output = Result<T, CallFailure>> + use<T> {
        let lock = self.lock(resource, locking::exclusive);
        async move {
            let (lock, taken) = lock?;
            let value = lock.await.take().ok_or_else(|| taken.failure())?;
            taken.consume(method);
            Ok(value)
        }
    }

    /// Every resource a call names besides a lone object (a method's object and its `Ref<T>` /
    /// `Mut<T>` parameters, or a function's), locked in the order of the resources' ids, so
    /// that calls naming the same resources in other orders queue instead of deadlocking.
    pub async fn lock_resources(&self, claims: Vec<Claim<'_>>) -> Result<Claimed, CallFailure> {
        let Some((tables, scope)) = self.tables() else {
            return Err(CallFailure::new(
                CallErrorKind::Argument,
                "resources are reachable only from calls run on the worker".to_owned(),
            ));
        };
        claims::lock_all(tables, scope, claims).await
    }
}

/// What a call on a resource reports, and does, when it finds the value taken by a `self`
/// method once its turn comes.
struct Taken<T> {
    tables: Rc<ResourceTables>,
    resource: ResourceRef<T>,
}

impl<T: ScriptResource> Taken<T> {
    fn failure(&self) -> CallFailure {
        self.tables.taken(&self.resource)
    }

    /// Marks the resource consumed by the method `by`, which took its value.
    fn consume(&self, by: &'static str) {
        self.tables.consume(&self.resource, by);
    }
}
