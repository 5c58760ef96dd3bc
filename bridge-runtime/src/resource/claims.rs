//! A call that takes more than its method's object: every resource it names (the object, and
//! each `Ref<T>` / `Mut<T>` parameter) locked in one fixed order, the order of the resources'
//! ids, so two calls that take the same resources in opposite orders (`transfer(a, b)` started
//! beside `transfer(b, a)`) queue instead of deadlocking.

use crate::error::{CallErrorKind, CallFailure};
use crate::resource::guards::{Mut, Ref};
use crate::resource::locking;
use crate::resource::table::ResourceTables;
use crate::resource::token::ResourceRef;
use crate::resource::value::ScriptResource;
use crate::sync::control::CallScope;
use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard};

/// How a call takes one resource.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// `&self` or `Ref<T>`.
    Shared,
    /// `&mut self` or `Mut<T>`.
    Exclusive,
    /// `self`: the method named here takes the value.
    Consuming(&'static str),
}

/// A locked resource, type-erased: `Arc<OwnedRwLockReadGuard<..>>` (shared), `Mut<T>`
/// (exclusive) or `T` (taken).
type Held = Box<dyn Any>;

type Locking = Pin<Box<dyn Future<Output = Result<Held, CallFailure>>>>;

/// Finds a resource's slot at once (an unknown or consumed one fails before any lock is taken),
/// and gives the future that waits for its lock.
type LockFn = fn(&Rc<ResourceTables>, &Arc<CallScope>, u64, Access) -> SlotLookup;

/// A resource's slot found, as the future that waits for its lock, or why it cannot be had.
type SlotLookup = Result<Locking, CallFailure>;

/// One resource a call names, and how it takes it. Made by the code `#[script_async]` writes.
pub struct Claim<'a> {
    id: u64,
    /// The resource's type, as scripts name it.
    type_name: &'static str,
    /// The call's command, which holds what the claim names, outlives it.
    _command: PhantomData<&'a ()>,
    /// The parameter (`self` for a method's object), named in errors.
    param: &'static str,
    access: Access,
    lock: LockFn,
}

impl<'a> Claim<'a> {
    /// `resource` taken shared, for a `&self` method's object or a `Ref<T>` parameter.
    pub fn shared<T: ScriptResource>(resource: &'a ResourceRef<T>, param: &'static str) -> Self {
        Self::new(resource, param, Access::Shared)
    }

    /// `resource` taken alone, for a `&mut self` method's object or a `Mut<T>` parameter.
    pub fn exclusive<T: ScriptResource>(resource: &'a ResourceRef<T>, param: &'static str) -> Self {
        Self::new(resource, param, Access::Exclusive)
    }

    /// `resource`'s value taken by the method `method` (its object, `self`).
    pub fn consuming<T: ScriptResource>(
        resource: &'a ResourceRef<T>,
        method: &'static str,
    ) -> Self {
        Self::new(resource, "self", Access::Consuming(method))
    }

    fn new<T: ScriptResource>(
        resource: &'a ResourceRef<T>,
        param: &'static str,
        access: Access,
    ) -> Self {
        Self {
            id: resource.id,
            type_name: T::TYPE_NAME,
            _command: PhantomData,
            param,
            access,
            lock: lock::<T>,
        }
    }

    fn id(&self) -> u64 {
        self.id
    }
}

/// Finds the slot of the resource `id` and gives the future that locks it as `access`
/// asks. Kept a plain `fn` per `T`, so a claim needs no allocation of its own.
fn lock<T: ScriptResource>(
    tables: &Rc<ResourceTables>,
    scope: &Arc<CallScope>,
    id: u64,
    access: Access,
) -> SlotLookup {
    // The call's command holds the token meanwhile.
    let resource = ResourceRef::<T>::named(id);
    let slot = tables.slot(&resource, scope)?;
    let tables = tables.clone();
    Ok(Box::pin(async move {
        let held: Held = match access {
            Access::Shared => {
                let guard =
                    OwnedRwLockReadGuard::try_map(locking::shared(&slot).await, Option::as_ref)
                        .map_err(|_| tables.taken(&resource))?;
                Box::new(Arc::new(guard))
            }
            Access::Exclusive => {
                let guard =
                    OwnedRwLockWriteGuard::try_map(locking::exclusive(&slot).await, Option::as_mut)
                        .map_err(|_| tables.taken(&resource))?;
                Box::new(Mut::new(guard))
            }
            Access::Consuming(method) => {
                let mut guard = locking::exclusive(&slot).await;
                let value = guard.take().ok_or_else(|| tables.taken(&resource))?;
                tables.consume(&resource, method);
                Box::new(value)
            }
        };
        Ok(held)
    }))
}

