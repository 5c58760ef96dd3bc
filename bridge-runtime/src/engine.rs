//! One Rhai engine with every exposed function, and running a script on it.

use crate::call::{CallMode, ScriptCall};
use crate::control::{ScriptControl, StopReason};
use crate::convert::dynamic_to_json;
use crate::error::{CallError, ScriptPosition};
use crate::fiber::{self, Suspend};
use crate::in_flight::CallsInFlight;
use crate::limits::{first_capture, ScriptLimits};
use crate::output::ScriptOutput;
use crate::queue::CommandSender;
use crate::registry::ScriptFunction;
use crate::state::TypeMap;
use crate::wait::{SpinGate, SpinPolicy};
use crate::Error;
use rhai::{Dynamic, Engine, EvalAltResult, Map, ParseError};
use std::any::TypeId;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::Thread;
use std::time::Duration;

/// What every engine thread of one bridge needs to build its engine.
pub(crate) struct EngineSettings {
    /// The functions this bridge exposes.
    pub(crate) functions: Vec<&'static ScriptFunction>,
    pub(crate) commands: CommandSender,
    /// Set when the bridge shuts down: running scripts end at their next operation.
    pub(crate) bridge_stopped: Arc<AtomicBool>,
    pub(crate) limits: ScriptLimits,
    /// Where `print` and `debug` output goes.
    pub(crate) output: ScriptOutput,
    /// The time limit of calls whose function sets none.
    pub(crate) call_timeout: Option<Duration>,
    /// At most this many calls started and not waited on, per script.
    pub(crate) max_calls_in_flight: usize,
    /// Address space reserved for each script's stack.
    pub(crate) stack_size: usize,
    /// How many of this bridge's engine threads may spin while waiting.
    pub(crate) spin_gate: Arc<SpinGate>,
    /// The worker's runtime: eager calls take their first poll within its context.
    pub(crate) runtime: tokio::runtime::Handle,
    /// The bridge's `State` values, for eager calls.
    pub(crate) states: Arc<TypeMap>,
}

/// The script an engine thread is running now.
pub(crate) struct RunningScript {
    pub(crate) control: Arc<ScriptControl>,
    /// Calls it started (`start`) whose replies it has not taken.
    pub(crate) calls_in_flight: Rc<CallsInFlight>,
    /// The last call error raised in it, as a typed value: the script sees a map, and may build
    /// and throw a map of the same shape itself, which must stay a plain script error.
    last_raised: RefCell<Option<CallError>>,
}

impl RunningScript {
    pub(crate) fn new(control: Arc<ScriptControl>) -> Self {
        Self {
            control,
            calls_in_flight: Rc::default(),
            last_raised: RefCell::new(None),
        }
    }

    /// Keeps `error`, just raised in this script as a map.
    pub(crate) fn record_raised(&self, error: CallError) {
        *self.last_raised.borrow_mut() = Some(error);
    }

    /// The call error whose map `value` is, if this script raised one like it: the typed error,
    /// with `position` (where it ended the script: a rethrown error ends it at the `throw`).
    fn raised_call_error(&self, value: &Dynamic, position: rhai::Position) -> Option<CallError> {
        let raised = self.last_raised.borrow();
        let raised = raised.as_ref()?;
        let map = value.read_lock::<Map>()?;
        let text = |key: &str| -> Option<String> {
            map.get(key)?
                .read_lock::<rhai::ImmutableString>()
                .map(|s| s.to_string())
        };
        let same = map.len() == 3 + usize::from(raised.param.is_some())
            && text("function")? == raised.function
            && text("kind")? == raised.kind.as_str()
            && text("message")? == raised.message
            && text("param") == raised.param;
        same.then(|| CallError {
            position: ScriptPosition::from_rhai(position),
            ..raised.clone()
        })
    }
}

/// What the proxies on one engine thread share.
pub(crate) struct EngineEnv {
    commands: CommandSender,
    waiter: Thread,
    call_timeout: Option<Duration>,
    max_calls_in_flight: usize,
    running: RefCell<Option<Rc<RunningScript>>>,
    spin: SpinPolicy,
    runtime: tokio::runtime::Handle,
    states: Arc<TypeMap>,
    bridge_stopped: Arc<AtomicBool>,
}

