//! [`Bridge`]: the worker, the engine threads and the channels between them, and [`run`].

use crate::api::handle::{CancelOnDrop, ScriptHandle};
use crate::call::env::CallSettings;
use crate::call::registry::{unique_functions, ScriptFunction};
use crate::engine::build::EngineSettings;
use crate::engine::limits::ScriptLimits;
use crate::engine::output::{OutputTarget, ScriptOutput};
use crate::engine::placement::{PoolSize, ScriptJob};
use crate::engine::pool::EnginePool;
use crate::error::Error;
use crate::state::TypeMap;
use crate::sync::control::ScriptControl;
use crate::sync::wait::SpinGate;
use crate::worker::thread::Worker;
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
    bridge_stopped: Arc<AtomicBool>,
    worker: Worker,
    pool: EnginePool,
    script_timeout: Option<Duration>,
    functions: Vec<&'static ScriptFunction>,
}

impl Bridge {
    /// A bridge with every registered function and the default settings.
    ///
    /// Fails if two functions claim one script name, or a thread cannot start.
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// Starts configuring a bridge.
    pub fn builder() -> BridgeBuilder {
        BridgeBuilder::default()
    }

    /// A builder preset for untrusted scripts. Each limit can still be changed on the builder:
    ///
    /// | setting | value |
    /// |---|---|
    /// | `max_operations` | 1,000,000 |
    /// | `max_call_depth` | 32 |
    /// | `max_string_size` | 64 KiB |
    /// | `max_array_size`, `max_map_size` | 10,000 |
    /// | expression nesting | 64 (32 inside functions) |
    /// | `script_timeout` | 5 s |
    /// | `call_timeout` | 2 s |
    /// | `max_concurrent_scripts` | 64 |
    /// | `max_calls_in_flight` | 64 per script |
    /// | `eval` | disabled |
    /// | `import` | refused (no module resolver) |
    /// | variables in scope, script functions | 256 each |
    /// | closures that capture variables | refused (see [`capturing_closures`](BridgeBuilder::capturing_closures)) |
    /// | `print`, `debug` | discarded, unless [`on_print`](BridgeBuilder::on_print) / [`on_debug`](BridgeBuilder::on_debug) is set |
    ///
    /// It does not choose which functions scripts may call: add `allow_function` /
    /// `allow_group`, or every registered function is exposed.
    pub fn sandboxed() -> BridgeBuilder {
        let mut builder = BridgeBuilder::default()
            .max_operations(1_000_000)
            .max_call_depth(32)
            .max_string_size(64 * 1024)
            .max_array_size(10_000)
            .max_map_size(10_000)
            .script_timeout(Duration::from_secs(5))
            .call_timeout(Duration::from_secs(2))
            .max_concurrent_scripts(64)
            .max_calls_in_flight(64);
        builder.limits.max_expr_depths = Some((64, 32));
        builder.limits.disable_eval = true;
        builder.limits.disable_imports = true;
        builder.limits.max_variables = Some(256);
        builder.limits.max_functions = Some(256);
        builder.limits.refuse_capturing_closures = true;
        builder.output = ScriptOutput::discarded();
        builder
    }

    /// Runs `script` and returns its final value as JSON (`()` is `null`), blocking this thread.
    ///
    /// Safe to call from any thread, including one inside a tokio runtime (it only blocks that
    /// thread); from async code prefer [`run_async`](Self::run_async).
    pub fn run(&self, script: &str) -> Result<serde_json::Value, Error> {
        self.script(script).run()
    }

    /// Runs `script` without blocking the calling thread: works from any tokio runtime,
    /// current-thread or multi-thread (or any other executor). Dropping the future cancels the
    /// script.
    pub async fn run_async(&self, script: &str) -> Result<serde_json::Value, Error> {
        self.script(script).run_async().await
    }

    /// Starts `script` and returns at once with a handle to cancel, join or await it.
    pub fn spawn(&self, script: &str) -> ScriptHandle {
        self.script(script).spawn()
    }

