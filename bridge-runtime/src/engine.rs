//! One Rhai engine with every registered function, and running a script on it.

use crate::call::ScriptCall;
use crate::convert::dynamic_to_json;
use crate::error::{CallError, CallErrorKind, ScriptPosition};
use crate::registry::ScriptFunction;
use crate::worker::CommandSender;
use crate::Error;
use rhai::{Dynamic, Engine, EvalAltResult, Map, ParseError};
use std::any::TypeId;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::Thread;

/// What the proxies on one engine thread share: where commands go and who waits for replies.
pub(crate) struct EngineEnv {
    commands: CommandSender,
    waiter: Thread,
}

impl EngineEnv {
    /// An environment for proxies that run on the current thread.
    pub(crate) fn for_current_thread(commands: CommandSender) -> Self {
        Self {
            commands,
            waiter: std::thread::current(),
        }
    }

    pub(crate) fn commands(&self) -> &CommandSender {
        &self.commands
    }

    pub(crate) fn waiter(&self) -> &Thread {
        &self.waiter
    }
}

/// The value `on_progress` stops a script with when the bridge shuts down.
const SHUTDOWN_TOKEN: &str = "bridge shutdown";

/// Builds an engine with Rhai's standard library and a proxy for each function.
///
/// Built once per engine thread and reused for every script it runs: `Engine::new()` rebuilds the
/// standard library each time, which costs more than most scripts.
pub(crate) fn build_engine(
    functions: &[&'static ScriptFunction],
    env: Rc<EngineEnv>,
    stop: Arc<AtomicBool>,
) -> Engine {
    let mut engine = Engine::new();
    for &function in functions {
        let env = env.clone();
        let proxy = function.proxy();
        // Every parameter is a wildcard; the proxy converts and checks each argument itself,
        // so a wrong type is an error naming the parameter rather than "function not found".
        let params = vec![TypeId::of::<Dynamic>(); function.params().len()];
        engine.register_raw_fn(function.name(), params, move |context, args| {
            proxy(&mut ScriptCall::new(context, args, &env))
        });
    }
    engine.on_progress(move |_operations| {
        stop.load(Ordering::Relaxed)
            .then(|| Dynamic::from(SHUTDOWN_TOKEN))
    });
    engine
}

/// Compiles and evaluates `script`, returning its final value as JSON.
pub(crate) fn run_script(engine: &Engine, script: &str) -> Result<serde_json::Value, Error> {
    let ast = engine.compile(script).map_err(syntax_error)?;
    let value: Dynamic = engine.eval_ast(&ast).map_err(|e| script_error(*e))?;
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

/// Turns Rhai's error (which is not `Send`) into ours, recognising failed async calls.
pub(crate) fn script_error(mut error: EvalAltResult) -> Error {
    if let EvalAltResult::ErrorRuntime(value, position) = error.unwrap_inner() {
        if let Some(call) = call_error_from_value(value, *position) {
            return Error::Call(call);
        }
    }
    if let EvalAltResult::ErrorTerminated(token, _) = &error {
        if token.clone().into_immutable_string().ok().as_deref() == Some(SHUTDOWN_TOKEN) {
            return Error::Shutdown;
        }
    }
    let position = ScriptPosition::from_rhai(error.take_position());
    Error::Script {
        message: error.to_string(),
        position,
    }
}

/// Reads back the error map a proxy raised (see `ScriptCall::raise`).
fn call_error_from_value(value: &Dynamic, position: rhai::Position) -> Option<CallError> {
    let map = value.read_lock::<Map>()?;
    let text = |key: &str| -> Option<String> {
        map.get(key)?
            .read_lock::<rhai::ImmutableString>()
            .map(|s| s.to_string())
    };
    Some(CallError {
        function: text("function")?,
        kind: CallErrorKind::from_str(&text("kind")?)?,
        message: text("message")?,
        param: text("param"),
        position: ScriptPosition::from_rhai(position),
    })
}