impl EngineEnv {
    /// An environment for proxies that run on the current thread.
    pub(crate) fn for_current_thread(settings: &EngineSettings) -> Self {
        Self {
            commands: settings.commands.clone(),
            waiter: std::thread::current(),
            call_timeout: settings.call_timeout,
            max_calls_in_flight: settings.max_calls_in_flight,
            running: RefCell::new(None),
            spin: SpinPolicy::new(settings.spin_gate.clone()),
            runtime: settings.runtime.clone(),
            states: settings.states.clone(),
            bridge_stopped: settings.bridge_stopped.clone(),
        }
    }

    /// Set when the bridge shuts down.
    pub(crate) fn bridge_stopped(&self) -> &AtomicBool {
        &self.bridge_stopped
    }

    pub(crate) fn commands(&self) -> &CommandSender {
        &self.commands
    }

    pub(crate) fn waiter(&self) -> &Thread {
        &self.waiter
    }

    pub(crate) fn call_timeout(&self) -> Option<Duration> {
        self.call_timeout
    }

    /// At most this many calls started and not waited on, per script.
    pub(crate) fn max_calls_in_flight(&self) -> usize {
        self.max_calls_in_flight
    }

    /// The worker's runtime.
    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// The bridge's `State` values.
    pub(crate) fn states(&self) -> &Arc<TypeMap> {
        &self.states
    }

    /// How this thread spins while it waits.
    pub(crate) fn spin(&self) -> &SpinPolicy {
        &self.spin
    }

    /// The script running now, if any.
    pub(crate) fn running(&self) -> Option<Rc<RunningScript>> {
        self.running.borrow().clone()
    }

    /// The script running now, or the script error that says none is (a function of this engine
    /// called from outside a script run by the bridge).
    pub(crate) fn require_running(
        &self,
        position: rhai::Position,
    ) -> Result<Rc<RunningScript>, Box<EvalAltResult>> {
        self.running().ok_or_else(|| {
            Box::new(EvalAltResult::ErrorRuntime(
                "no script is running on this engine thread".into(),
                position,
            ))
        })
    }

    /// Makes `script` the one running now (the engine thread does, around each resume).
    pub(crate) fn set_running(&self, script: Option<Rc<RunningScript>>) {
        *self.running.borrow_mut() = script;
    }
}

/// A script ends with an error once less than this much of its fiber's stack is left (or a
/// quarter of a smaller stack): room for the recursion between two checks, and for unwinding. An unoptimised build takes about
/// 48 KiB per script call level, so 16 levels (at least one operation each) are under 1 MiB.
const STACK_RESERVE: usize = 4 * 1024 * 1024;

/// The stack is checked once per this many operations: checking on every one made CPU-bound
/// scripts 5-9% slower.
const OPERATIONS_PER_STACK_CHECK: u64 = 16;

/// What `on_progress` ends a script with when its stack runs low.
const STACK_EXHAUSTED: &str = "stack exhausted";

/// Stop checks read the clock, so they run once per this many operations (a few microseconds).
/// A multiple of `OPERATIONS_PER_STACK_CHECK`.
const OPERATIONS_PER_STOP_CHECK: u64 = 64;

/// Builds an engine with Rhai's standard library, a proxy for each function, the in-flight call
/// functions and the bridge's limits.
///
/// Built once per engine thread and reused for every script it runs: `Engine::new()` rebuilds the
/// standard library each time, which costs more than most scripts.
pub(crate) fn build_engine(settings: &EngineSettings, env: &Rc<EngineEnv>) -> Engine {
    let mut engine = Engine::new();
    for &function in &settings.functions {
        let env = env.clone();
        let proxy = function.proxy();
        // Every parameter is a wildcard; the proxy converts and checks each argument itself,
        // so a wrong type is an error naming the parameter rather than "function not found".
        let params = vec![TypeId::of::<Dynamic>(); function.params().len()];
        engine.register_raw_fn(function.name(), params, move |context, args| {
            proxy(&mut ScriptCall::new(
                context,
                args,
                &env,
                function,
                CallMode::Wait,
            ))
        });
    }
    crate::in_flight::register(&mut engine, env, &settings.functions);
    crate::stdlib::register(&mut engine, env);
    settings.limits.apply(&mut engine);
    settings.output.apply(&mut engine);

    let progress_env = env.clone();
    let bridge_stopped = settings.bridge_stopped.clone();
    let stack_reserve = (settings.stack_size / 4).min(STACK_RESERVE);
    engine.on_progress(move |operations| {
        if operations % OPERATIONS_PER_STACK_CHECK != 0 {
            return None;
        }
        if fiber::stack_left().is_some_and(|left| left < stack_reserve) {
            return Some(Dynamic::from(STACK_EXHAUSTED));
        }
        if operations % OPERATIONS_PER_STOP_CHECK != 0 {
            return None;
        }
        let reason = if bridge_stopped.load(Ordering::Relaxed) {
            Some(StopReason::Shutdown)
        } else {
            progress_env
                .running()
                .and_then(|script| script.control.stop_reason())
        };
        if reason.is_none() && fiber::slice_over() {
            // Long enough without waiting: let the other scripts on this thread run.
            fiber::suspend(Suspend::SliceOver);
        }
        reason.map(|reason| Dynamic::from(reason.as_str()))
    });
    engine
}

