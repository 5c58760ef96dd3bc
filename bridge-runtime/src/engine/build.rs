//! Building an engine thread's Rhai engine: the proxies, the bridge's own functions, its limits,
//! and the progress check that stops, time-slices and guards the stack of running scripts.

use crate::call::env::{BoundEnv, CallSettings, EngineEnv};
use crate::call::mode::CallMode;
use crate::call::proxy::ScriptCall;
use crate::call::running_script::call_error;
use crate::convert::sendable::SendableValue;
use crate::convert::size_limits::SizeLimits;
use crate::engine::limits::ScriptLimits;
use crate::engine::output::ScriptOutput;
use crate::engine::run::{HostStop, ScriptGlobals, STACK_EXHAUSTED};
use crate::engine::{start_wait, stdlib};
use crate::error::CallErrorKind;
use crate::fiber::coroutine::{self as fiber, Suspend};
use crate::registered::function::ScriptFunction;
use crate::sync::control::StopReason;
use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Module, NativeCallContext, RhaiFunc};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What every engine thread of one bridge needs to build its engine.
pub(crate) struct EngineSettings {
    /// The functions this bridge exposes.
    pub(crate) functions: Vec<&'static ScriptFunction>,
    /// Functions whose state this bridge lacks, each with the state's type: calling one is an
    /// error that says so (rather than Rhai's "function not found").
    pub(crate) missing_state: Vec<(&'static ScriptFunction, &'static str)>,
    /// What the proxies' calls need.
    pub(crate) calls: CallSettings,
    pub(crate) limits: ScriptLimits,
    /// Where `print` and `debug` output goes.
    pub(crate) output: ScriptOutput,
    /// Address space reserved for each script's stack.
    pub(crate) stack_size: usize,
    /// Constants every script starts with.
    pub(crate) globals: Vec<(String, SendableValue)>,
    /// The size limits of the engines (after the host's hooks), which inputs are held to.
    pub(crate) value_limits: SizeLimits,
    /// How many parsed scripts each engine thread keeps.
    pub(crate) cached_scripts: usize,
    /// The host's own engine settings, applied after the bridge's.
    pub(crate) engine_hooks: Vec<EngineHook>,
    /// The host's progress callback, called from the bridge's own.
    pub(crate) on_progress: Option<ProgressHook>,
}

/// A host's `configure_engine` callback.
pub(crate) type EngineHook = Arc<dyn Fn(&mut Engine) + Send + Sync>;

/// A host's `on_progress` callback: given the operations so far, `Some(token)` ends the script.
pub(crate) type ProgressHook = Arc<dyn Fn(u64) -> Option<Dynamic> + Send + Sync>;

/// A script ends with an error once less than this much of its fiber's stack is left (or a
/// quarter of a smaller stack): room for the recursion between two checks, and for unwinding. An unoptimised build takes about
/// 48 KiB per script call level, so 16 levels (at least one operation each) are under 1 MiB.
const STACK_RESERVE: usize = 4 * 1024 * 1024;

/// The stack is checked once per this many operations: checking on every one made CPU-bound
/// scripts 5-9% slower.
const OPERATIONS_PER_STACK_CHECK: u64 = 16;

/// Stop checks read the clock, so they run once per this many operations (a few microseconds).
/// A multiple of `OPERATIONS_PER_STACK_CHECK`.
const OPERATIONS_PER_STOP_CHECK: u64 = 64;

/// Builds an engine with Rhai's standard library, a proxy for each function, the in-flight call
/// functions, the bridge's limits and then the host's `configure_engine` hooks.
///
/// Built once per engine thread and reused for every script it runs: `Engine::new()` rebuilds the
/// standard library each time, which costs more than most scripts.
pub(crate) fn build_engine(
    settings: &EngineSettings,
    env: &Rc<EngineEnv>,
    globals: &ScriptGlobals,
) -> Engine {
    let mut engine = Engine::new();
    let mut functions = Module::new();
    for &function in &settings.functions {
        let env = BoundEnv::new(env);
        let proxy = function.proxy();
        register_with_metadata(&mut functions, function, move |context, args| {
            let env = env.get(context.call_position())?;
            proxy(&mut ScriptCall::new(
                context,
                args,
                env,
                function.callee(),
                CallMode::Wait,
            ))
        });
    }
    for &(function, state) in &settings.missing_state {
        register_missing_state(&mut functions, env, function, state);
    }
    crate::call::stream_pull::register(&mut engine, &mut functions, env, settings.value_limits);
    engine.register_global_module(functions.into());
    for function in &settings.functions {
        for resource in function.resource_types() {
            resource.register(&mut engine);
        }
    }
    start_wait::register(&mut engine, env, &settings.functions);
    stdlib::register(&mut engine, env);
    settings.limits.apply(&mut engine);
    settings.output.apply(&mut engine);
    register_globals(&mut engine, globals);
    for hook in &settings.engine_hooks {
        hook(&mut engine);
    }

    // Installed after the host's hooks, so that none of them can take away the checks that stop,
    // time-slice and guard scripts; the host's own progress callback is called from here.
    let checks = ProgressChecks {
        env: BoundEnv::new(env),
        bridge_stopped: settings.calls.bridge_stopped.clone(),
        stack_reserve: (settings.stack_size / 4).min(STACK_RESERVE),
    };
    // Rhai calls this on every operation, so the path taken 15 times in 16 is one test of the
    // count; the host's callback, if any, is called on every operation as Rhai would.
    match settings.on_progress.clone() {
        None => engine.on_progress(move |operations| {
            if !operations.is_multiple_of(OPERATIONS_PER_STACK_CHECK) {
                return None;
            }
            checks.check(operations)
        }),
        Some(host) => engine.on_progress(move |operations| {
            if let Some(token) = host(operations) {
                return Some(Dynamic::from(HostStop(token)));
            }
            if !operations.is_multiple_of(OPERATIONS_PER_STACK_CHECK) {
                return None;
            }
            checks.check(operations)
        }),
    };
    engine
}

