//! [`BridgeBuilder`]: a bridge's settings, and starting it.

use crate::api::bridge::Bridge;
use crate::api::exposure::exposed_functions;
use crate::api::inputs::NamedValues;
use crate::api::limits::Limits;
use crate::api::setting_bounds::{
    not_zero, within, MAX_ENGINE_THREADS, MAX_STACK_SIZE, MIN_STACK_SIZE,
};
use crate::call::call_records::RecordSettings;
use crate::call::env::CallSettings;
use crate::catch_unwind::describe_panic;
use crate::convert::size_limits::SizeLimits;
use crate::engine::build::{EngineHook, EngineSettings, ProgressHook};
use crate::engine::limits::ScriptLimits;
use crate::engine::output::{OutputTarget, ScriptOutput};
use crate::engine::placement::PoolSize;
use crate::engine::pool::EnginePool;
use crate::error::Error;
use crate::registered::function::unique_functions;
use crate::resource::table::ResourceSettings;
use crate::state::TypeMap;
use crate::sync::wait::SpinGate;
use crate::worker::call_threads::CallThreads;
use crate::worker::thread::Worker;
use serde::Serialize;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// A bridge's constructors, beside the builder they use (in `bridge.rs` they would make it and
/// this file import each other).
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

    /// A builder preset for untrusted scripts: [`Limits::sandboxed`] (operations, sizes,
    /// nesting, time, calls in flight; `eval`, `import` and capturing closures refused), at most
    /// 64 scripts at once, and `print`/`debug` discarded unless
    /// [`on_print`](BridgeBuilder::on_print) / [`on_debug`](BridgeBuilder::on_debug) is set.
    /// Every setting can still be changed on the builder, the limits by giving
    /// [`limits`](BridgeBuilder::limits) a changed [`Limits::sandboxed`].
    ///
    /// It does not choose which functions scripts may call: add `allow_function` /
    /// `allow_group`, or every registered function is exposed.
    pub fn sandboxed() -> BridgeBuilder {
        BridgeBuilder::sandbox()
    }
}

/// Settings for a [`Bridge`]; start with [`Bridge::builder`] or [`Bridge::sandboxed`].
pub struct BridgeBuilder {
    max_concurrent_scripts: usize,
    max_scripts_per_tenant: Option<usize>,
    /// `None`: the machine's default, raised to `min_engine_threads` if that is more.
    max_engine_threads: Option<usize>,
    min_engine_threads: usize,
    engine_idle_timeout: Duration,
    close_timeout: Duration,
    states: TypeMap,
    allowed_functions: Vec<String>,
    allowed_groups: Vec<String>,
    limits: Limits,
    output: ScriptOutput,
    stack_size: usize,
    spin_wait: bool,
    call_threads: CallThreads,
    /// A bad one fails `build`.
    globals: NamedValues,
    cached_scripts: usize,
    engine_hooks: Vec<EngineHook>,
    on_progress: Option<ProgressHook>,
    pub(crate) records: RecordSettings,
}

impl Default for BridgeBuilder {
    fn default() -> Self {
        Self {
            max_concurrent_scripts: 1024,
            max_scripts_per_tenant: None,
            max_engine_threads: None,
            min_engine_threads: 0,
            engine_idle_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(2),
            states: TypeMap::default(),
            allowed_functions: Vec::new(),
            allowed_groups: Vec::new(),
            limits: Limits::default(),
            output: ScriptOutput::default(),
            stack_size: crate::fiber::coroutine::DEFAULT_STACK_SIZE,
            spin_wait: true,
            call_threads: CallThreads::Worker,
            globals: NamedValues::globals(),
            cached_scripts: DEFAULT_CACHED_SCRIPTS,
            engine_hooks: Vec::new(),
            on_progress: None,
            records: RecordSettings::default(),
        }
    }
}

impl BridgeBuilder {
    /// The preset behind [`Bridge::sandboxed`], documented there.
    pub(crate) fn sandbox() -> Self {
        let mut builder = Self::default()
            .limits(Limits::sandboxed())
            .max_concurrent_scripts(64);
        builder.output = ScriptOutput::discarded();
        builder
    }

