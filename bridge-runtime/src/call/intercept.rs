//! The first stage of every call on a bridge that records, replays or mocks: whether the
//! function is called, or served by the host's mock or from the replayed record, and the
//! recording of what the caller gets back.
//!
//! Works on plain data (the arguments and the outcome as JSON, failures as [`CallFailure`]), so
//! a script's call and a dispatched command go through the same stage.

use crate::call::call_records::{CallRecords, MockInvocation, Served};
use crate::error::{CallErrorKind, CallFailure};
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
    let served = records.serve(function, &arguments, in_order);
    let recording = Recording::start(records, function, arguments, script);
    match served {
        None => Ok(Intercepted::Call(recording)),
        Some(Served::Mocked(invocation)) => Ok(Intercepted::Mock(invocation, recording)),
        Some(Served::Replayed(outcome)) => {
            if let Some(recording) = recording {
                recording.finish(&outcome)?;
            }
            Ok(Intercepted::Replayed(outcome))
        }
    }
}

/// A call being recorded: written down when its outcome reaches the caller. It has its number
/// from the start, so one whose outcome never reaches the caller (the script stopped while it
/// waited, or dropped the call's handle) is written when dropped, as a `stopped` error: a record
/// has every number it gave out, and replays.
pub(crate) struct Recording {
    records: Arc<CallRecords>,
    /// Its number, taken when it was made.
    call: u64,
    function: &'static str,
    /// `None` once written.
    arguments: Option<Value>,
    started: Instant,
    script: Option<String>,
}

impl Recording {
    /// A call of `function` made now by the script named `script`, numbered, if `records`
    /// writes calls down.
    pub(crate) fn start(
        records: &Arc<CallRecords>,
        function: &'static str,
        arguments: Value,
        script: Option<&str>,
    ) -> Option<Self> {
        records.recording().then(|| Self {
            records: records.clone(),
            call: records.number_call(),
            function,
            arguments: Some(arguments),
            started: Instant::now(),
            script: script.map(str::to_owned),
        })
    }

    /// Records `outcome` (the value as JSON, or the failure the caller gets). A record that
    /// cannot be written is the call's failure instead.
    pub(crate) fn finish(
        mut self,
        outcome: &Result<Value, CallFailure>,
    ) -> Result<(), CallFailure> {
        self.write(outcome)
    }

    fn write(&mut self, outcome: &Result<Value, CallFailure>) -> Result<(), CallFailure> {
        let Some(arguments) = self.arguments.take() else {
            return Ok(());
        };
        let outcome = match outcome {
            Ok(value) => Ok(value),
            Err(failure) => Err((failure.kind.as_str(), &failure.message[..])),
        };
        let elapsed = self.started.elapsed();
        let (call, function, script) = (self.call, self.function, self.script.as_deref());
        (self.records).record(call, function, arguments, outcome, elapsed, script)
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if self.arguments.is_some() {
            let stopped = CallFailure::new(
                CallErrorKind::Stopped,
                "the call's outcome never reached the script: it stopped while the call was in \
                 flight, or dropped the call's handle",
            );
            // Nobody is left to tell if the record cannot take it: the writer's own failure
            // is reported to the next call that records.
            let _ = self.write(&Err(stopped));
        }
    }
}
