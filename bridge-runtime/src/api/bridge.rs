//! [`Bridge`]: the worker, the engine threads and the channels between them, and [`run`].

use crate::api::definitions::ScriptDefinitions;
use crate::api::dispatch;
use crate::api::handle::ScriptHandle;
use crate::api::inputs::NamedValues;
use crate::api::script::{IntoScript, Script};
use crate::api::script_run::ScriptRun;
use crate::call::command::ScriptCommand;
use crate::engine::pool::EnginePool;
use crate::error::Error;
use crate::registered::function::ScriptFunction;
use crate::resource::returned::ScriptValue;
use crate::state::TypeMap;
use crate::worker::thread::Worker;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Runs Rhai scripts that call `#[script_async]` functions.
///
/// A bridge owns one worker thread (a tokio runtime that performs the async calls) and a pool of
/// engine threads, each with its own Rhai engine (which is not `Send`), where scripts run as
/// fibers: while one waits on a call, another on the same thread runs. It is
/// `Send + Sync`: share it (`Arc<Bridge>` or a `static`) and call it from any number of threads;
/// calls from concurrent scripts run concurrently on the worker. Dropping it ends its threads.
///
/// ```
/// use bridge_runtime::{script_async, Bridge};
///
/// #[script_async]
/// async fn double(x: i64) -> i64 {
///     tokio::task::yield_now().await;
///     x * 2
/// }
///
/// let bridge = Bridge::new()?;
/// assert_eq!(bridge.run("double(21)")?, 42);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub struct Bridge {
    pub(crate) bridge_stopped: Arc<AtomicBool>,
    pub(crate) worker: Worker,
    pub(crate) pool: EnginePool,
    pub(crate) script_timeout: Option<Duration>,
    pub(crate) functions: Vec<&'static ScriptFunction>,
}

impl Bridge {
    /// Runs `script` and returns its final value as JSON (`()` is `null`), blocking this thread.
    ///
    /// Safe to call from any thread, including one inside a tokio runtime (it only blocks that
    /// thread); from async code prefer [`run_async`](Self::run_async).
    pub fn run(&self, script: impl IntoScript) -> Result<Value, Error> {
        self.script(script).run()
    }

    /// Runs `script` without blocking the calling thread: works from any tokio runtime,
    /// current-thread or multi-thread (or any other executor). Dropping the future cancels the
    /// script.
    pub async fn run_async(&self, script: impl IntoScript) -> Result<Value, Error> {
        self.script(script).run_async().await
    }

    /// Starts `script` and returns at once with a handle to cancel, join or await it.
    pub fn spawn(&self, script: impl IntoScript) -> ScriptHandle {
        self.script(script).spawn()
    }