    /// Prepares a run of `script` with per-script settings (its [`ScriptContext`](crate::ScriptContext)
    /// values, its own time limit).
    pub fn script<'a>(&'a self, script: &str) -> ScriptRun<'a> {
        ScriptRun {
            bridge: self,
            script: script.to_owned(),
            context: TypeMap::default(),
            timeout: self.script_timeout,
        }
    }

    /// The functions this bridge's scripts can call, sorted by name.
    pub fn functions(&self) -> &[&'static ScriptFunction] {
        &self.functions
    }

    /// How many engine threads are alive now (at most
    /// [`max_engine_threads`](BridgeBuilder::max_engine_threads), or the minimum if higher).
    pub fn engine_threads(&self) -> usize {
        self.pool.live_threads()
    }
}

impl Drop for Bridge {
    /// Stops running scripts at their next operation, drops calls in flight (their scripts end
    /// with an error), gives queued scripts a shutdown error, and joins every thread.
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

/// One run of a script, with its per-script settings; start it with [`Bridge::script`].
#[must_use = "a ScriptRun does nothing until run, run_async or spawn"]
pub struct ScriptRun<'a> {
    bridge: &'a Bridge,
    script: String,
    context: TypeMap,
    timeout: Option<Duration>,
}

impl ScriptRun<'_> {
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

    /// Runs the script, blocking this thread until it ends.
    pub fn run(self) -> Result<serde_json::Value, Error> {
        self.spawn().join()
    }

    /// Runs the script without blocking; dropping the future cancels it.
    pub async fn run_async(self) -> Result<serde_json::Value, Error> {
        CancelOnDrop(self.spawn()).await
    }

    /// Starts the script and returns at once with its handle.
    pub fn spawn(self) -> ScriptHandle {
        let control = Arc::new(ScriptControl::new(self.timeout, Arc::new(self.context)));
        let (handle, outcome) = ScriptHandle::new(control.clone());
        let job = ScriptJob {
            script: self.script,
            control,
            outcome,
        };
        self.bridge.pool.submit(job);
        handle
    }
}

/// Settings for a [`Bridge`]; start with [`Bridge::builder`] or [`Bridge::sandboxed`].
pub struct BridgeBuilder {
    max_concurrent_scripts: usize,
    max_engine_threads: usize,
    min_engine_threads: usize,
    engine_idle_timeout: Duration,
    states: TypeMap,
    allowed_functions: Vec<String>,
    allowed_groups: Vec<String>,
    limits: ScriptLimits,
    output: ScriptOutput,
    call_timeout: Option<Duration>,
    script_timeout: Option<Duration>,
    max_calls_in_flight: usize,
    stack_size: usize,
    spin_wait: bool,
}

impl Default for BridgeBuilder {
    fn default() -> Self {
        Self {
            max_concurrent_scripts: 1024,
            max_engine_threads: default_engine_threads(),
            min_engine_threads: 0,
            engine_idle_timeout: Duration::from_secs(10),
            states: TypeMap::default(),
            allowed_functions: Vec::new(),
            allowed_groups: Vec::new(),
            limits: ScriptLimits::default(),
            output: ScriptOutput::default(),
            call_timeout: None,
            script_timeout: None,
            max_calls_in_flight: DEFAULT_MAX_CALLS_IN_FLIGHT,
            stack_size: crate::sync::fiber::DEFAULT_STACK_SIZE,
            spin_wait: true,
        }
    }
}

