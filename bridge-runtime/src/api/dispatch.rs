//! [`Bridge::dispatch`](crate::Bridge::dispatch): one command run on the worker without a
//! script, under the controls a script's call has: the allow-list, the bridge's value limits,
//! mocks, replay and recording.

use crate::call::call_records::CallRecords;
use crate::call::command::{CallFrame, CallPayload, PendingCall, ScriptCommand};
use crate::call::intercept::{intercept, Intercepted};
use crate::call::mocked::MockedCall;
use crate::call::queue::CommandSender;
use crate::call::transport::{hand_over, PendingReply};
use crate::convert::json_bounds::check_json_bounds;
use crate::convert::{dynamic_to_json, into_script, to_script_value};
use crate::engine::build::EngineSettings;
use crate::error::{cut_for_message, CallError, CallErrorKind, CallFailure, Error, ScriptPosition};
use crate::registered::function::ScriptFunction;
use crate::resource::returned::ScriptValue;
use crate::state::ContextValues;
use crate::sync::control::ScriptControl;
use crate::sync::wake::ScriptWaker;
use crate::trace::CallTrace;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// What a dispatched command needs of its bridge (the bridge itself would make this file and
/// `bridge.rs`, which calls it, import each other).
pub(crate) struct Target<'a> {
    /// The functions the bridge exposes.
    pub(crate) functions: &'a [&'static ScriptFunction],
    pub(crate) settings: &'a EngineSettings,
    /// The way to the worker.
    pub(crate) commands: CommandSender,
}

/// See [`Bridge::dispatch`](crate::Bridge::dispatch).
pub(crate) fn dispatch<C: ScriptCommand + Serialize>(
    bridge: &Target<'_>,
    command: C,
) -> Result<C::Output, Error>
where
    C::Output: ScriptValue<Sent = C::Output> + Serialize,
{
    let function = exposed(bridge, command.script_name())?;
    let arguments = arguments_of(&command, &limits_json(bridge))
        .map_err(|why| refused(function, CallErrorKind::Argument, why))?;
    let recording = match records(bridge) {
        None => None,
        Some(records) if records.serves(function.name()) => {
            let why = format!(
                "`{}` is mocked or replayed on this bridge, which serves JSON: dispatch_json \
                 gives back what they serve",
                function.name()
            );
            return Err(refused(function, CallErrorKind::Recording, why));
        }
        Some(records) => match intercepted(&records, function, arguments)? {
            Intercepted::Call(recording) => recording,
            // `serves` said no mock or replay stands in for this function.
            Intercepted::Mock(..) | Intercepted::Replayed(_) => None,
        },
    };
    let outcome = on_worker(bridge, function, |frame| PendingCall {
        command: Some(command),
        frame,
    })?;
    if let Some(recording) = recording {
        let recorded = match &outcome {
            Ok(output) => output_json(output),
            Err(failure) => Err(failure.clone()),
        };
        recording
            .finish(&recorded)
            .map_err(|failure| call_error(function, failure))?;
    }
    outcome.map_err(|failure| call_error(function, failure))
}

/// See [`Bridge::dispatch_json`](crate::Bridge::dispatch_json).
pub(crate) fn dispatch_json<C: ScriptCommand + DeserializeOwned>(
    bridge: &Target<'_>,
    command: Value,
) -> Result<Value, Error>
where
    C::Output: ScriptValue<Sent = C::Output> + Serialize,
{
    let not_a_command = |why: String| {
        Error::Call(CallError {
            function: C::SCRIPT_NAME.to_owned(),
            kind: CallErrorKind::Argument,
            message: format!("the JSON is not a command of `{}`: {why}", C::SCRIPT_NAME),
            param: None,
            position: ScriptPosition::NONE,
        })
    };
    // Before serde walks it, which it does by recursion.
    check_json_bounds(&command, &limits_json(bridge)).map_err(&not_a_command)?;
    let typed = C::deserialize(&command)
        .map_err(|error| not_a_command(cut_for_message(&error.to_string())))?;
    let function = exposed(bridge, typed.script_name())?;
    let arguments = match command {
        // A module's command enum carries the arguments beside the function's name.
        Value::Object(mut tagged) if tagged.len() == 2 && tagged.contains_key("function") => {
            tagged.remove("arguments").unwrap_or(Value::Null)
        }
        plain => plain,
    };
    let route = match records(bridge) {
        None => Intercepted::Call(None),
        Some(records) => intercepted(&records, function, arguments)?,
    };
    let (outcome, recording) = match route {
        Intercepted::Call(recording) => {
            let outcome = on_worker(bridge, function, |frame| PendingCall {
                command: Some(typed),
                frame,
            })?;
            (outcome.and_then(|output| output_json(&output)), recording)
        }
        Intercepted::Mock(invocation, recording) => {
            let outcome = on_worker(bridge, function, |frame| MockedCall {
                invocation: Some(invocation),
                frame,
            })?;
            (outcome, recording)
        }
        Intercepted::Replayed(outcome) => (outcome, None),
    };
    if let Some(recording) = recording {
        recording
            .finish(&outcome)
            .map_err(|failure| call_error(function, failure))?;
    }
    outcome.map_err(|failure| call_error(function, failure))
}

