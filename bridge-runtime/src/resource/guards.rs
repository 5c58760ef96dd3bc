//! [`Ref`] and [`Mut`]: a resource a script passes to a function as an argument, held by the call
//! for as long as the function runs.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use tokio::sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard};

/// Shared access to a resource the script passed, for a parameter written `x: Ref<T>`.
///
/// The call holds the resource's shared lock while the function runs, as a `&self` method does:
/// calls taking it shared may overlap, calls taking it with [`Mut`] (or a `&mut self` method)
/// wait. Dereferences to `T`.
///
/// ```
/// use bridge_runtime::{script_async, Bridge, Ref, Resource};
///
/// /// An account a script holds.
/// pub struct Account {
///     balance: i64,
/// }
///
/// #[script_async]
/// impl Account {}
///
/// #[script_async]
/// async fn account(balance: i64) -> Resource<Account> {
///     Resource::new(Account { balance })
/// }
///
/// /// The balance of two accounts together.
/// #[script_async]
/// async fn total(a: Ref<Account>, b: Ref<Account>) -> i64 {
///     a.balance + b.balance
/// }
///
/// let bridge = Bridge::new()?;
/// assert_eq!(bridge.run("let a = account(5); total(a, account(7))")?, 12);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub struct Ref<T: 'static> {
    // Shared among the parameters of one call that name the same resource.
    guard: Arc<OwnedRwLockReadGuard<Option<T>, T>>,
}

impl<T> Ref<T> {
    pub(crate) fn new(guard: Arc<OwnedRwLockReadGuard<Option<T>, T>>) -> Self {
        Self { guard }
    }
}

impl<T> Deref for Ref<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Sole access to a resource the script passed, for a parameter written `x: Mut<T>`.
///
/// The call holds the resource's exclusive lock while the function runs, as a `&mut self` method
/// does: calls on it take turns in the order they were made. A call taking two or more resources
/// takes their locks in one fixed order (the order the resources were opened), so two started
/// calls `transfer(a, b)` and `transfer(b, a)` queue rather than deadlock; passing one resource
/// as two parameters of which one is `Mut` is a catchable argument error. Dereferences mutably
/// to `T`.
///
/// ```
/// use bridge_runtime::{script_async, Bridge, Mut, Resource};
///
/// /// An account a script holds.
/// pub struct Account {
///     balance: i64,
/// }
///
/// #[script_async]
/// impl Account {
///     /// Its balance now.
///     async fn balance(&self) -> i64 {
///         self.balance
///     }
/// }
///
/// #[script_async]
/// async fn account(balance: i64) -> Resource<Account> {
///     Resource::new(Account { balance })
/// }
///
/// /// Moves `amount` from one account to the other.
/// #[script_async]
/// async fn transfer(mut from: Mut<Account>, mut to: Mut<Account>, amount: i64) {
///     from.balance -= amount;
///     to.balance += amount;
/// }
///
/// let bridge = Bridge::new()?;
/// let script = "let a = account(10); let b = account(0); transfer(a, b, 4); [a.balance(), b.balance()]";
/// assert_eq!(bridge.run(script)?, serde_json::json!([6, 4]));
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub struct Mut<T: 'static> {
    guard: OwnedRwLockMappedWriteGuard<Option<T>, T>,
}

impl<T> Mut<T> {
    pub(crate) fn new(guard: OwnedRwLockMappedWriteGuard<Option<T>, T>) -> Self {
        Self { guard }
    }
}

impl<T> Deref for Mut<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for Mut<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Mut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