    /// Prepares a run of `script` with its inputs ([`with`](ScriptRun::with)) and per-script
    /// settings (its [`ScriptContext`](crate::ScriptContext) values, its own time limit, a name).
    pub fn script(&self, script: impl IntoScript) -> ScriptRun<'_> {
        ScriptRun {
            pool: &self.pool,
            script: script.into_script(),
            inputs: NamedValues::default(),
            context: TypeMap::default(),
            timeout: self.script_timeout,
            tenant: None,
        }
    }

    /// Parses `source` on one of the bridge's engine threads and checks it as a run would
    /// (syntax, and what the bridge refuses, such as capturing closures in the sandbox), without
    /// running it. The [`Script`] it returns runs any number of times, from any thread, with
    /// different inputs, and is parsed at most once per engine thread: each engine thread that
    /// parsed it keeps it parsed, however large, while the returned `Script` or a clone of it
    /// lives (the cache of sources run as text does not count it or evict it).
    ///
    /// Blocks this thread while the script is parsed, like [`run`](Self::run).
    pub fn compile(&self, source: impl IntoScript) -> Result<Script, Error> {
        let mut script = source.into_script();
        script.source = script.source.kept_parsed();
        self.script(&script).start(true).join()?;
        Ok(script)
    }

    /// The functions this bridge's scripts can call, sorted by name.
    pub fn functions(&self) -> &[&'static ScriptFunction] {
        &self.functions
    }

    /// The functions scripts can call, with parameter names, script types and doc comments, as
    /// Rhai definition files (`.d.rhai`, for editor completion), Rhai's JSON metadata and
    /// signatures. Builds one engine on this thread as the engine threads build theirs; a
    /// `configure_engine` hook that panics is an [`Error::Config`].
    ///
    /// ```
    /// use bridge_runtime::{script_async, Bridge};
    ///
    /// /// Twice `x`.
    /// #[script_async]
    /// async fn twice(x: i64) -> i64 {
    ///     x * 2
    /// }
    ///
    /// let definitions = Bridge::new()?.definitions()?;
    /// assert!(definitions.single_file().contains("/// Twice `x`.\nfn twice(x: int) -> int;"));
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    pub fn definitions(&self) -> Result<ScriptDefinitions, Error> {
        ScriptDefinitions::of(self.pool.settings())
    }

    /// Makes the next engine thread that resumes a script fail as a bug in the bridge would, so
    /// that tests can check what follows: that thread's scripts end with [`Error::Internal`]
    /// saying so, the scripts waiting for it go to other threads, and a new thread takes its
    /// place. Not for use outside tests.
    #[doc(hidden)]
    pub fn __fail_an_engine_thread(&self) {
        self.pool.fail_one_thread();
    }

    /// The worker's tokio runtime, where every async function runs: for spawning work beside the
    /// calls (a background task that shares a connection pool with them), or for dropping a value
    /// that needs a runtime to drop.
    ///
    /// ```
    /// let bridge = bridge_runtime::Bridge::new()?;
    /// let (sender, received) = std::sync::mpsc::channel();
    /// bridge.runtime_handle().spawn(async move {
    ///     tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    ///     sender.send(42).unwrap();
    /// });
    /// assert_eq!(received.recv().unwrap(), 42);
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    pub fn runtime_handle(&self) -> tokio::runtime::Handle {
        self.worker.runtime()
    }

    /// How many engine threads are alive now (at most
    /// [`max_engine_threads`](crate::BridgeBuilder::max_engine_threads), or the minimum if higher).
    pub fn engine_threads(&self) -> usize {
        self.pool.live_threads()
    }

    /// Runs one command on the worker, outside any script, and blocks this thread until it
    /// finishes: a call of the function it names, with its arguments, the bridge's `State` and
    /// its `call_timeout`. Made for the command enum a `#[script_async] mod` writes (serde data:
    /// a queue or an RPC layer can carry it).
    ///
    /// A command gets what a script's call gets: a function the bridge does not expose (its
    /// allow-list) is an error of kind [`not_exposed`](crate::CallErrorKind::NotExposed); arguments
    /// nested deeper than [`MAX_VALUE_DEPTH`](crate::MAX_VALUE_DEPTH) or past the bridge's
    /// string, array or map limits are an `argument` error; the call is recorded when the bridge
    /// records. A mocked or replayed function serves JSON, which this typed form cannot give
    /// back as the function's Rust type: there it is a `recording` error pointing at
    /// [`dispatch_json`](Self::dispatch_json), which serves them. A function's failure is an
    /// [`Error::Call`] naming it; a function that needs a `ScriptContext` fails, since no script
    /// gives one. On one of a bridge's own threads it would wait on itself, so there it is
    /// [`Error::BlockingOnBridgeThread`] at once.
    ///
    /// ```
    /// #[bridge_runtime::script_async]
    /// mod shop {
    ///     pub async fn price(item: String, count: i64) -> Result<i64, String> {
    ///         match &item[..] {
    ///             "tea" => Ok(count * 3),
    ///             _ => Err(format!("no price for {item}")),
    ///         }
    ///     }
    /// }
    ///
    /// let bridge = bridge_runtime::Bridge::new()?;
    /// let command = shop::ShopCommand::Price(shop::PriceCommand { item: "tea".into(), count: 2 });
    /// assert_eq!(bridge.dispatch(command)?, 6);
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    pub fn dispatch<C: ScriptCommand + Serialize>(&self, command: C) -> Result<C::Output, Error>
    where
        C::Output: ScriptValue<Sent = C::Output> + Serialize,
    {
        dispatch::dispatch(&self.dispatch_target(), command)
    }

    /// [`dispatch`](Self::dispatch) of a command given as JSON
    /// (`{"function": "price", "arguments": {"item": "tea", "count": 2}}` for a module's command
    /// enum), with the function's value given back as JSON. JSON that is no such command is an
    /// [`Error::Call`] of kind `argument` saying why (quoting at most 200 bytes of it). Mocked and
    /// replayed functions are served as for a script (a mock on the worker's blocking pool).
    pub fn dispatch_json<C: ScriptCommand + DeserializeOwned>(
        &self,
        command: Value,
    ) -> Result<Value, Error>
    where
        C::Output: ScriptValue<Sent = C::Output> + Serialize,
    {
        dispatch::dispatch_json::<C>(&self.dispatch_target(), command)
    }

    fn dispatch_target(&self) -> dispatch::Target<'_> {
        dispatch::Target {
            functions: &self.functions,
            settings: self.pool.settings(),
            commands: self.worker.commands(),
        }
    }
}

impl fmt::Debug for Bridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let functions: Vec<&str> = self.functions.iter().map(|f| f.name()).collect();
        f.debug_struct("Bridge")
            .field("functions", &functions)
            .field("engine_threads", &self.engine_threads())
            .field("script_timeout", &self.script_timeout)
            .finish_non_exhaustive()
    }
}

impl Drop for Bridge {
    /// Stops running scripts at their next operation, drops calls in flight (their scripts end
    /// with an error), gives queued scripts a shutdown error, and joins every thread. Blocking
    /// work of its calls (`spawn_blocking`, a slow mock) gets a second to finish and then runs
    /// on, detached; the record's writer gets up to 5 seconds to write what is buffered.
    ///
    /// Dropped on one of its own threads (the last `Arc<Bridge>` held in a `State` or
    /// `ScriptContext` and let go inside a call), it joins nothing: the threads would wait on
    /// each other. They stop the same way and exit once the current call returns.
    fn drop(&mut self) {
        let on_own_thread = self.worker.is_current_thread() || self.pool.is_own_thread();
        self.bridge_stopped.store(true, Ordering::Relaxed);
        if on_own_thread {
            self.worker.detach();
        } else {
            self.worker.shutdown();
        }
        self.pool.shutdown(!on_own_thread);
    }
}

/// Runs `script` on a shared default [`Bridge`], created on first use, and returns its final
/// value as JSON. The default bridge has no `State`: a function that needs one fails when called,
/// saying so.
///
/// ```
/// assert_eq!(bridge_runtime::run("40 + 2")?, 42);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub fn run(script: impl IntoScript) -> Result<Value, Error> {
    default_bridge()?.run(script)
}

fn default_bridge() -> Result<&'static Bridge, Error> {
    static DEFAULT: OnceLock<Result<Bridge, Error>> = OnceLock::new();
    DEFAULT
        .get_or_init(Bridge::new)
        .as_ref()
        .map_err(Clone::clone)
}