    // Which functions scripts may call, and the state they need.

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

    // What each script may do.

    /// What each script may do: operations, call depth, sizes, nesting, `eval`, `import`,
    /// capturing closures, its time, each call's time and its calls in flight (see [`Limits`];
    /// default [`Limits::default`], [`Bridge::sandboxed`]: [`Limits::sandboxed`]). The sizes
    /// also bound inputs, globals and dispatched commands.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    // What every script sees.

    /// A constant every script of this bridge sees as `name`, at the top level and inside its
    /// functions and closures (converted as [`ScriptRun::with`](crate::ScriptRun::with) converts
    /// inputs, and held to the same names and size limits, as they are once every setting is
    /// made). A script cannot assign to it or change it in place, an input may not hide it, and
    /// a script's own variable or parameter of that name does. Each read is a copy: keep globals
    /// to configuration-sized values. A bad name, or a value without a script form or over a
    /// limit, makes [`build`](Self::build) fail with [`Error::Input`] naming it.
    ///
    /// ```
    /// let bridge = bridge_runtime::Bridge::builder().global("vat", 20).build()?;
    /// let gross = bridge.run("fn gross(net) { net + net * vat / 100 } gross(50)")?;
    /// assert_eq!(gross, 60);
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    pub fn global(mut self, name: &str, value: impl Serialize) -> Self {
        // The size limits are known only at `build`, where every global is checked against them.
        self.globals.insert(name, &value, &SizeLimits::default());
        self
    }

    // Where scripts' output goes.

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

    // How scripts are scheduled: the queue, tenants, engine threads, fibers and their stacks.

    /// At most this many scripts run at once; more wait in a queue. Default 1024; at least 1
    /// (0 fails [`build`](Self::build)).
    pub fn max_concurrent_scripts(mut self, limit: usize) -> Self {
        self.max_concurrent_scripts = limit;
        self
    }

    /// At most this many scripts of one tenant ([`ScriptRun::tenant`](crate::ScriptRun::tenant))
    /// run at once; its others wait in the queue even while the bridge has room, so one tenant
    /// cannot take every place. No cap by default; scripts given no tenant are not capped.
    ///
    /// ```
    /// use bridge_runtime::Bridge;
    ///
    /// let bridge = Bridge::builder().max_scripts_per_tenant(2).build()?;
    /// let busy: Vec<_> = (0..3)
    ///     .map(|_| bridge.script("sleep(0.2); 1").tenant("acme").spawn())
    ///     .collect();
    /// // Another tenant's script starts at once.
    /// assert_eq!(bridge.script("40 + 2").tenant("globex").run()?, 42);
    /// for script in busy {
    ///     assert_eq!(script.join()?, 1);
    /// }
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    pub fn max_scripts_per_tenant(mut self, limit: usize) -> Self {
        self.max_scripts_per_tenant = Some(limit);
        self
    }

    /// At most this many engine threads (default: one less than the machine's cores, at least
    /// one, leaving a core for the worker). From 1 to 1,024, else [`build`](Self::build) fails
    /// with [`Error::Config`].
    ///
    /// Scripts share engine threads as fibers: while one waits on a call, another on the same
    /// thread runs, and a script that computes for more than a millisecond without calling lets
    /// the others on its thread have a turn. So scripts that mostly call async functions need few
    /// threads, and fewer threads than cores keep hand-offs cheap; raise this for scripts that
    /// mostly compute, so they run in parallel. A new script goes to an engine thread without
    /// scripts, else to a new thread while fewer than this run, else to the least busy one.
    pub fn max_engine_threads(mut self, limit: usize) -> Self {
        self.max_engine_threads = Some(limit);
        self
    }

    /// Starts this many engine threads with the bridge and keeps them (default 0: threads start
    /// as scripts arrive, and one stays); at most 1,024. The default
    /// [`max_engine_threads`](Self::max_engine_threads) is raised to at least this; one given
    /// explicitly must not be less, else [`build`](Self::build) fails with [`Error::Config`]. Each builds its Rhai engine once, about half a millisecond of
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

