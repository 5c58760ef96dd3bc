//! Running one script on its engine thread's engine, and the errors a script ends with.

use crate::call::script::RunningScript;
use crate::convert::dynamic_to_json;
use crate::engine::build::STACK_EXHAUSTED;
use crate::engine::limits::first_capture;
use crate::error::{Error, ScriptPosition};
use crate::sync::control::{ScriptControl, StopReason};
use rhai::{Dynamic, Engine, EvalAltResult, ParseError};

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