/// Compiles and evaluates one script on this thread's engine, returning its final value as JSON.
///
/// The engine thread makes `running` the environment's running script whenever it resumes this
/// script's fiber.
pub(crate) fn run_script(
    engine: &Engine,
    script: &str,
    running: &RunningScript,
    refuse_capturing_closures: bool,
) -> Result<serde_json::Value, Error> {
    /// Ends the script however evaluation ends, a panic included.
    struct Finish<'a>(&'a ScriptControl);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            // Calls started and never waited on end with the script.
            self.0.finish();
        }
    }

    let _finish = Finish(&running.control);
    evaluate(engine, script, running, refuse_capturing_closures)
}

fn evaluate(
    engine: &Engine,
    script: &str,
    running: &RunningScript,
    refuse_capturing_closures: bool,
) -> Result<serde_json::Value, Error> {
    let control = &*running.control;
    if let Some(reason) = control.stop_reason() {
        return Err(stopped_error(reason, control));
    }
    let ast = engine.compile(script).map_err(syntax_error)?;
    if refuse_capturing_closures {
        if let Some((variable, position)) = first_capture(&ast) {
            return Err(Error::Script {
                message: format!(
                    "this closure captures the variable `{variable}`, which this bridge does not \
                     allow (captured variables can form reference cycles that are never freed); \
                     pass `{variable}` to the closure as a parameter instead"
                ),
                position: ScriptPosition::from_rhai(position),
            });
        }
    }
    let value: Dynamic = engine
        .eval_ast(&ast)
        .map_err(|e| script_error(*e, running))?;
    dynamic_to_json(&value).map_err(|e| Error::Result {
        message: e.to_string(),
    })
}

fn syntax_error(error: ParseError) -> Error {
    Error::Syntax {
        message: error.0.to_string(),
        position: ScriptPosition::from_rhai(error.1),
    }
}

/// What a script whose stack overflowed inside one of Rhai's own operations ends with.
pub(crate) fn overflow_error() -> Error {
    Error::Script {
        message: "the script overflowed its stack inside one of Rhai's operations (data nested \
                  too deeply); the script was ended"
            .to_owned(),
        position: ScriptPosition::NONE,
    }
}

/// The error a script stopped for `reason` ends with.
pub(crate) fn stopped_error(reason: StopReason, control: &ScriptControl) -> Error {
    match (reason, control.timeout()) {
        (StopReason::Cancelled, _) => Error::Cancelled,
        (StopReason::TimedOut, Some(limit)) => Error::Timeout { limit },
        (StopReason::TimedOut, None) | (StopReason::Shutdown, _) => Error::Shutdown,
    }
}

/// Turns Rhai's error (which is not `Send`) into ours, recognising failed async calls and stops.
fn script_error(mut error: EvalAltResult, running: &RunningScript) -> Error {
    let control = &*running.control;
    match error.unwrap_inner() {
        EvalAltResult::ErrorRuntime(value, position) => {
            if let Some(call) = running.raised_call_error(value, *position) {
                return Error::Call(call);
            }
        }
        EvalAltResult::ErrorTerminated(token, position)
            if token
                .read_lock::<rhai::ImmutableString>()
                .as_deref()
                .map(|t| t.as_str())
                == Some(STACK_EXHAUSTED) =>
        {
            return Error::Script {
                message: "the script nests too deeply (its stack is nearly used up): too deep a \
                          recursion, or data nested too deeply"
                    .to_owned(),
                position: ScriptPosition::from_rhai(*position),
            };
        }
        EvalAltResult::ErrorTerminated(..) => {
            let reason = control.stop_reason().unwrap_or(StopReason::Shutdown);
            return stopped_error(reason, control);
        }
        _ => {}
    }
    let position = ScriptPosition::from_rhai(error.take_position());
    Error::Script {
        message: error.to_string(),
        position,
    }
}
