//! [`Resource`]: a host value a function gives a script to hold, and the trait that makes a type
//! one.

use std::future::Future;
use std::pin::Pin;

/// A type whose `async fn` methods scripts call: implemented by `#[script_async]` on an
/// `impl T` block, which also names the type for scripts.
///
/// You do not implement it by hand; the bound on [`Resource`] says what to do if it is missing.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a script resource",
    label = "a script cannot hold this type",
    note = "put `#[script_async]` on an `impl {Self}` block (its `async fn` methods become the script's methods; the block may be empty)"
)]
pub trait ScriptResource: 'static {
    /// The name scripts know the type by (`type_of(x)`, error messages, signatures).
    const TYPE_NAME: &'static str;
}

/// An async close hook: what happens to a resource a script never consumed.
pub(crate) type CloseHook<T> = Box<dyn FnOnce(T) -> Pin<Box<dyn Future<Output = ()>>>>;

/// A value that a script holds as an opaque object, while it stays on the worker.
///
/// Return it from a `#[script_async]` function or method (`-> Resource<T>` or
/// `-> Result<Resource<T>, E>`); the script then calls `T`'s `#[script_async]` methods on it with
/// Rhai's method syntax (`tx.execute(...)`). The value never leaves the worker thread, so it may
/// hold anything an async function may (a pooled connection, a transaction), `Send` or not.
///
/// It is dropped on the worker, inside its runtime, when the last script value referring to it
/// goes, or when its script ends, however it ends (result, error, time limit, cancel, the bridge
/// dropped). A method taking `self` consumes it; after that, its other methods are a catchable
/// error of kind `closed`. Give it an async [close hook](Self::on_close) to run instead of a plain
/// drop when a script lets it go unconsumed.
///
/// ```
/// use bridge_runtime::{script_async, Bridge, Resource};
///
/// /// A running total.
/// pub struct Tally {
///     total: i64,
/// }
///
/// #[script_async]
/// impl Tally {
///     /// Adds `n`, returning the new total.
///     async fn add(&mut self, n: i64) -> i64 {
///         self.total += n;
///         self.total
///     }
/// }
///
/// #[script_async]
/// async fn tally() -> Resource<Tally> {
///     Resource::new(Tally { total: 0 })
/// }
///
/// let bridge = Bridge::new()?;
/// assert_eq!(bridge.run("let t = tally(); t.add(2); t.add(3)")?, 5);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub struct Resource<T> {
    pub(crate) value: T,
    pub(crate) close: Option<CloseHook<T>>,
}

impl<T> Resource<T> {
    /// `value`, to be held by a script.
    pub fn new(value: T) -> Self {
        Self { value, close: None }
    }

    /// Runs `close` with the value, on the worker, when the script lets it go without consuming
    /// it (its last reference dropped, or the script ended): a transaction's rollback, a
    /// socket's shutdown. Bounded by the bridge's
    /// [`close_timeout`](crate::BridgeBuilder::close_timeout); past it the hook is dropped. A method
    /// taking `self` consumes the value, and the hook does not run.
    ///
    /// ```
    /// # use bridge_runtime::{script_async, Resource};
    /// # pub struct Tx;
    /// # #[script_async] impl Tx {}
    /// # impl Tx { async fn rollback(self) {} }
    /// let tx = Resource::new(Tx).on_close(|tx| async move { tx.rollback().await });
    /// ```
    pub fn on_close<F, Fut>(mut self, close: F) -> Self
    where
        F: FnOnce(T) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.close = Some(Box::new(move |value| Box::pin(close(value))));
        self
    }

    /// The value, taken back (its close hook, if any, is dropped unrun).
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Resource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("value", &self.value)
            .field("on_close", &self.close.is_some())
            .finish()
    }
}
