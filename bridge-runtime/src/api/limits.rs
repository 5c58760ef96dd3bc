//! [`Limits`]: what one script may do, as one value a bridge is given.

use crate::engine::limits::ScriptLimits;
use std::time::Duration;

/// What one script may do: Rhai's own limits, the constructs the sandbox refuses, and time.
///
/// Start from [`Limits::default`] (Rhai's defaults: almost nothing limited) or
/// [`Limits::sandboxed`] (for untrusted scripts), change what you need with the method of the
/// same name (each takes the value, or `None` to lift the limit), and give it to
/// [`BridgeBuilder::limits`](crate::BridgeBuilder::limits). Nothing is clamped: a value the
/// bridge cannot have (a size limit of 0, which Rhai reads as unlimited) fails
/// [`build`](crate::BridgeBuilder::build) with [`Error::Config`](crate::Error::Config) naming it.
///
/// ```
/// use bridge_runtime::{Bridge, Limits};
/// use std::time::Duration;
///
/// let limits = Limits::sandboxed()
///     .max_operations(5_000_000)
///     .script_timeout(Duration::from_secs(10));
/// let bridge = Bridge::sandboxed().limits(limits).build()?;
/// assert_eq!(bridge.run("40 + 2")?, 42);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    // Each is described at the method of its name.
    max_operations: Option<u64>,
    max_call_depth: Option<usize>,
    max_string_size: Option<usize>,
    max_array_size: Option<usize>,
    max_map_size: Option<usize>,
    max_expression_depth: Option<(usize, usize)>,
    max_variables: Option<usize>,
    max_functions: Option<usize>,
    max_script_size: Option<usize>,
    eval: bool,
    imports: bool,
    capturing_closures: bool,
    script_timeout: Option<Duration>,
    call_timeout: Option<Duration>,
    max_calls_in_flight: usize,
    max_resources: usize,
}

/// Calls in flight per script by default: far more than a script that fans out needs, few
/// enough that a runaway loop of `start` stays in megabytes.
const DEFAULT_MAX_CALLS_IN_FLIGHT: usize = 4096;

/// Open resources per script by default: far more than a script that works on a few
/// connections and cursors needs, few enough that a loop opening them stays bounded.
const DEFAULT_MAX_RESOURCES: usize = 4096;

impl Default for Limits {
    /// Rhai's defaults: no operation, size or time limit, `eval`, `import` and capturing
    /// closures allowed; 4,096 calls in flight and 4,096 open resources per script.
    fn default() -> Self {
        Self {
            max_operations: None,
            max_call_depth: None,
            max_string_size: None,
            max_array_size: None,
            max_map_size: None,
            max_expression_depth: None,
            max_variables: None,
            max_functions: None,
            max_script_size: None,
            eval: true,
            imports: true,
            capturing_closures: true,
            script_timeout: None,
            call_timeout: None,
            max_calls_in_flight: DEFAULT_MAX_CALLS_IN_FLIGHT,
            max_resources: DEFAULT_MAX_RESOURCES,
        }
    }
}

impl Limits {
    /// The limits of [`Bridge::sandboxed`](crate::Bridge::sandboxed), for untrusted scripts:
    ///
    /// | field | value |
    /// |---|---|
    /// | `max_operations` | 1,000,000 |
    /// | `max_call_depth` | 32 |
    /// | `max_string_size` | 64 KiB |
    /// | `max_array_size`, `max_map_size` | 10,000 |
    /// | `max_expression_depth` | 64 (32 inside functions) |
    /// | `max_variables`, `max_functions` | 256 each |
    /// | `max_script_size` | 64 KiB |
    /// | `eval`, `imports`, `capturing_closures` | `false` |
    /// | `script_timeout` | 5 s |
    /// | `call_timeout` | 2 s |
    /// | `max_calls_in_flight` | 64 |
    /// | `max_resources` | 64 |
    pub fn sandboxed() -> Self {
        Self {
            max_operations: Some(1_000_000),
            max_call_depth: Some(32),
            max_string_size: Some(64 * 1024),
            max_array_size: Some(10_000),
            max_map_size: Some(10_000),
            max_expression_depth: Some((64, 32)),
            max_variables: Some(256),
            max_functions: Some(256),
            max_script_size: Some(64 * 1024),
            eval: false,
            imports: false,
            capturing_closures: false,
            script_timeout: Some(Duration::from_secs(5)),
            call_timeout: Some(Duration::from_secs(2)),
            max_calls_in_flight: 64,
            max_resources: 64,
        }
    }

    /// At most this many Rhai operations per script (Rhai's `set_max_operations`). At least 1:
    /// give `u64::MAX` for no limit.
    pub fn max_operations(mut self, limit: impl Into<Option<u64>>) -> Self {
        self.max_operations = limit.into();
        self
    }

    /// At most this deep a chain of script function calls (Rhai's `set_max_call_levels`).
    pub fn max_call_depth(mut self, limit: impl Into<Option<usize>>) -> Self {
        self.max_call_depth = limit.into();
        self
    }

    /// Strings at most this many bytes long; inputs and globals too (see
    /// [`ScriptRun::with`](crate::ScriptRun::with)). At least 1 (Rhai reads 0 as unlimited).
    pub fn max_string_size(mut self, limit: impl Into<Option<usize>>) -> Self {
        self.max_string_size = limit.into();
        self
    }

