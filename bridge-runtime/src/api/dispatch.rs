//! [`Bridge::dispatch`]: one command run on the worker without a script, under the controls a
//! script's call has: the allow-list, the bridge's value limits, mocks, replay and recording.

use crate::api::bridge::Bridge;
use crate::call::command::{CallPayload, PendingCall, ScriptCommand};
use crate::call::intercept::{intercept, Intercepted};
use crate::call::mocked::MockedCall;
use crate::call::recorded::CallRecords;
use crate::call::registry::ScriptFunction;
use crate::call::transport::{hand_over, PendingReply};
use crate::convert::json_bounds::check_json_bounds;
use crate::convert::{dynamic_to_json, into_script, to_script_value};
use crate::error::{cut_for_message, CallError, CallErrorKind, CallFailure, Error, ScriptPosition};
use crate::state::ContextValues;
use crate::sync::control::{CallScope, ScriptControl};
use crate::sync::wake::ScriptWaker;
use crate::trace::{CallTrace, Span};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

impl Bridge {
    /// Runs one command on the worker, outside any script, and blocks this thread until it
    /// finishes: a call of the function it names, with its arguments, the bridge's `State` and
    /// its `call_timeout`. Made for the command enum a `#[script_async] mod` writes (serde data:
    /// a queue or an RPC layer can carry it).
    ///
    /// A command gets what a script's call gets: a function the bridge does not expose (its
    /// allow-list) is an error of kind [`not_exposed`](CallErrorKind::NotExposed); arguments
    /// nested deeper than [`MAX_VALUE_DEPTH`](crate::MAX_VALUE_DEPTH) or past the bridge's
    /// string, array or map limits are an `argument` error; the call is recorded when the bridge
    /// records. A mocked or replayed function serves JSON, which this typed form cannot give
    /// back as the function's Rust type: there it is a `recording` error pointing at
    /// [`dispatch_json`](Self::dispatch_json), which serves them. A function's failure is an
    /// [`Error::Call`] naming it; a function that needs a `ScriptContext` fails, since no script
    /// gives one. On one of a bridge's own threads it would wait on itself, so there it is
    /// [`Error::BlockingOnBridgeThread`] at once.
    ///
    /// ```
    /// #[bridge_runtime::script_async]
    /// mod shop {
    ///     pub async fn price(item: String, count: i64) -> Result<i64, String> {
    ///         match &item[..] {
    ///             "tea" => Ok(count * 3),
    ///             _ => Err(format!("no price for {item}")),
    ///         }
    ///     }
    /// }
    ///
    /// let bridge = bridge_runtime::Bridge::new()?;
    /// let command = shop::ShopCommand::Price(shop::PriceCommand { item: "tea".into(), count: 2 });
    /// assert_eq!(bridge.dispatch(command)?, 6);
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    pub fn dispatch<C: ScriptCommand + Serialize>(&self, command: C) -> Result<C::Output, Error> {
        let function = self.exposed(command.script_name())?;
        let arguments = arguments_of(&command, &self.limits_json())
            .map_err(|why| refused(function, CallErrorKind::Argument, why))?;
        let recording = match self.records() {
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
        let outcome = self.on_worker(function, |scope, timeout, span| PendingCall {
            command: Some(command),
            scope,
            timeout,
            span,
        })?;
        if let Some(recording) = recording {
            let recorded = match &outcome {
                Ok(output) => output_json(output),
                Err(failure) => Err(failure.clone()),
            };
            recording
                .finish(&recorded, None)
                .map_err(|failure| call_error(function, failure))?;
        }
        outcome.map_err(|failure| call_error(function, failure))
    }

    /// [`dispatch`](Self::dispatch) of a command given as JSON
    /// (`{"function": "price", "arguments": {"item": "tea", "count": 2}}` for a module's command
    /// enum), with the function's value given back as JSON. JSON that is no such command is an
    /// [`Error::Call`] of kind `argument` saying why (quoting at most 200 bytes of it). Mocked and
    /// replayed functions are served as for a script (a mock on the worker's blocking pool).
    pub fn dispatch_json<C: ScriptCommand + DeserializeOwned>(
        &self,
        command: Value,
    ) -> Result<Value, Error> {
        let not_a_command = |why: String| {
            Error::Call(CallError {
                function: C::SCRIPT_NAME.to_owned(),
                kind: CallErrorKind::Argument,
                message: format!("the JSON is not a command of `{}`: {why}", C::SCRIPT_NAME),
                param: None,
                position: ScriptPosition::default(),
            })
        };
        // Before serde walks it, which it does by recursion.
        check_json_bounds(&command, &self.limits_json()).map_err(&not_a_command)?;
        let typed = C::deserialize(&command)
            .map_err(|error| not_a_command(cut_for_message(&error.to_string())))?;
        let function = self.exposed(typed.script_name())?;
        let arguments = match command {
            // A module's command enum carries the arguments beside the function's name.
            Value::Object(mut tagged) if tagged.len() == 2 && tagged.contains_key("function") => {
                tagged.remove("arguments").unwrap_or(Value::Null)
            }
            plain => plain,
        };
        let route = match self.records() {
            None => Intercepted::Call(None),
            Some(records) => intercepted(&records, function, arguments)?,
        };
        let (outcome, recording) = match route {
            Intercepted::Call(recording) => {
                let outcome = self.on_worker(function, |scope, timeout, span| PendingCall {
                    command: Some(typed),
                    scope,
                    timeout,
                    span,
                })?;
                (outcome.and_then(|output| output_json(&output)), recording)
            }
            Intercepted::Mock(invocation, recording) => {
                let outcome = self.on_worker(function, |scope, timeout, span| MockedCall {
                    invocation: Some(invocation),
                    scope,
                    timeout,
                    span,
                })?;
                (outcome, recording)
            }
            Intercepted::Replayed(outcome) => (outcome, None),
        };
        if let Some(recording) = recording {
            recording
                .finish(&outcome, None)
                .map_err(|failure| call_error(function, failure))?;
        }
        outcome.map_err(|failure| call_error(function, failure))
    }

    /// The exposed function called `name`, or the error that says the bridge has none.
    fn exposed(&self, name: &str) -> Result<&'static ScriptFunction, Error> {
        if crate::sync::bridge_thread::is_current() {
            return Err(Error::BlockingOnBridgeThread);
        }
        let found = self
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
                position: ScriptPosition::default(),
            })
        })
    }

    fn limits_json(&self) -> crate::convert::json_bounds::ValueBounds {
        self.pool.settings().limits.value_bounds()
    }

    fn records(&self) -> Option<Arc<CallRecords>> {
        self.pool.settings().calls.records.clone()
    }

    /// Runs one call on the worker, its payload made by `payload` from the call's scope, time
    /// limit and span, and blocks this thread until it ends. The worker's outcome, or
    /// [`Error::Shutdown`] when the bridge shut down (nothing then is recorded).
    fn on_worker<T, P>(
        &self,
        function: &ScriptFunction,
        payload: impl FnOnce(Arc<CallScope>, Option<Duration>, Span) -> P,
    ) -> Result<Result<T, CallFailure>, Error>
    where
        P: CallPayload<Reply = Result<T, CallFailure>>,
    {
        let mut trace = CallTrace::start(function.name());
        let control = ScriptControl::new(None, ContextValues::default());
        let timeout = self.pool.settings().calls.call_timeout;
        let payload = payload(control.calls().clone(), timeout, trace.span().clone());
        let waker = ScriptWaker::for_current_thread();
        let outcome =
            hand_over(&self.worker.commands(), payload, waker).map(PendingReply::wait_here);
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
        position: ScriptPosition::default(),
    })
}
