//! The first stage of every call on a bridge that records, replays or mocks: whether the
//! function is called, or served by the host's mock or from the replayed record, and the
//! recording of what the caller gets back.
//!
//! Works on plain data (the arguments and the outcome as JSON, failures as [`CallFailure`]), so
//! a script's call and a dispatched command go through the same stage.

use crate::call::call_records::{CallRecords, MockInvocation, Served};
use crate::error::CallFailure;
use crate::signature::ScriptParam;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// How one call is served.
pub(crate) enum Intercepted {
    /// By its function; recorded if `Some`.
    Call(Option<Recording>),
    /// By the host's mock, which the caller has run on the worker's blocking pool; recorded if
    /// `Some`.
    Mock(MockInvocation, Option<Recording>),
    /// From the replayed record: its outcome, already recorded if the bridge records.
    Replayed(Result<Value, CallFailure>),
}

/// Decides how a call of `function` with `arguments` (a JSON object by parameter name) is
/// served, for the script named `script` if any. A replayed call that cannot be recorded is
/// the failure.
pub(crate) fn intercept(
    records: &Arc<CallRecords>,
    function: &'static str,
    params: &[ScriptParam],
    arguments: Value,
    script: Option<&str>,
) -> Result<Intercepted, CallFailure> {
    let in_order = || {
        let params = params.iter();
        params.map(|param| arguments[param.name].clone()).collect()
    };
    match records.serve(function, &arguments, in_order) {
        None => Ok(Intercepted::Call(Recording::start(
            records, function, arguments,
        ))),
        Some(Served::Mocked(invocation)) => Ok(Intercepted::Mock(
            invocation,
            Recording::start(records, function, arguments),
        )),
        Some(Served::Replayed(outcome)) => {
            if let Some(recording) = Recording::start(records, function, arguments) {
                recording.finish(&outcome, script)?;
            }
            Ok(Intercepted::Replayed(outcome))
        }
    }
}

/// A call being recorded: written down when its outcome reaches the caller.
pub(crate) struct Recording {
    records: Arc<CallRecords>,
    /// Its number, taken when it was made.
    call: u64,
    function: &'static str,
    arguments: Value,
    started: Instant,
}

impl Recording {
    /// A call of `function` made now, numbered, if `records` writes calls down.
    pub(crate) fn start(
        records: &Arc<CallRecords>,
        function: &'static str,
        arguments: Value,
    ) -> Option<Self> {
        records.recording().then(|| Self {
            records: records.clone(),
            call: records.number_call(),
            function,
            arguments,
            started: Instant::now(),
        })
    }

    /// Records `outcome` (the value as JSON, or the failure the caller gets) for the script
    /// named `script`. A record that cannot be written is the call's failure instead.
    pub(crate) fn finish(
        self,
        outcome: &Result<Value, CallFailure>,
        script: Option<&str>,
    ) -> Result<(), CallFailure> {
        let outcome = match outcome {
            Ok(value) => Ok(value),
            Err(failure) => Err((failure.kind.as_str(), &failure.message[..])),
        };
        let elapsed = self.started.elapsed();
        let (call, function, arguments) = (self.call, self.function, self.arguments);
        (self.records).record(call, function, arguments, outcome, elapsed, script)
    }
}