    /// Arrays at most this many items long (a blob's bytes count as items); inputs, globals and
    /// dispatched commands too. At least 1.
    pub fn max_array_size(mut self, limit: impl Into<Option<usize>>) -> Self {
        self.max_array_size = limit.into();
        self
    }

    /// Object maps with at most this many entries; inputs, globals and dispatched commands too.
    /// At least 1.
    pub fn max_map_size(mut self, limit: impl Into<Option<usize>>) -> Self {
        self.max_map_size = limit.into();
        self
    }

    /// How deeply expressions may nest: at the top level, and inside functions (Rhai's
    /// `set_max_expr_depths`).
    pub fn max_expression_depth(mut self, limit: impl Into<Option<(usize, usize)>>) -> Self {
        self.max_expression_depth = limit.into();
        self
    }

    /// At most this many variables in scope at once (Rhai's `set_max_variables`).
    pub fn max_variables(mut self, limit: impl Into<Option<usize>>) -> Self {
        self.max_variables = limit.into();
        self
    }

    /// At most this many script functions defined (Rhai's `set_max_functions`).
    pub fn max_functions(mut self, limit: impl Into<Option<usize>>) -> Self {
        self.max_functions = limit.into();
        self
    }

    /// Scripts longer than this many bytes are refused before they are parsed, with
    /// [`Error::Script`](crate::Error::Script) saying so. Rhai's parser takes time quadratic in
    /// the number of statements (a 234 KiB script of short statements: 1.2 s), and nothing
    /// interrupts a parse, not even the script's deadline.
    pub fn max_script_size(mut self, limit: impl Into<Option<usize>>) -> Self {
        self.max_script_size = limit.into();
        self
    }

    /// Whether scripts may call `eval` (it runs text as script, out of reach of review).
    pub fn eval(mut self, allowed: bool) -> Self {
        self.eval = allowed;
        self
    }

    /// Whether `import` loads modules (Rhai's default resolver reads `.rhai` files from the
    /// file system); when `false` it is refused, unless a
    /// [`configure_engine`](crate::BridgeBuilder::configure_engine) hook sets a resolver.
    pub fn imports(mut self, allowed: bool) -> Self {
        self.imports = allowed;
        self
    }

    /// Whether scripts may define closures that capture variables. A captured variable is
    /// shared between the scope and the closure, so `let m = #{}; m.f = || m;` forms a
    /// reference cycle that is never freed: memory a script can leak for good, however short
    /// it runs. Refused, a script with such a closure fails before it starts with an error
    /// naming the variable; closures that capture nothing (`|x| x * 2`) are always fine, and so
    /// are closures that use a [`global`](crate::BridgeBuilder::global) (it is constant).
    pub fn capturing_closures(mut self, allowed: bool) -> Self {
        self.capturing_closures = allowed;
        self
    }

    /// Each script's wall-clock limit. A script past it ends promptly with
    /// [`Error::Timeout`](crate::Error::Timeout), even while it waits on a call, and its calls
    /// in flight are dropped.
    pub fn script_timeout(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.script_timeout = limit.into();
        self
    }

    /// Each call's time limit, for functions without `#[script_async(timeout_ms = ...)]`. A call
    /// past it is dropped on the worker and raises a catchable error of kind `"timeout"`.
    pub fn call_timeout(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.call_timeout = limit.into();
        self
    }

    /// At most this many calls started with `start` and not yet waited on, per script. One more
    /// `start` raises a catchable error of kind `"limit"`; waiting on a handle (or dropping it)
    /// frees its place. Without a bound, a script looping over `start` keeps every call's future
    /// and reply alive until it ends.
    pub fn max_calls_in_flight(mut self, limit: usize) -> Self {
        self.max_calls_in_flight = limit;
        self
    }

    /// At most this many open [resources](crate::Resource) per script. A call that would give
    /// the script one more fails with a catchable error of kind `limit` (and the resource it
    /// made is closed at once). Resources the script let go of (no script value refers to them
    /// any more) or consumed (a method taking `self`) do not count.
    pub fn max_resources(mut self, limit: usize) -> Self {
        self.max_resources = limit;
        self
    }

    pub(crate) fn max_resources_value(&self) -> usize {
        self.max_resources
    }

    pub(crate) fn script_timeout_value(&self) -> Option<Duration> {
        self.script_timeout
    }

    pub(crate) fn call_timeout_value(&self) -> Option<Duration> {
        self.call_timeout
    }

    pub(crate) fn max_calls_in_flight_value(&self) -> usize {
        self.max_calls_in_flight
    }

    /// What each engine applies of these.
    pub(crate) fn for_engine(&self) -> ScriptLimits {
        ScriptLimits {
            max_operations: self.max_operations,
            max_call_depth: self.max_call_depth,
            max_string_size: self.max_string_size,
            max_array_size: self.max_array_size,
            max_map_size: self.max_map_size,
            max_expr_depths: self.max_expression_depth,
            disable_eval: !self.eval,
            disable_imports: !self.imports,
            max_variables: self.max_variables,
            max_functions: self.max_functions,
            refuse_capturing_closures: !self.capturing_closures,
            max_script_size: self.max_script_size,
        }
    }
}