    /// How long a [resource](crate::Resource)'s close hook may run once its script lets it go
    /// (default 2 s); past it the hook is dropped, and the value with it. When the bridge drops,
    /// it waits at most this long for the hooks of every resource still open, which run all at
    /// once.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
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

    /// Runs calls on a multi-thread tokio runtime of the bridge's own with `threads` threads
    /// (from 1 to 1,024, else [`build`](Self::build) fails with [`Error::Config`]), so CPU work
    /// inside async functions (decoding, hashing, TLS) uses that many cores. By default every
    /// call runs on the bridge's one worker thread, the quickest hand-off for calls that mostly
    /// wait.
    ///
    /// Only a function whose future and value are `Send`, and that takes no
    /// [`Ref`](crate::Ref)/[`Mut`](crate::Mut), moves there; any other call (a `!Send` future, a
    /// method of a [`Resource`](crate::Resource), a function taking or returning one) keeps to
    /// the worker thread, which still takes every call and owns every resource: nothing fails to
    /// compile for it. A call on another thread sees that runtime as its tokio context (`tokio::spawn`
    /// spawns there). The runtime ends with the bridge: calls still on it are dropped.
    /// The last of `worker_threads` and [`runtime`](Self::runtime) given wins.
    pub fn worker_threads(mut self, threads: usize) -> Self {
        self.call_threads = CallThreads::Own(threads);
        self
    }

    /// Runs calls on the host's own runtime (a multi-thread one: `handle` of
    /// `#[tokio::main]`'s, say), as [`worker_threads`](Self::worker_threads) runs them on one of
    /// the bridge's: the same calls move there, and the rest keep to the bridge's worker thread.
    /// When the bridge drops, its calls still running there are aborted; should that runtime
    /// shut down first, they end with a `shutdown` error.
    ///
    /// Do not give it a current-thread runtime whose one thread then waits in
    /// [`Bridge::run`](crate::Bridge::run): the calls would wait for that thread for ever (until
    /// the script's deadline). [`build`](Self::build) refuses a current-thread runtime's handle
    /// for that reason.
    pub fn runtime(mut self, handle: tokio::runtime::Handle) -> Self {
        self.call_threads = CallThreads::Host(handle);
        self
    }

