//! What a generated proxy works with: one script call, on its engine thread.

use crate::command::{CallFailure, Command, PendingCall, ScriptCommand};
use crate::convert::{dynamic_to_json, to_script_value};
use crate::engine::EngineEnv;
use crate::error::CallErrorKind;
use crate::reply::reply_slot;
use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// One call from a script to an async function, as its proxy sees it.
///
/// The proxy that `#[script_async]` writes converts each argument with [`argument`](Self::argument),
/// builds the command, and hands it to [`send_and_wait`](Self::send_and_wait).
pub struct ScriptCall<'a> {
    context: NativeCallContext<'a>,
    args: &'a [&'a mut Dynamic],
    env: &'a EngineEnv,
}

impl<'a> ScriptCall<'a> {
    pub(crate) fn new(
        context: NativeCallContext<'a>,
        args: &'a [&'a mut Dynamic],
        env: &'a EngineEnv,
    ) -> Self {
        Self { context, args, env }
    }

    /// Converts the script's argument at `index` to the parameter's Rust type.
    ///
    /// The script value goes through JSON's data model, so an integer is accepted where a float is
    /// expected, an object map where a struct is, and an integer that does not fit (300 for a `u8`)
    /// is an error naming `param`, never a silent wrap.
    ///
    /// `T` must also be `Serialize` (commands can be logged as JSON) and `Send` (they cross to the
    /// worker); requiring both here makes a type that lacks them an error at the parameter.
    pub fn argument<T: DeserializeOwned + Serialize + Send + 'static>(
        &self,
        index: usize,
        param: &'static str,
    ) -> Result<T, Box<EvalAltResult>> {
        let value: &Dynamic = self.args[index];
        let json = dynamic_to_json(value).map_err(|e| self.argument_error(param, e.to_string()))?;
        serde_json::from_value(json).map_err(|e| self.argument_error(param, e.to_string()))
    }

    /// Sends `command` to the worker, blocks until its reply, and converts the reply to a script
    /// value (or a catchable script error).
    pub fn send_and_wait<C: ScriptCommand>(
        &self,
        command: C,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let (reply, receiver) = reply_slot(self.env.waiter().clone());
        let call = Box::new(PendingCall { command, reply });
        if self.env.commands().send(Command::Call(call)).is_err() {
            return Err(self.shutdown_error());
        }
        match receiver.wait() {
            Ok(Ok(output)) => to_script_value(&output).map_err(|e| {
                self.raise(
                    CallErrorKind::Return,
                    format!("the return value has no script form: {e}"),
                    None,
                )
            }),
            Ok(Err(CallFailure::Error(message))) => {
                Err(self.raise(CallErrorKind::Error, message, None))
            }
            Ok(Err(CallFailure::Panic(message))) => {
                Err(self.raise(CallErrorKind::Panic, message, None))
            }
            Err(_abandoned) => Err(self.shutdown_error()),
        }
    }

    fn argument_error(&self, param: &'static str, message: String) -> Box<EvalAltResult> {
        self.raise(CallErrorKind::Argument, message, Some(param))
    }

    fn shutdown_error(&self) -> Box<EvalAltResult> {
        let message = "the bridge shut down before the call finished".to_owned();
        self.raise(CallErrorKind::Shutdown, message, None)
    }

    /// A script error at the call site carrying the error map scripts catch.
    fn raise(
        &self,
        kind: CallErrorKind,
        message: String,
        param: Option<&'static str>,
    ) -> Box<EvalAltResult> {
        let mut map = Map::new();
        map.insert("function".into(), self.context.fn_name().into());
        map.insert("kind".into(), kind.as_str().into());
        map.insert("message".into(), message.into());
        if let Some(param) = param {
            map.insert("param".into(), param.into());
        }
        Box::new(EvalAltResult::ErrorRuntime(
            map.into(),
            self.context.call_position(),
        ))
    }
}
