//! [`BridgeBuilder`]: a bridge's settings, and starting it.

use crate::api::bridge::Bridge;
use crate::api::exposure::exposed_functions;
use crate::api::inputs::NamedValues;
use crate::api::setting_bounds::{
    not_zero, within, MAX_ENGINE_THREADS, MAX_STACK_SIZE, MIN_STACK_SIZE,
};
use crate::call::env::CallSettings;
use crate::call::recorded::RecordSettings;
use crate::call::registry::unique_functions;
use crate::catch_unwind::describe_panic;
use crate::convert::size_limits::SizeLimits;
use crate::engine::build::{EngineHook, EngineSettings, ProgressHook};
use crate::engine::limits::ScriptLimits;
use crate::engine::output::{OutputTarget, ScriptOutput};
use crate::engine::placement::PoolSize;
use crate::engine::pool::EnginePool;
use crate::error::Error;
use crate::state::TypeMap;
use crate::sync::wait::SpinGate;
use crate::worker::thread::Worker;
use serde::Serialize;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// A bridge's constructors, beside the builder they use.
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
    /// | script source | 64 KiB (see [`max_script_size`](BridgeBuilder::max_script_size)) |
    /// | `print`, `debug` | discarded, unless [`on_print`](BridgeBuilder::on_print) / [`on_debug`](BridgeBuilder::on_debug) is set |
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
        builder.limits.max_script_size = Some(64 * 1024);
        builder.output = ScriptOutput::discarded();
        builder
    }

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

    /// At most this many Rhai operations per script (Rhai's `set_max_operations`). At least 1
    /// (Rhai reads 0 as unlimited, so [`build`](Self::build) refuses it: give `u64::MAX`).
    pub fn max_operations(mut self, limit: u64) -> Self {
        self.limits.max_operations = Some(limit);
        self
    }

    /// At most this deep a chain of script function calls (Rhai's `set_max_call_levels`).
    pub fn max_call_depth(mut self, limit: usize) -> Self {
        self.limits.max_call_depth = Some(limit);
        self
    }

    /// Strings at most this many bytes long; inputs and globals too (see
    /// [`ScriptRun::with`](crate::ScriptRun::with)). At least 1 (Rhai reads 0 as unlimited, so
    /// [`build`](Self::build) refuses it: give `usize::MAX`).
    pub fn max_string_size(mut self, limit: usize) -> Self {
        self.limits.max_string_size = Some(limit);
        self
    }

    /// Arrays at most this many items long (a blob's bytes count as items); inputs and globals
    /// too. At least 1 (0 is refused at [`build`](Self::build), as for `max_string_size`).
    pub fn max_array_size(mut self, limit: usize) -> Self {
        self.limits.max_array_size = Some(limit);
        self
    }

    /// Object maps with at most this many entries; inputs and globals too. At least 1 (0 is
    /// refused at [`build`](Self::build), as for `max_string_size`).
    pub fn max_map_size(mut self, limit: usize) -> Self {
        self.limits.max_map_size = Some(limit);
        self
    }

    /// Scripts longer than this many bytes are refused before they are parsed, with
    /// [`Error::Script`] saying so (default: no limit; [`Bridge::sandboxed`]: 64 KiB). Rhai's
    /// parser takes time quadratic in the number of statements (a 234 KiB script of short
    /// statements: 1.2 s), and nothing interrupts a parse, not even the script's deadline.
    pub fn max_script_size(mut self, bytes: usize) -> Self {
        self.limits.max_script_size = Some(bytes);
        self
    }

    /// Whether scripts may define closures that capture variables (default `true`, as in Rhai;
    /// [`Bridge::sandboxed`]: `false`). A captured variable is shared between the scope and the
    /// closure, so `let m = #{}; m.f = || m;` forms a reference cycle that is never freed: memory
    /// a script can leak for good, however short it runs. Refused, a script with such a closure
    /// fails before it starts with an error naming the variable; closures that capture nothing
    /// (`|x| x * 2`) are always fine, and so are closures that use a [`global`](Self::global)
    /// (it is constant: it can never hold the closure).
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

    /// Whether threads spin briefly before parking while they wait for a call or a command
    /// (default `true`). Spinning makes a quick call several times cheaper on a virtual machine,
    /// where waking a parked thread costs microseconds to tens of them; it adapts (spins back off
    /// while calls are slow or the machine is busy, at most one spinner per spare core). Turn it
    /// off to never use CPU while waiting.
    pub fn spin_wait(mut self, enabled: bool) -> Self {
        self.spin_wait = enabled;
        self
    }

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

    /// Starts the bridge: checks the registry and the settings, starts the worker.
    pub fn build(self) -> Result<Bridge, Error> {
        let max_engine_threads = self.check_settings()?;
        let value_limits = effective_size_limits(&self.limits, &self.engine_hooks)?;
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
        let worker = Worker::start(states.clone(), spin_gate.clone())?;
        let bridge_stopped = Arc::new(AtomicBool::new(false));
        let settings = EngineSettings {
            functions: functions.clone(),
            missing_state: exposed.missing_state,
            calls: CallSettings {
                commands: worker.commands(),
                bridge_stopped: bridge_stopped.clone(),
                call_timeout: self.call_timeout,
                max_calls_in_flight: self.max_calls_in_flight,
                spin_gate,
                runtime: worker.runtime(),
                states,
                records,
            },
            limits: self.limits,
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
            script_timeout: self.script_timeout,
            functions,
        })
    }
}

impl BridgeBuilder {
    /// Refuses a numeric setting the host cannot have (see `setting_bounds`); returns the
    /// number of engine threads to allow.
    fn check_settings(&self) -> Result<usize, Error> {
        let limits = &self.limits;
        not_zero("max_operations", limits.max_operations, "u64::MAX")?;
        let as_u64 = |limit: Option<usize>| limit.map(|limit| limit as u64);
        not_zero(
            "max_string_size",
            as_u64(limits.max_string_size),
            "usize::MAX",
        )?;
        not_zero(
            "max_array_size",
            as_u64(limits.max_array_size),
            "usize::MAX",
        )?;
        not_zero("max_map_size", as_u64(limits.max_map_size), "usize::MAX")?;
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

/// Calls in flight per script unless the builder says otherwise: far more than a script that
/// fans out needs, few enough that a runaway loop of `start` stays in megabytes.
const DEFAULT_MAX_CALLS_IN_FLIGHT: usize = 4096;

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
            .field("script_timeout", &self.script_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("max_concurrent_scripts", &self.max_concurrent_scripts)
            .field("max_engine_threads", &self.max_engine_threads)
            .field("max_calls_in_flight", &self.max_calls_in_flight)
            .field("engine_hooks", &self.engine_hooks.len())
            .field("mocks", &self.records.mock_names())
            .field("recording", &self.records.recorder.is_some())
            .field("replaying", &self.records.replay.is_some())
            .finish_non_exhaustive()
    }
}
