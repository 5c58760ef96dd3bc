//! [`ScriptRun`]: one run of a script, with its inputs and per-script settings.

use crate::api::handle::{CancelOnDrop, ScriptHandle};
use crate::api::inputs::input_value;
use crate::api::script::Script;
use crate::convert::sendable::SendableValue;
use crate::engine::placement::ScriptJob;
use crate::engine::pool::EnginePool;
use crate::engine::run::ScriptBody;
use crate::error::Error;
use crate::state::TypeMap;
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
    pub(crate) inputs: Vec<(String, SendableValue)>,
    /// The first input that could not be taken: the run ends with it instead of starting.
    pub(crate) bad_input: Option<Error>,
    pub(crate) context: TypeMap,
    pub(crate) timeout: Option<Duration>,
}

impl ScriptRun<'_> {
    /// Gives the script a variable `name` holding `value`, converted as a function's return value
    /// is (a struct becomes an object map, a `Vec` an array, `serde_bytes` a blob). A second
    /// value for the same name replaces the first. A name that cannot be a variable, a value
    /// with no script form (a map with non-string keys, nesting deeper than
    /// [`MAX_VALUE_DEPTH`](crate::MAX_VALUE_DEPTH)) or a `Serialize` that fails or panics makes the
    /// run end with [`Error::Input`] naming the variable, before the script starts.
    ///
    /// Inputs are how values reach a script: never format them into its source.
    pub fn with(mut self, name: &str, value: impl Serialize) -> Self {
        if self.bad_input.is_some() {
            return self;
        }
        match input_value(name, &value) {
            Ok(value) => match self.inputs.iter_mut().find(|(known, _)| known == name) {
                Some((_, slot)) => *slot = value,
                None => self.inputs.push((name.to_owned(), value)),
            },
            Err(error) => self.bad_input = Some(error),
        }
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
        let control = Arc::new(ScriptControl::new(self.timeout, Arc::new(self.context)));
        let (handle, outcome) = ScriptHandle::new(control.clone());
        if let Some(error) = self.bad_input {
            outcome.send(Err(error));
            return handle;
        }
        let job = ScriptJob {
            span: trace::script_span(self.script.name.as_deref()),
            body: ScriptBody {
                source: self.script.source,
                name: self.script.name,
                inputs: self.inputs,
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
        let inputs: Vec<&str> = self.inputs.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("ScriptRun")
            .field("script", &self.script)
            .field("inputs", &inputs)
            .field("bad_input", &self.bad_input)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
