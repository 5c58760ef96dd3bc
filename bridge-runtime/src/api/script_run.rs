//! [`ScriptRun`]: one run of a script, with its inputs and per-script settings.

use crate::api::handle::{CancelOnDrop, ScriptHandle};
use crate::api::inputs::NamedValues;
use crate::api::script::Script;
use crate::engine::placement::ScriptJob;
use crate::engine::pool::EnginePool;
use crate::engine::run::ScriptBody;
use crate::error::Error;
use crate::state::{ContextValues, TypeMap};
use crate::sync::control::ScriptControl;
use crate::trace;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One run of a script, with its inputs and per-script settings; start it with
/// [`Bridge::script`](crate::Bridge::script).
///
/// ```
/// use bridge_runtime::Bridge;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Total {
///     items: i64,
///     price: f64,
/// }
///
/// let bridge = Bridge::new()?;
/// let total: Total = bridge
///     .script("#{ items: qty, price: qty * unit }")
///     .with("qty", 3)
///     .with("unit", 2.5)
///     .run_as()?;
/// assert_eq!((total.items, total.price), (3, 7.5));
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
#[must_use = "a ScriptRun does nothing until run, run_async or spawn"]
pub struct ScriptRun<'a> {
    pub(crate) pool: &'a EnginePool,
    pub(crate) script: Script,
    /// A bad one ends the run instead of starting it.
    pub(crate) inputs: NamedValues,
    pub(crate) context: TypeMap,
    pub(crate) timeout: Option<Duration>,
    pub(crate) tenant: Option<Arc<str>>,
}

impl ScriptRun<'_> {
    /// Gives the script a variable `name` holding `value`, converted as a function's return value
    /// is (a struct becomes an object map, a `Vec` an array, `serde_bytes` a blob). A second
    /// value for the same name replaces the first. A name a script cannot read as a variable (a
    /// keyword or reserved word of Rhai's: `let`, `print`, `this`, `Fn`), a value with no script
    /// form (a map with non-string keys), a value over the bridge's size limits (its strings,
    /// array items and map entries, each counted over everything nested in it as Rhai counts
    /// them, against `max_string_size`, `max_array_size` and `max_map_size`; nesting deeper than
    /// [`MAX_VALUE_DEPTH`](crate::MAX_VALUE_DEPTH)) or a `Serialize` that fails or panics makes the
    /// run end with [`Error::Input`] naming the variable and the limit, before the script starts.
    /// A value over a limit is refused as it is converted, before it is copied.
    ///
    /// Inputs are how values reach a script: never format them into its source.
    pub fn with(mut self, name: &str, value: impl Serialize) -> Self {
        let limits = self.pool.settings().value_limits;
        self.inputs.insert(name, &value, &limits);
        self
    }

    /// Names this run's script in errors and traces (see [`Script::named`]).
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.script.name = Some(name.into());
        self
    }

    /// Gives this run a value that functions taking `ScriptContext<T>` receive (one per type).
    pub fn context<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.context.insert(value);
        self
    }

    /// Runs the script for `tenant` (a user, an account: whoever submitted it). A bridge shares
    /// itself fairly between tenants: scripts waiting for a place are taken round the tenants
    /// (one tenant's 200 queued scripts get one place between each other tenant's), and on an
    /// engine thread the scripts ready to go on take turns by tenant, so one tenant's busy
    /// scripts get one turn between each other tenant's. See also
    /// [`BridgeBuilder::max_scripts_per_tenant`](crate::BridgeBuilder::max_scripts_per_tenant).
    ///
    /// Scripts given no tenant share one queue, first in first out, and take turns one by one.
    pub fn tenant(mut self, tenant: impl Into<Arc<str>>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// This run's wall-clock limit, instead of the bridge's `script_timeout`.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Runs the script, blocking this thread until it ends, and returns its final value as JSON.
    pub fn run(self) -> Result<Value, Error> {
        self.spawn().join()
    }

    /// Runs the script, blocking this thread, and returns its final value as a `T`.
    pub fn run_as<T: DeserializeOwned>(self) -> Result<T, Error> {
        self.run().and_then(value_as)
    }

    /// Runs the script without blocking; dropping the future cancels it.
    pub async fn run_async(self) -> Result<Value, Error> {
        CancelOnDrop(self.spawn()).await
    }

    /// Runs the script without blocking and returns its final value as a `T`; dropping the
    /// future cancels it.
    pub async fn run_async_as<T: DeserializeOwned>(self) -> Result<T, Error> {
        self.run_async().await.and_then(value_as)
    }

    /// Starts the script and returns at once with its handle.
    pub fn spawn(self) -> ScriptHandle {
        self.start(false)
    }

    /// Submits the script to the bridge's engine threads: to run, or only to be checked.
    pub(crate) fn start(self, check_only: bool) -> ScriptHandle {
        let runtime = self.pool.settings().calls.runtime.clone();
        let context = ContextValues::new(self.context, runtime);
        let control = Arc::new(ScriptControl::new(self.timeout, context));
        let (handle, outcome) = ScriptHandle::new(control.clone(), self.pool.may_spin());
        let inputs = match self.inputs.into_values() {
            Ok(inputs) => inputs,
            Err(error) => {
                outcome.send(Err(error));
                return handle;
            }
        };
        let job = ScriptJob {
            tenant: self.tenant,
            span: trace::script_span(self.script.name.as_deref()),
            body: ScriptBody {
                source: self.script.source,
                name: self.script.name,
                inputs,
                check_only,
            },
            control,
            outcome,
        };
        self.pool.submit(job);
        handle
    }
}

/// A script's final value as the type the host asked for.
fn value_as<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_json::from_value(value).map_err(|error| Error::ResultType {
        type_name: std::any::type_name::<T>(),
        message: error.to_string(),
    })
}

impl fmt::Debug for ScriptRun<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptRun")
            .field("script", &self.script)
            .field("inputs", &self.inputs.names())
            .field("timeout", &self.timeout)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}