/// Makes `globals` readable everywhere in a script: at the top level, in script functions and
/// in closures. Rhai asks the variable resolver for each name the parser could not place, and
/// gets a read-only copy, so assigning to it or changing it in place is Rhai's "constant"
/// error. (Not scope constants: a script function sees none of its caller's scope, and a
/// closure that captures a scope constant makes it shared, and so assignable.)
///
/// Not a module of variables (`Module::set_var`): Rhai's optimizer inlines those into the
/// script as literals, and assigning to a property of an inlined map panics inside Rhai.
fn register_globals(engine: &mut Engine, globals: &ScriptGlobals) {
    if globals.is_empty() {
        return;
    }
    let globals = globals.clone();
    // Rhai marks `on_var` deprecated only to say it is volatile; tests/it/inputs.rs pins what we
    // rely on (globals in functions and closures, constness, locals hiding them).
    #[allow(deprecated)]
    engine.on_var(move |name, index, context| {
        // Called on every variable read: placed by the parser (index > 0) is a local or a
        // parameter, and most other names are not globals; both answers are quick.
        if index > 0 {
            return Ok(None);
        }
        let Some((_, value)) = globals.iter().find(|(global, _)| global == name) else {
            return Ok(None);
        };
        // A local of the same name, wherever declared, hides the global.
        if context.scope().contains(name) {
            return Ok(None);
        }
        Ok(Some(value.clone()))
    });
}

/// What the progress callback checks every [`OPERATIONS_PER_STACK_CHECK`] operations.
struct ProgressChecks {
    env: BoundEnv,
    bridge_stopped: Arc<AtomicBool>,
    /// A script ends once less than this much of its stack is left.
    stack_reserve: usize,
}

impl ProgressChecks {
    /// Guards the stack; every [`OPERATIONS_PER_STOP_CHECK`] operations also stops the script if
    /// it must stop, and ends its time slice if it is over. `Some(token)` ends the script.
    #[inline(never)]
    fn check(&self, operations: u64) -> Option<Dynamic> {
        if fiber::stack_left().is_some_and(|left| left < self.stack_reserve) {
            return Some(Dynamic::from(STACK_EXHAUSTED));
        }
        if !operations.is_multiple_of(OPERATIONS_PER_STOP_CHECK) {
            return None;
        }
        let reason = if self.bridge_stopped.load(Ordering::Relaxed) {
            Some(StopReason::Shutdown)
        } else {
            self.env
                .on_this_thread()
                .and_then(EngineEnv::running)
                .and_then(|script| script.control.stop_reason())
        };
        if reason.is_none() && fiber::slice_over() {
            // Long enough without waiting: let the other scripts on this thread run.
            fiber::suspend(Suspend::SliceOver);
        }
        reason.map(|reason| Dynamic::from(reason.as_str()))
    }
}

/// Registers `function`, whose state of type `state` the bridge lacks, as a function whose every
/// call raises a catchable error of kind `"context"` saying so.
fn register_missing_state(
    functions: &mut Module,
    env: &Rc<EngineEnv>,
    function: &'static ScriptFunction,
    state: &'static str,
) {
    let env = BoundEnv::new(env);
    let message = format!(
        "`{}` needs state of type `{state}`, which this bridge was not given",
        function.name()
    );
    register_with_metadata(functions, function, move |context, _| {
        let position = context.call_position();
        let running = env.get(position)?.running();
        let kind = CallErrorKind::Context;
        let name = function.name();
        Err::<Dynamic, _>(call_error(
            running.as_deref(),
            name,
            kind,
            message.clone(),
            None,
            position,
        ))
    });
}

/// Adds `body` to `functions` as `function`, with its parameter names, script types and doc comment as
/// Rhai's metadata, so that `Engine::gen_fn_signatures`, Rhai's JSON metadata and definition
/// files show it as the Rust signature reads.
fn register_with_metadata(
    functions: &mut Module,
    function: &'static ScriptFunction,
    body: impl Fn(NativeCallContext, &mut [&mut Dynamic]) -> Result<Dynamic, Box<EvalAltResult>>
        + Send
        + Sync
        + 'static,
) {
    // Every parameter is a wildcard; the proxy converts and checks each argument itself, so a
    // wrong type is an error naming the parameter rather than "function not found". A method's
    // object is the one typed parameter: Rhai picks among methods of one name by it.
    let params = function.rhai_param_types();
    let body = RhaiFunc::Method {
        func: rhai::Shared::new(
            move |context: Option<NativeCallContext>, args: &mut [&mut Dynamic]| match context {
                Some(context) => body(context, args),
                None => Err(format!("`{}` needs a call context", function.name()).into()),
            },
        ),
        has_context: true,
        // Pure: the arguments are only read. Volatile: a call must never be constant-folded.
        is_pure: true,
        is_volatile: true,
    };
    FuncRegistration::new(function.rhai_name())
        .in_global_namespace()
        .with_params_info(function.params_info())
        .with_comments(function.doc_comments())
        .set_into_module_raw(functions, params, body);
}