impl BridgeBuilder {
    /// Shared state for functions that take a `State<T>` parameter (one value per type).
    /// A function whose state is not given is not exposed (or, if allowed by name or group,
    /// fails [`build`](Self::build)).
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.states.insert(value);
        self
    }

    /// Exposes the function scripts call `name`. Once any `allow_*` is given, only allowed
    /// functions exist for this bridge's scripts; calling another is Rhai's ordinary "function
    /// not found" error.
    pub fn allow_function(mut self, name: &str) -> Self {
        self.allowed_functions.push(name.to_owned());
        self
    }

    /// Exposes every function of `group` (`#[script_async(group = "...")]`). See
    /// [`allow_function`](Self::allow_function).
    pub fn allow_group(mut self, group: &str) -> Self {
        self.allowed_groups.push(group.to_owned());
        self
    }

    /// At most this many Rhai operations per script (Rhai's `set_max_operations`).
    pub fn max_operations(mut self, limit: u64) -> Self {
        self.limits.max_operations = Some(limit);
        self
    }

    /// At most this deep a chain of script function calls (Rhai's `set_max_call_levels`).
    pub fn max_call_depth(mut self, limit: usize) -> Self {
        self.limits.max_call_depth = Some(limit);
        self
    }

    /// Strings at most this many bytes long.
    pub fn max_string_size(mut self, limit: usize) -> Self {
        self.limits.max_string_size = Some(limit);
        self
    }

    /// Arrays at most this many items long.
    pub fn max_array_size(mut self, limit: usize) -> Self {
        self.limits.max_array_size = Some(limit);
        self
    }

    /// Object maps with at most this many entries.
    pub fn max_map_size(mut self, limit: usize) -> Self {
        self.limits.max_map_size = Some(limit);
        self
    }

    /// Whether scripts may define closures that capture variables (default `true`, as in Rhai;
    /// [`Bridge::sandboxed`]: `false`). A captured variable is shared between the scope and the
    /// closure, so `let m = #{}; m.f = || m;` forms a reference cycle that is never freed: memory
    /// a script can leak for good, however short it runs. Refused, a script with such a closure
    /// fails before it starts with an error naming the variable; closures that capture nothing
    /// (`|x| x * 2`) are always fine.
    pub fn capturing_closures(mut self, allowed: bool) -> Self {
        self.limits.refuse_capturing_closures = !allowed;
        self
    }

    /// Sends what scripts `print` to `hook`, one call per `print`, instead of the process's
    /// standard output (Rhai's default; [`Bridge::sandboxed`] discards it).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// let lines = Arc::new(Mutex::new(Vec::new()));
    /// let sink = lines.clone();
    /// let bridge = bridge_runtime::Bridge::sandboxed()
    ///     .on_print(move |line| sink.lock().unwrap().push(line.to_owned()))
    ///     .build()?;
    /// bridge.run(r#"print("hello")"#)?;
    /// assert_eq!(*lines.lock().unwrap(), ["hello"]);
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    pub fn on_print(mut self, hook: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.output.print = OutputTarget::Hook(Arc::new(hook));
        self
    }

    /// Sends what scripts `debug` to `hook` (the value's debug text), instead of the process's
    /// standard output (Rhai's default; [`Bridge::sandboxed`] discards it).
    pub fn on_debug(mut self, hook: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.output.debug = OutputTarget::Hook(Arc::new(hook));
        self
    }

    /// Each call's time limit, for functions without `#[script_async(timeout_ms = ...)]`. A call
    /// past it is dropped on the worker and raises a catchable error of kind `"timeout"`.
    pub fn call_timeout(mut self, limit: Duration) -> Self {
        self.call_timeout = Some(limit);
        self
    }

    /// Each script's wall-clock limit. A script past it ends promptly with [`Error::Timeout`],
    /// even while it waits on a call, and its calls in flight are dropped.
    pub fn script_timeout(mut self, limit: Duration) -> Self {
        self.script_timeout = Some(limit);
        self
    }

    /// At most this many calls started with `start` and not yet waited on, per script (default
    /// 4,096; [`Bridge::sandboxed`]: 64). One more `start` raises a catchable error of kind
    /// `"limit"`; waiting on a handle (or dropping it) frees its place. Without a bound, a script
    /// looping over `start` keeps every call's future and reply alive until it ends.
    pub fn max_calls_in_flight(mut self, limit: usize) -> Self {
        self.max_calls_in_flight = limit;
        self
    }

    /// Address space reserved for each running script's stack (default 64 MiB; at least
    /// 256 KiB). Only what a script uses is touched. Rhai recurses on it (script calls, nested
    /// data): a script that nests so deeply that less than a quarter of it (at most 4 MiB) is
    /// left ends with an error, whatever `max_call_depth` allows; 64 MiB is about 8,000 script
    /// call levels in a release build and 1,270 in an unoptimised one.
    pub fn script_stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes.max(MIN_STACK_SIZE);
        self
    }

    /// At most this many scripts run at once; more wait in a queue. Default 1024.
    pub fn max_concurrent_scripts(mut self, limit: usize) -> Self {
        self.max_concurrent_scripts = limit.max(1);
        self
    }

    /// At most this many engine threads (default: one less than the machine's cores, at least
    /// one, leaving a core for the worker).
    ///
    /// Scripts share engine threads as fibers: while one waits on a call, another on the same
    /// thread runs, and a script that computes for more than a millisecond without calling lets
    /// the others on its thread have a turn. So scripts that mostly call async functions need few
    /// threads, and fewer threads than cores keep hand-offs cheap; raise this for scripts that
    /// mostly compute, so they run in parallel. A new script goes to an engine thread without
    /// scripts, else to a new thread while fewer than this run, else to the least busy one.
    pub fn max_engine_threads(mut self, limit: usize) -> Self {
        self.max_engine_threads = limit.max(1);
        self
    }

    /// Starts this many engine threads with the bridge and keeps them (default 0: threads start
    /// as scripts arrive, and one stays); [`max_engine_threads`](Self::max_engine_threads) is
    /// raised to at least this. Each builds its Rhai engine once, about half a millisecond of
    /// CPU, which is then not paid when the first scripts arrive.
    pub fn min_engine_threads(mut self, count: usize) -> Self {
        self.min_engine_threads = count;
        self
    }

    /// An engine thread idle this long exits (one always stays, or `min_engine_threads`).
    /// Default 10 s.
    pub fn engine_idle_timeout(mut self, timeout: Duration) -> Self {
        self.engine_idle_timeout = timeout;
        self
    }

    /// Whether threads spin briefly before parking while they wait for a call or a command
    /// (default `true`). Spinning makes a quick call several times cheaper on a virtual machine,
    /// where waking a parked thread costs microseconds to tens of them; it adapts (spins back off
    /// while calls are slow or the machine is busy, at most one spinner per spare core). Turn it
    /// off to never use CPU while waiting.
    pub fn spin_wait(mut self, enabled: bool) -> Self {
        self.spin_wait = enabled;
        self
    }

    /// Starts the bridge: checks the registry and the settings, starts the worker.
    pub fn build(self) -> Result<Bridge, Error> {
        let functions = crate::api::exposure::exposed_functions(
            unique_functions()?,
            &self.allowed_functions,
            &self.allowed_groups,
            &self.states,
        )?;
        let spin_gate = if self.spin_wait {
            SpinGate::for_this_machine()
        } else {
            SpinGate::disabled()
        };
        let states = Arc::new(self.states);
        let worker = Worker::start(states.clone(), spin_gate.clone())?;
        let bridge_stopped = Arc::new(AtomicBool::new(false));
        let settings = EngineSettings {
            functions: functions.clone(),
            calls: CallSettings {
                commands: worker.commands(),
                bridge_stopped: bridge_stopped.clone(),
                call_timeout: self.call_timeout,
                max_calls_in_flight: self.max_calls_in_flight,
                spin_gate,
                runtime: worker.runtime(),
                states,
            },
            limits: self.limits,
            output: self.output,
            stack_size: self.stack_size,
        };
        let pool = EnginePool::new(
            settings,
            PoolSize {
                min_threads: self.min_engine_threads,
                max_threads: self.max_engine_threads,
                max_scripts: self.max_concurrent_scripts,
                idle_timeout: self.engine_idle_timeout,
            },
        )?;
        Ok(Bridge {
            bridge_stopped,
            worker,
            pool,
            script_timeout: self.script_timeout,
            functions,
        })
    }
}

/// Calls in flight per script unless the builder says otherwise: far more than a script that
/// fans out needs, few enough that a runaway loop of `start` stays in megabytes.
const DEFAULT_MAX_CALLS_IN_FLIGHT: usize = 4096;

/// The smallest script stack `script_stack_size` accepts.
const MIN_STACK_SIZE: usize = 256 * 1024;

/// One less than the machine's cores (the worker needs one), at least one.
fn default_engine_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |cores| cores.get())
        .saturating_sub(1)
        .max(1)
}

/// Runs `script` on a shared default [`Bridge`], created on first use, and returns its final
/// value as JSON. The default bridge exposes every registered function that needs no `State`.
///
/// ```
/// assert_eq!(bridge_runtime::run("40 + 2")?, 42);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub fn run(script: &str) -> Result<serde_json::Value, Error> {
    default_bridge()?.run(script)
}

fn default_bridge() -> Result<&'static Bridge, Error> {
    static DEFAULT: OnceLock<Result<Bridge, Error>> = OnceLock::new();
    DEFAULT
        .get_or_init(Bridge::new)
        .as_ref()
        .map_err(Clone::clone)
}
