//! Running one script on its engine thread's engine, and the errors a script ends with.

use crate::call::running_script::RunningScript;
use crate::convert::dynamic_to_json;
use crate::convert::sendable::SendableValue;
use crate::engine::ast_cache::{AstCache, ScriptSource};
use crate::engine::limits::{first_capture, ScriptLimits};
use crate::error::{Error, ScriptPosition};
use crate::sync::control::{ScriptControl, StopReason};
use rhai::{Dynamic, Engine, EvalAltResult, ParseError, Scope, AST};
use std::cell::RefCell;
use std::sync::Arc;

/// What `on_progress` ends a script with when its stack runs low.
pub(crate) const STACK_EXHAUSTED: &str = "stack exhausted";

/// The token of a script ended by the host's `on_progress` callback, told apart from the
/// bridge's own stops.
#[derive(Clone)]
pub(crate) struct HostStop(pub(crate) Dynamic);

/// The bridge's globals as script values, which the engine's variable resolver serves
/// (see `engine::build`); the runner keeps them to tell inputs from them. Rhai's `Shared`: an
/// `Arc` when its `sync` feature makes the resolver `Send + Sync`, an `Rc` otherwise.
pub(crate) type ScriptGlobals = rhai::Shared<[(String, Dynamic)]>;

/// `globals` as script values, on the engine thread that uses them.
pub(crate) fn script_globals(globals: &[(String, SendableValue)]) -> ScriptGlobals {
    globals
        .iter()
        .map(|(name, value)| (name.clone(), value.to_dynamic()))
        .collect()
}

/// What to run: the source, its name, its inputs, and whether only to check it.
pub(crate) struct ScriptBody {
    pub(crate) source: ScriptSource,
    /// The name errors and spans give the script.
    pub(crate) name: Option<Arc<str>>,
    /// Variables the script starts with, names checked.
    pub(crate) inputs: Vec<(String, SendableValue)>,
    /// Parse and check the script, but do not run it (`Bridge::compile`).
    pub(crate) check_only: bool,
}

/// What one engine thread runs scripts with: its engine, the scripts it parsed, and the
/// bridge's globals as script values.
pub(crate) struct ScriptRunner {
    engine: Engine,
    asts: RefCell<AstCache>,
    globals: ScriptGlobals,
    refuse_capturing_closures: bool,
    max_script_size: Option<usize>,
}

impl ScriptRunner {
    /// A runner for `engine`, keeping up to `cached_scripts` parsed scripts.
    pub(crate) fn new(
        engine: Engine,
        cached_scripts: usize,
        globals: ScriptGlobals,
        limits: &ScriptLimits,
    ) -> Self {
        Self {
            engine,
            asts: RefCell::new(AstCache::new(cached_scripts)),
            globals,
            refuse_capturing_closures: limits.refuse_capturing_closures,
            max_script_size: limits.max_script_size,
        }
    }

    /// Parses (or finds parsed) and evaluates `body` on this thread's engine, returning its final
    /// value as JSON.
    ///
    /// The engine thread makes `running` the environment's running script whenever it resumes
    /// this script's fiber.
    pub(crate) fn run(
        &self,
        body: &ScriptBody,
        running: &RunningScript,
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
        self.evaluate(body, running)
    }

    fn evaluate(
        &self,
        body: &ScriptBody,
        running: &RunningScript,
    ) -> Result<serde_json::Value, Error> {
        let control = &*running.control;
        if let Some(reason) = control.stop_reason() {
            return Err(stopped_error(reason, control));
        }
        let name = body.name.as_ref();
        let ast = self
            .asts
            .borrow_mut()
            .get_or_parse(&body.source, |text| self.parse(text, name))?;
        if body.check_only {
            return Ok(serde_json::Value::Null);
        }
        let mut scope = self.scope(&body.inputs)?;
        let value: Dynamic = self
            .engine
            .eval_ast_with_scope(&mut scope, &ast)
            .map_err(|e| script_error(*e, running))?;
        dynamic_to_json(&value).map_err(|e| Error::ResultNotJson {
            message: e.to_string(),
        })
    }

    /// Parses `text` and checks what the bridge refuses before a script runs.
    fn parse(&self, text: &str, name: Option<&Arc<str>>) -> Result<AST, Error> {
        if let Some(max) = self.max_script_size.filter(|max| text.len() > *max) {
            return Err(Error::Script {
                message: format!(
                    "the script is {} bytes long, more than this bridge's max_script_size of {max}",
                    text.len()
                ),
                position: ScriptPosition::from_rhai(rhai::Position::NONE, name),
            });
        }
        let ast = self
            .engine
            .compile(text)
            .map_err(|error| syntax_error(error, name))?;
        if self.refuse_capturing_closures {
            let is_global = |name: &str| self.globals.iter().any(|(global, _)| global == name);
            if let Some((variable, position)) = first_capture(&ast, is_global) {
                return Err(Error::Script {
                    message: format!(
                        "this closure captures the variable `{variable}`, which this bridge does \
                         not allow (captured variables can form reference cycles that are never \
                         freed); pass `{variable}` to the closure as a parameter instead"
                    ),
                    position: ScriptPosition::from_rhai(position, name),
                });
            }
        }
        Ok(ast)
    }

    /// The scope a script starts with: its inputs. The globals are not in it: the engine's
    /// variable resolver serves them, at the top level as in functions and closures.
    fn scope(&self, inputs: &[(String, SendableValue)]) -> Result<Scope<'static>, Error> {
        let mut scope = Scope::with_capacity(inputs.len());
        for (name, value) in inputs {
            if self.globals.iter().any(|(global, _)| global == name) {
                return Err(Error::Input {
                    name: name.clone(),
                    message: "has the name of one of the bridge's globals, which an input may \
                              not hide"
                        .to_owned(),
                });
            }
            scope.push_dynamic(name.clone(), value.to_dynamic());
        }
        Ok(scope)
    }
}

fn syntax_error(error: ParseError, name: Option<&Arc<str>>) -> Error {
    Error::Syntax {
        message: error.0.to_string(),
        position: ScriptPosition::from_rhai(error.1, name),
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
                position: running.position(*position),
            };
        }
        EvalAltResult::ErrorTerminated(token, position) if token.is::<HostStop>() => {
            let token = token.clone_cast::<HostStop>().0;
            return Error::Script {
                message: format!(
                    "the script was ended by the host's on_progress callback: {token}"
                ),
                position: running.position(*position),
            };
        }
        EvalAltResult::ErrorTerminated(..) => {
            let reason = control.stop_reason().unwrap_or(StopReason::Shutdown);
            return stopped_error(reason, control);
        }
        _ => {}
    }
    let position = running.position(error.take_position());
    Error::Script {
        message: error.to_string(),
        position,
    }
}
