//! [`Bridge::dispatch`]: one command run on the worker without a script, under the controls a
//! script's call has: the allow-list, the bridge's value limits, mocks, replay and recording.

use crate::api::bridge::Bridge;
use crate::call::command::{Command, ErasedCall, PendingCall, ScriptCommand};
use crate::call::recorded::{CallRecords, Served};
use crate::call::registry::ScriptFunction;
use crate::convert::json_bounds::check_json_bounds;
use crate::convert::{dynamic_to_json, into_script, to_script_value};
use crate::error::{cut_for_message, CallError, CallErrorKind, CallFailure, Error, ScriptPosition};
use crate::state::ContextValues;
use crate::sync::control::ScriptControl;
use crate::sync::reply::call_cell;
use crate::sync::wake::ScriptWaker;
use crate::trace::CallTrace;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        let records = self.records();
        if let Some(records) = &records {
            if records.serves(function.name()) {
                let why = format!(
                    "`{}` is mocked or replayed on this bridge, which serves JSON: dispatch_json \
                     gives back what they serve",
                    function.name()
                );
                return Err(refused(function, CallErrorKind::Recording, why));
            }
        }
        let started = Instant::now();
        let outcome = self.call_on_worker(command)?;
        if let Some(records) = &records {
            let recorded = match &outcome {
                Ok(output) => output_json(output),
                Err(failure) => Err(failure.clone()),
            };
            record(records, function, arguments, &recorded, started.elapsed())?;
        }
        outcome.map_err(|failure| call_error(function, failure))
    }

    /// [`dispatch`](Self::dispatch) of a command given as JSON
    /// (`{"function": "price", "arguments": {"item": "tea", "count": 2}}` for a module's command
    /// enum), with the function's value given back as JSON. JSON that is no such command is an
    /// [`Error::Call`] of kind `argument` saying why (quoting at most 200 bytes of it). Mocked and
    /// replayed functions are served as for a script (a mock runs on this thread).
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
        let records = self.records();
        let served = records.as_ref().and_then(|records| {
            let in_order = || {
                let params = function.params().iter();
                params.map(|param| arguments[param.name].clone()).collect()
            };
            records.serve(function.name(), &arguments, in_order)
        });
        let started = Instant::now();
        let outcome = match served {
            Some(Served::Mocked(invocation)) => invocation.run(),
            Some(Served::Replayed(outcome)) => outcome,
            None => self
                .call_on_worker(typed)?
                .and_then(|output| output_json(&output)),
        };
        if let Some(records) = &records {
            record(records, function, arguments, &outcome, started.elapsed())?;
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

    /// Sends `command` to the worker and blocks until its reply; `Err` only if the bridge shut
    /// down.
    fn call_on_worker<C: ScriptCommand>(
        &self,
        command: C,
    ) -> Result<Result<C::Output, CallFailure>, Error> {
        let mut trace = CallTrace::start(command.script_name());
        let control = ScriptControl::new(None, ContextValues::default());
        let call = PendingCall {
            command: Some(command),
            scope: control.calls().clone(),
            timeout: self.pool.settings().calls.call_timeout,
            span: trace.span().clone(),
        };
        let (sender, receiver) = call_cell(call, ScriptWaker::for_current_thread());
        let sent = self
            .worker
            .commands()
            .send(Command::Call(ErasedCall::new(sender)));
        if sent.is_err() {
            trace.finish(CallErrorKind::Shutdown.as_str());
            return Err(Error::Shutdown);
        }
        while !receiver.is_finished() {
            receiver.arm();
            if !receiver.is_finished() {
                std::thread::park();
            }
        }
        match receiver.try_take() {
            Some(Ok(reply)) => {
                trace.finish(reply.as_ref().map_or_else(|f| f.kind.as_str(), |_| "ok"));
                Ok(reply)
            }
            Some(Err(_)) | None => {
                trace.finish(CallErrorKind::Shutdown.as_str());
                Err(Error::Shutdown)
            }
        }
    }
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

/// Records one dispatched call; a call that cannot be recorded is the call's error.
fn record(
    records: &CallRecords,
    function: &ScriptFunction,
    arguments: Value,
    outcome: &Result<Value, CallFailure>,
    took: Duration,
) -> Result<(), Error> {
    let outcome = match outcome {
        Ok(value) => Ok(value),
        Err(failure) => Err((failure.kind.as_str(), &failure.message[..])),
    };
    let call = records.number_call();
    records
        .record(call, function.name(), arguments, outcome, took, None)
        .map_err(|failure| call_error(function, failure))
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