/// The exposed function called `name`, or the error that says the bridge has none.
fn exposed(bridge: &Target<'_>, name: &str) -> Result<&'static ScriptFunction, Error> {
    if crate::sync::bridge_thread::is_current() {
        return Err(Error::BlockingOnBridgeThread);
    }
    let found = bridge
        .functions
        .iter()
        .find(|function| function.name() == name);
    found.copied().ok_or_else(|| {
        Error::Call(CallError {
            function: name.to_owned(),
            kind: CallErrorKind::NotExposed,
            message: "this bridge does not expose the function (check its allow-lists and \
                      the State it needs)"
                .to_owned(),
            param: None,
            position: ScriptPosition::NONE,
        })
    })
}

fn limits_json(bridge: &Target<'_>) -> crate::convert::json_bounds::ValueBounds {
    bridge.settings.limits.value_bounds()
}

fn records(bridge: &Target<'_>) -> Option<Arc<CallRecords>> {
    bridge.settings.calls.records.clone()
}

/// Runs one call on the worker, its payload made by `payload` from the call's scope, time
/// limit and span, and blocks this thread until it ends. The worker's outcome, or
/// [`Error::Shutdown`] when the bridge shut down (nothing then is recorded).
fn on_worker<T, P>(
    bridge: &Target<'_>,
    function: &ScriptFunction,
    payload: impl FnOnce(CallFrame) -> P,
) -> Result<Result<T, CallFailure>, Error>
where
    P: CallPayload<Reply = Result<T, CallFailure>>,
{
    let mut trace = CallTrace::start(function.name());
    let control = ScriptControl::new(None, ContextValues::default());
    let timeout = bridge.settings.calls.call_timeout;
    let payload = payload(CallFrame {
        scope: control.calls().clone(),
        timeout,
        span: trace.span().clone(),
    });
    let waker = ScriptWaker::for_current_thread();
    let outcome = hand_over(&bridge.commands, payload, waker).map(PendingReply::wait_here);
    let outcome = match outcome {
        Ok(Err(failure)) | Err(failure) if failure.kind == CallErrorKind::Shutdown => {
            trace.finish(failure.kind.as_str());
            return Err(Error::Shutdown);
        }
        Ok(outcome) => outcome,
        Err(failure) => Err(failure),
    };
    trace.finish(outcome.as_ref().map_or_else(|f| f.kind.as_str(), |_| "ok"));
    Ok(outcome)
}

/// How a dispatched call of `function` with `arguments` is served (see [`intercept`]).
fn intercepted(
    records: &Arc<CallRecords>,
    function: &'static ScriptFunction,
    arguments: Value,
) -> Result<Intercepted, Error> {
    intercept(records, function.name(), function.params(), arguments, None)
        .map_err(|failure| call_error(function, failure))
}

/// A command's arguments by parameter name, as JSON, checked as a script's call arguments are:
/// converted with the depth bound scripts' values keep to, then held to the bridge's sizes.
fn arguments_of<C: Serialize>(
    command: &C,
    bounds: &crate::convert::json_bounds::ValueBounds,
) -> Result<Value, String> {
    let refused = |error: &dyn std::fmt::Display| format!("the command's arguments: {error}");
    let value = to_script_value(command).map_err(|e| refused(&e))?;
    let json = dynamic_to_json(&value).map_err(|e| refused(&e))?;
    check_json_bounds(&json, bounds).map_err(|e| refused(&e))?;
    Ok(match json {
        // A module's command enum: `{"function": .., "arguments": {..}}`.
        Value::Object(mut tagged) if tagged.len() == 2 && tagged.contains_key("function") => {
            tagged.remove("arguments").unwrap_or(Value::Null)
        }
        plain => plain,
    })
}

/// A function's value as JSON, with the bound every conversion keeps to.
fn output_json<T: Serialize + 'static>(output: &T) -> Result<Value, CallFailure> {
    let no_form = |error: &dyn std::fmt::Display| {
        CallFailure::new(
            CallErrorKind::Return,
            format!("the return value has no JSON form: {error}"),
        )
    };
    let value = into_script(output).map_err(|e| no_form(&e))?;
    dynamic_to_json(&value).map_err(|e| no_form(&e))
}

fn refused(function: &ScriptFunction, kind: CallErrorKind, message: String) -> Error {
    call_error(function, CallFailure::new(kind, message))
}

fn call_error(function: &ScriptFunction, failure: CallFailure) -> Error {
    Error::Call(CallError {
        function: function.name().to_owned(),
        kind: failure.kind,
        message: failure.message,
        param: None,
        position: ScriptPosition::NONE,
    })
}