    /// Address space reserved for each running script's stack (default 64 MiB; from 256 KiB to
    /// 1 GiB, else [`build`](Self::build) fails with [`Error::Config`]). Only what a script uses
    /// is touched. Rhai recurses on it (script calls, nested
    /// data): a script that nests so deeply that less than a quarter of it (at most 4 MiB) is
    /// left ends with an error, whatever `max_call_depth` allows; 64 MiB is about 8,000 script
    /// call levels in a release build and 1,270 in an unoptimised one.
    pub fn script_stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes;
        self
    }

    /// How many parsed scripts each engine thread keeps (default 256; 0 keeps none), so that
    /// running a source again skips parsing it. The least recently used goes first, and a
    /// thread keeps about 32 MiB of parsed scripts at most (estimated at 18 bytes per byte of
    /// source, as measured for ordinary statements: so about 1.8 MB of sources), none larger
    /// than a quarter of that. A [`compile`](crate::Bridge::compile)d script is not counted:
    /// it stays parsed while the host holds it.
    pub fn script_cache(mut self, scripts: usize) -> Self {
        self.cached_scripts = scripts;
        self
    }

    // The Rhai engine itself.

    /// Changes every engine thread's Rhai engine, after the bridge's own setup: register sync
    /// helper functions, custom types, packages, a module resolver, custom syntax.
    ///
    /// Runs once per engine thread (and once when the bridge is built, to check it: a panic there
    /// makes [`build`](Self::build) fail). What it sets wins over the bridge's settings, so it
    /// can undo them: limits it raises (`set_max_operations`, ...) are raised even under
    /// [`Bridge::sandboxed`], a module resolver makes `import` work, `on_print`/`on_debug`
    /// replace the builder's; a function registered under an async function's name replaces it.
    /// Only the engine's `on_progress` stays the bridge's (it stops, time-slices and guards
    /// scripts): give yours to [`on_progress`](Self::on_progress) instead. The bridge's
    /// [`global`](Self::global)s are served by the engine's variable resolver (`on_var`): a hook
    /// that sets its own takes them away. Size limits a hook sets apply to inputs and globals too.
    ///
    /// ```
    /// let bridge = bridge_runtime::Bridge::builder()
    ///     .configure_engine(|engine| {
    ///         engine.register_fn("shout", |text: &str| text.to_uppercase());
    ///     })
    ///     .build()?;
    /// assert_eq!(bridge.run(r#"shout("hi")"#)?, "HI");
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    pub fn configure_engine(
        mut self,
        configure: impl Fn(&mut rhai::Engine) + Send + Sync + 'static,
    ) -> Self {
        self.engine_hooks.push(Arc::new(configure));
        self
    }

    /// Called with the count of operations so far on each operation of every script (Rhai's
    /// `on_progress`, which the bridge keeps for itself). Returning `Some(token)` ends the
    /// script with [`Error::Script`] quoting the token.
    pub fn on_progress(
        mut self,
        callback: impl Fn(u64) -> Option<rhai::Dynamic> + Send + Sync + 'static,
    ) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    // Starting the bridge.

    /// Starts the bridge: checks the registry and the settings, starts the worker.
    pub fn build(self) -> Result<Bridge, Error> {
        let max_engine_threads = self.check_settings()?;
        let engine_limits = self.limits.for_engine();
        let value_limits = effective_size_limits(&engine_limits, &self.engine_hooks)?;
        let globals = self.globals.into_values_within(&value_limits)?;
        let exposed = exposed_functions(
            unique_functions()?,
            &self.allowed_functions,
            &self.allowed_groups,
            &self.states,
        )?;
        let functions = exposed.functions;
        let returns: Vec<_> = functions
            .iter()
            .map(|function| (function.name(), function.script_returns()))
            .collect();
        let records = self.records.into_records(&returns)?;
        let spin_gate = if self.spin_wait {
            SpinGate::for_this_machine()
        } else {
            SpinGate::disabled()
        };
        let states = Arc::new(self.states);
        let resources = ResourceSettings {
            max_per_script: self.limits.max_resources_value(),
            close_timeout: self.close_timeout,
        };
        let worker = Worker::start(
            states.clone(),
            spin_gate.clone(),
            resources,
            self.call_threads,
        )?;
        let bridge_stopped = Arc::new(AtomicBool::new(false));
        let settings = EngineSettings {
            functions: functions.clone(),
            missing_state: exposed.missing_state,
            calls: CallSettings {
                commands: worker.commands(),
                bridge_stopped: bridge_stopped.clone(),
                call_timeout: self.limits.call_timeout_value(),
                max_calls_in_flight: self.limits.max_calls_in_flight_value(),
                spin_gate,
                runtime: worker.runtime(),
                states,
                records,
            },
            limits: engine_limits,
            output: self.output,
            stack_size: self.stack_size,
            globals,
            value_limits,
            cached_scripts: self.cached_scripts,
            engine_hooks: self.engine_hooks,
            on_progress: self.on_progress,
        };
        let pool = EnginePool::new(
            settings,
            PoolSize {
                min_threads: self.min_engine_threads,
                max_threads: max_engine_threads,
                max_scripts: self.max_concurrent_scripts,
                idle_timeout: self.engine_idle_timeout,
                max_scripts_per_tenant: self.max_scripts_per_tenant,
            },
        )?;
        Ok(Bridge {
            bridge_stopped,
            worker,
            pool,
            script_timeout: self.limits.script_timeout_value(),
            functions,
        })
    }
}

