//! Values an async function receives that are not script arguments: the bridge's shared
//! [`State`] and the running script's [`ScriptContext`].

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Shared application state, given once with [`BridgeBuilder::state`](crate::BridgeBuilder::state)
/// and passed to every function that takes a `State<T>` parameter. Scripts do not see it.
///
/// ```
/// use bridge_runtime::{script_async, Bridge, State};
///
/// struct Greeter {
///     greeting: String,
/// }
///
/// #[script_async]
/// async fn greet(greeter: State<Greeter>, name: String) -> String {
///     format!("{}, {name}", greeter.greeting)
/// }
///
/// let bridge = Bridge::builder()
///     .state(Greeter { greeting: "Hello".into() })
///     .build()?;
/// assert_eq!(bridge.run(r#"greet("Ada")"#)?, "Hello, Ada");
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub struct State<T: ?Sized>(Arc<T>);

/// Per-script context, given with [`ScriptRun::context`](crate::ScriptRun::context) for one script
/// run (the user who submitted it, a request id) and passed to every function that takes a
/// `ScriptContext<T>` parameter. Scripts do not see it.
///
/// ```
/// use bridge_runtime::{script_async, Bridge, ScriptContext};
///
/// struct Caller {
///     user_id: i64,
/// }
///
/// #[script_async]
/// async fn whoami(caller: ScriptContext<Caller>) -> i64 {
///     caller.user_id
/// }
///
/// let bridge = Bridge::new()?;
/// let id = bridge.script("whoami()").context(Caller { user_id: 7 }).run()?;
/// assert_eq!(id, 7);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub struct ScriptContext<T: ?Sized>(Arc<T>);

macro_rules! shared_handle {
    ($name:ident) => {
        impl<T: ?Sized> Deref for $name<T> {
            type Target = T;
            fn deref(&self) -> &T {
                &self.0
            }
        }

        impl<T: ?Sized> Clone for $name<T> {
            fn clone(&self) -> Self {
                Self(self.0.clone())
            }
        }

        impl<T: ?Sized + fmt::Debug> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&&*self.0).finish()
            }
        }
    };
}

shared_handle!(State);
shared_handle!(ScriptContext);

/// Values keyed by their type.
#[derive(Clone, Default)]
pub(crate) struct TypeMap {
    values: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl TypeMap {
    /// Whether no value was given.
    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.values.insert(TypeId::of::<T>(), Arc::new(value));
    }

    pub(crate) fn contains(&self, type_id: TypeId) -> bool {
        self.values.contains_key(&type_id)
    }

    fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let value = self.values.get(&TypeId::of::<T>())?.clone();
        value.downcast::<T>().ok()
    }

    /// The value of type `T`, as a function's `State<T>`.
    pub(crate) fn state<T: Send + Sync + 'static>(&self) -> Option<State<T>> {
        self.get::<T>().map(State)
    }

    /// The value of type `T`, as a function's `ScriptContext<T>`.
    pub(crate) fn context<T: Send + Sync + 'static>(&self) -> Option<ScriptContext<T>> {
        self.get::<T>().map(ScriptContext)
    }
}

/// One script's `ScriptContext` values, dropped on the worker inside its runtime, wherever the
/// last reference to them goes (the script's engine thread, the caller's thread holding its
/// handle): a context may hold a transaction or a pooled connection, whose `Drop` needs tokio.
/// A panic in one of their `Drop`s is caught and reported, never let out onto a bridge thread.
#[derive(Default)]
pub(crate) struct ContextValues {
    values: Option<Arc<TypeMap>>,
    /// Where they are dropped; `None` only in the crate's own tests.
    worker: Option<tokio::runtime::Handle>,
}

impl ContextValues {
    /// `values`, to be dropped on the runtime `worker`.
    pub(crate) fn new(values: TypeMap, worker: tokio::runtime::Handle) -> Self {
        Self {
            values: Some(Arc::new(values)),
            worker: Some(worker),
        }
    }

    /// The values, for a call's [`CallEnv`].
    pub(crate) fn values(&self) -> Arc<TypeMap> {
        self.values.clone().unwrap_or_default()
    }
}

impl Drop for ContextValues {
    fn drop(&mut self) {
        // Another reference (a call's `CallEnv`, on the worker) drops them there later.
        let Some(values) = self.values.take().and_then(Arc::into_inner) else {
            return;
        };
        if values.is_empty() {
            return;
        }
        let values = DroppedQuietly(Some(values));
        match &self.worker {
            Some(worker) => {
                // Entered so that, should the runtime be gone (the task is then dropped here at
                // once), a `Drop` that looks for tokio still finds a context.
                let _entered = worker.enter();
                drop(worker.spawn(async move { drop(values) }));
            }
            None => drop(values),
        }
    }
}

/// Drops its value with any panic in its `Drop` caught and reported.
struct DroppedQuietly<T>(Option<T>);

impl<T> Drop for DroppedQuietly<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            if let Some(panic) = crate::catch_unwind::catch_drop_panic(move || drop(value)) {
                crate::trace::drop_panicked("a script's context value", &panic);
            }
        }
    }
}

/// A state or context type a function needs, as its registration records it.
#[derive(Clone, Copy, Debug)]
pub struct RequiredType {
    pub(crate) name: &'static str,
    /// A function, because `TypeId::of` is not `const`.
    pub(crate) type_id: fn() -> TypeId,
}

impl RequiredType {
    /// Built by the code `#[script_async]` writes (through `__private::required_type`).
    pub(crate) const fn new(name: &'static str, type_id: fn() -> TypeId) -> Self {
        Self { name, type_id }
    }

    /// The type as written in the signature.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its `TypeId`.
    pub fn type_id(&self) -> TypeId {
        (self.type_id)()
    }
}