/// The resources one call holds, locked; the function's arguments are taken from it.
pub struct Claimed {
    /// By resource id, each once.
    held: Vec<(u64, RefCell<Option<Held>>)>,
}

/// Locks every resource `claims` names, one at a time in the order of their ids. The same
/// resource named twice is locked once when every claim of it is shared, and otherwise refused:
/// a `Mut` parameter (or `&mut self`, or `self`) needs a resource no other parameter names.
pub(crate) async fn lock_all(
    tables: &Rc<ResourceTables>,
    scope: &Arc<CallScope>,
    mut claims: Vec<Claim<'_>>,
) -> Result<Claimed, CallFailure> {
    claims.sort_by_key(Claim::id);
    if let Some(pair) = claims.windows(2).find(|pair| {
        pair[0].id() == pair[1].id()
            && (pair[0].access != Access::Shared || pair[1].access != Access::Shared)
    }) {
        return Err(named_twice(&pair[0], &pair[1]));
    }
    claims.dedup_by_key(|claim| claim.id());
    // Every slot found before any lock is taken: an unknown or consumed resource fails at once.
    let mut locking = Vec::with_capacity(claims.len());
    for claim in &claims {
        let future = (claim.lock)(tables, scope, claim.id, claim.access)
            .map_err(|failure| for_param(failure, claim.param))?;
        locking.push((claim.id(), claim.param, future));
    }
    let mut held = Vec::with_capacity(locking.len());
    for (id, param, future) in locking {
        let value = future.await.map_err(|failure| for_param(failure, param))?;
        held.push((id, RefCell::new(Some(value))));
    }
    Ok(Claimed { held })
}

impl Claimed {
    /// The `Ref<T>` for `resource`, claimed shared.
    pub fn shared<T: ScriptResource>(
        &self,
        resource: &ResourceRef<T>,
    ) -> Result<Ref<T>, CallFailure> {
        let cell = self.cell(resource)?;
        let held = cell.borrow();
        held.as_ref()
            .and_then(|held| held.downcast_ref::<Arc<OwnedRwLockReadGuard<Option<T>, T>>>())
            .map(|guard| Ref::new(guard.clone()))
            .ok_or_else(|| lost(resource))
    }

    /// The `Mut<T>` for `resource`, claimed exclusive (once).
    pub fn exclusive<T: ScriptResource>(
        &self,
        resource: &ResourceRef<T>,
    ) -> Result<Mut<T>, CallFailure> {
        self.take_held::<Mut<T>, T>(resource)
    }

    /// The value of `resource`, claimed by a method taking `self` (once).
    pub fn value<T: ScriptResource>(&self, resource: &ResourceRef<T>) -> Result<T, CallFailure> {
        self.take_held::<T, T>(resource)
    }

    fn take_held<H: 'static, T: ScriptResource>(
        &self,
        resource: &ResourceRef<T>,
    ) -> Result<H, CallFailure> {
        let held = self.cell(resource)?.borrow_mut().take();
        held.and_then(|held| held.downcast::<H>().ok())
            .map(|held| *held)
            .ok_or_else(|| lost(resource))
    }

    fn cell<T: ScriptResource>(
        &self,
        resource: &ResourceRef<T>,
    ) -> Result<&RefCell<Option<Held>>, CallFailure> {
        self.held
            .iter()
            .find(|(id, _)| *id == resource.id)
            .map(|(_, cell)| cell)
            .ok_or_else(|| lost(resource))
    }
}

/// `failure`, naming the parameter it is about (a method's object is the call itself).
fn for_param(failure: CallFailure, param: &'static str) -> CallFailure {
    if param == "self" {
        return failure;
    }
    CallFailure::new(failure.kind, format!("`{param}`: {}", failure.message))
}

fn named_twice(first: &Claim<'_>, second: &Claim<'_>) -> CallFailure {
    let name = first.type_name;
    CallFailure::new(
        CallErrorKind::Argument,
        format!(
            "`{}` and `{}` are the same {name}: a call may take a resource that another of its \
             parameters also names only when every one of them shares it (`Ref`, `&self`); \
             pass different resources",
            first.param, second.param
        ),
    )
}

/// Generated code asked for a resource its claims did not name, or in another way: a bug in the
/// bridge, reported rather than panicking.
fn lost<T: ScriptResource>(resource: &ResourceRef<T>) -> CallFailure {
    CallFailure::new(
        CallErrorKind::Argument,
        format!(
            "the bridge lost track of {resource:?} in this call (a bug in bridge_runtime: please \
             report it)"
        ),
    )
}