impl BridgeBuilder {
    /// Refuses a numeric setting the host cannot have (see `setting_bounds`); returns the
    /// number of engine threads to allow.
    fn check_settings(&self) -> Result<usize, Error> {
        let limits = self.limits.for_engine();
        not_zero("max_operations", limits.max_operations)?;
        let as_u64 = |limit: Option<usize>| limit.map(|limit| limit as u64);
        not_zero("max_string_size", as_u64(limits.max_string_size))?;
        not_zero("max_array_size", as_u64(limits.max_array_size))?;
        not_zero("max_map_size", as_u64(limits.max_map_size))?;
        not_zero("max_variables", as_u64(limits.max_variables))?;
        if let Some((top, inner)) = limits.max_expr_depths.filter(|(a, b)| *a == 0 || *b == 0) {
            return Err(Error::Config(format!(
                "Limits::max_expression_depth(({top}, {inner})) is out of range: Rhai reads 0 as \
                 no limit at all, not as none allowed; to lift the limit, give None"
            )));
        }
        within(
            "script_stack_size",
            self.stack_size,
            MIN_STACK_SIZE..=MAX_STACK_SIZE,
            "bytes: 256 KiB to 1 GiB",
        )?;
        within(
            "max_concurrent_scripts",
            self.max_concurrent_scripts,
            1..=usize::MAX,
            "at least one script must be able to run",
        )?;
        if let Some(cap) = self.max_scripts_per_tenant {
            within(
                "max_scripts_per_tenant",
                cap,
                1..=usize::MAX,
                "at least one script of a tenant must be able to run",
            )?;
        }
        match &self.call_threads {
            CallThreads::Worker => {}
            CallThreads::Own(threads) => within(
                "worker_threads",
                *threads,
                1..=MAX_ENGINE_THREADS,
                "each is an OS thread of the bridge's own runtime",
            )?,
            CallThreads::Host(handle) => {
                if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread {
                    return Err(Error::Config(
                        "BridgeBuilder::runtime was given a current-thread runtime: its one \
                         thread would run the calls only when it is not waiting for a script; \
                         give a multi-thread runtime's handle, or use worker_threads"
                            .to_owned(),
                    ));
                }
            }
        }
        within(
            "min_engine_threads",
            self.min_engine_threads,
            0..=MAX_ENGINE_THREADS,
            "each engine thread builds its own Rhai engine and reserves an 8 MiB stack",
        )?;
        match self.max_engine_threads {
            None => Ok(default_engine_threads().max(self.min_engine_threads)),
            Some(max) => {
                within(
                    "max_engine_threads",
                    max,
                    self.min_engine_threads.max(1)..=MAX_ENGINE_THREADS,
                    "at least one, and at least min_engine_threads; each engine thread builds \
                     its own Rhai engine and reserves an 8 MiB stack",
                )?;
                Ok(max)
            }
        }
    }
}

/// The size limits scripts will have: the bridge's, then whatever the `configure_engine` hooks
/// set. Runs each hook once on an engine like the bridge's, so that one that panics fails
/// `build` instead of every engine thread.
fn effective_size_limits(limits: &ScriptLimits, hooks: &[EngineHook]) -> Result<SizeLimits, Error> {
    let mut engine = if hooks.is_empty() {
        // Only the limits are read from it: no need for the standard library.
        rhai::Engine::new_raw()
    } else {
        rhai::Engine::new()
    };
    limits.apply(&mut engine);
    for hook in hooks {
        catch_unwind(AssertUnwindSafe(|| hook(&mut engine))).map_err(|panic| {
            Error::Config(format!(
                "configure_engine panicked: {}",
                describe_panic(panic)
            ))
        })?;
    }
    Ok(SizeLimits::of_engine(&engine))
}

/// Parsed scripts each engine thread keeps unless the builder says otherwise.
const DEFAULT_CACHED_SCRIPTS: usize = 256;

/// One less than the machine's cores (the worker needs one), at least one.
fn default_engine_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |cores| cores.get())
        .saturating_sub(1)
        .max(1)
}

impl fmt::Debug for BridgeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let globals = self.globals.names();
        f.debug_struct("BridgeBuilder")
            .field("allowed_functions", &self.allowed_functions)
            .field("allowed_groups", &self.allowed_groups)
            .field("globals", &globals)
            .field("limits", &self.limits)
            .field("max_concurrent_scripts", &self.max_concurrent_scripts)
            .field("max_engine_threads", &self.max_engine_threads)
            .field("call_threads", &self.call_threads)
            .field("engine_hooks", &self.engine_hooks.len())
            .field("mocks", &self.records.mock_names())
            .field("recording", &self.records.recorder.is_some())
            .field("replaying", &self.records.replay.is_some())
            .finish_non_exhaustive()
    }
}
