//! What a function may return to a script, and the form it crosses back in: plain data as
//! itself, a [`Resource`] as the token of the value the worker keeps.

use crate::catch_unwind::{describe_panic, drop_quietly};
use crate::convert::into_script;
use crate::error::{CallErrorKind, CallFailure};
use crate::resource::table::ResourceTables;
use crate::resource::token::{NewResource, ResourceToken};
use crate::resource::value::{Resource, ScriptResource};
use crate::sync::control::CallScope;
use rhai::Dynamic;
use serde::Serialize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;

/// What a value returned to a script must be: data (`Serialize + Send + 'static`), a
/// [`Resource`], or a [`ScriptStream`](crate::ScriptStream).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned to a script: it must be `Serialize + Send + 'static`, a `Resource<T>` or a `ScriptStream<T>`",
    label = "not a script value",
    note = "derive `serde::Serialize` for `{Self}` if it is data, or return a value made from it; to let the script hold the value itself (a transaction, a connection), put `#[script_async]` on an `impl` block of its type and return `bridge_runtime::Resource::new(value)`"
)]
pub trait ScriptValue: 'static {
    /// The form it crosses to the engine thread in.
    #[doc(hidden)]
    type Sent: SentValue;

    /// Turns it into that form on the worker, where a resource is kept (`worker` is `None` off
    /// the worker: an eager call's first poll, or a host's dispatch, neither of which can hold
    /// a resource).
    #[doc(hidden)]
    fn on_worker(self, worker: Option<&WorkerSide<'_>>) -> Result<Self::Sent, CallFailure>;
}

#[diagnostic::do_not_recommend]
impl<T: Serialize + Send + 'static> ScriptValue for T {
    type Sent = T;

    #[inline]
    fn on_worker(self, _worker: Option<&WorkerSide<'_>>) -> Result<T, CallFailure> {
        Ok(self)
    }
}

impl<T: ScriptResource> ScriptValue for Resource<T> {
    type Sent = NewResource<T>;

    fn on_worker(self, worker: Option<&WorkerSide<'_>>) -> Result<NewResource<T>, CallFailure> {
        match worker {
            Some(worker) => worker.tables.keep(self, worker.scope),
            None => Err(CallFailure::new(
                CallErrorKind::Return,
                format!(
                    "it returns a {}, a resource, which only a script's call run on the worker \
                     can hold (not a host's dispatch, nor an eager call)",
                    T::TYPE_NAME
                ),
            )),
        }
    }
}

/// Where a call's value is turned into the form it crosses back in: the worker's resource table
/// and the calling script's scope.
#[doc(hidden)]
pub struct WorkerSide<'a> {
    pub(crate) tables: &'a Rc<ResourceTables>,
    pub(crate) scope: &'a Arc<CallScope>,
}

/// A function's value on its way back to the engine thread.
#[doc(hidden)]
pub trait SentValue: Send + 'static {
    /// The script value (a panic converting it is the call's `panic` failure; the value is
    /// dropped with any panic in its `Drop` contained).
    fn into_dynamic(self) -> Result<Dynamic, CallFailure>;

    /// The script value, for the function `function` returned it from (a stream's errors name
    /// it).
    fn into_dynamic_from(self, function: &'static str) -> Result<Dynamic, CallFailure>
    where
        Self: Sized,
    {
        let _ = function;
        self.into_dynamic()
    }

    /// The resource type this value gives the script, if it is one: such a value cannot be
    /// recorded.
    fn resource_type(&self) -> Option<&'static str> {
        None
    }
}

impl<T: Serialize + Send + 'static> SentValue for T {
    fn into_dynamic(self) -> Result<Dynamic, CallFailure> {
        let converted = catch_unwind(AssertUnwindSafe(|| into_script(&self)));
        drop_quietly(self);
        match converted {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(CallFailure::new(
                CallErrorKind::Return,
                format!("the return value has no script form: {e}"),
            )),
            Err(payload) => Err(CallFailure::new(
                CallErrorKind::Panic,
                format!(
                    "converting the return value panicked: {}",
                    describe_panic(payload)
                ),
            )),
        }
    }
}

impl<T: ScriptResource> SentValue for NewResource<T> {
    fn into_dynamic(self) -> Result<Dynamic, CallFailure> {
        Ok(Dynamic::from(ResourceToken::<T>::new(self.inner)))
    }

    fn resource_type(&self) -> Option<&'static str> {
        Some(T::TYPE_NAME)
    }
}
