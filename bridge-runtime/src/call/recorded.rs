//! Record, replay and mock: calls kept as JSON lines and served again, or served by the host.
//!
//! All three work on what the script sees (its arguments and the value or error it gets back),
//! on the engine thread, so a replayed or mocked call looks to the script exactly like the real
//! one, and a run that uses none of them pays one `Option` test per call.

use crate::catch_unwind::describe_panic;
use crate::error::{CallErrorKind, CallFailure, Error};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{BufRead, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// One call as [`BridgeBuilder::record`](crate::BridgeBuilder::record) writes it (one JSON
/// line) and [`BridgeBuilder::replay`](crate::BridgeBuilder::replay) reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedCall {
    /// The call's number, counted from 1 in the order scripts made the calls. Lines are written
    /// as calls finish (a call started with `start` may finish after later ones); a replay
    /// serves them in this order.
    #[serde(default)]
    pub call: u64,
    /// The name scripts call the function by.
    pub function: String,
    /// The script's arguments by parameter name.
    pub arguments: Value,
    /// What the script got back, if the call succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordedError>,
    /// How long the call took, in microseconds (`0` for a replayed or mocked call).
    #[serde(default)]
    pub duration_us: u64,
    /// The script's name, if it was given one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
}

/// A recorded call's failure: the `kind` and `message` fields of the error map the script caught.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedError {
    /// [`CallErrorKind::as_str`]: `"error"`, `"timeout"`, ...
    pub kind: String,
    /// The error's message.
    pub message: String,
}

/// A host function standing in for a `#[script_async]` function: it returns the script's value
/// or an error message.
pub(crate) enum MockFn {
    /// Given the arguments as a JSON object by parameter name.
    ByName(Arc<dyn Fn(Value) -> Result<Value, String> + Send + Sync>),
    /// Given the arguments in order.
    InOrder(Arc<dyn Fn(Vec<Value>) -> Result<Value, String> + Send + Sync>),
}

/// What a builder was told to record, replay and mock.
#[derive(Default)]
pub(crate) struct RecordSettings {
    pub(crate) mocks: HashMap<String, MockFn>,
    pub(crate) recorder: Option<Box<dyn Write + Send>>,
    /// Read when `replay` is called; a bad log fails `build`.
    pub(crate) replay: Option<Result<Vec<RecordedCall>, Error>>,
}

impl RecordSettings {
    /// The shared settings for the engine threads (`None` if nothing is recorded, replayed or
    /// mocked), or the error that fails `build`: an unreadable replay, or a mock for a
    /// function this bridge does not expose (`exposes` tells).
    pub(crate) fn into_records(
        self,
        exposes: impl Fn(&str) -> bool,
    ) -> Result<Option<Arc<CallRecords>>, Error> {
        if let Some(name) = self.mock_names().into_iter().find(|name| !exposes(name)) {
            return Err(Error::Config(format!(
                "mock(\"{name}\"): this bridge exposes no #[script_async] function of that \
                 name (check the spelling, the allow-lists and the `State` it needs)"
            )));
        }
        let replay = self.replay.transpose()?;
        Ok(CallRecords::new(self.mocks, self.recorder, replay))
    }

    /// The mocked functions' names, sorted.
    pub(crate) fn mock_names(&self) -> Vec<&str> {
        let mut mocks: Vec<&str> = self.mocks.keys().map(String::as_str).collect();
        mocks.sort_unstable();
        mocks
    }
}

/// A bridge's record, replay and mock settings, shared by its engine threads.
pub(crate) struct CallRecords {
    mocks: HashMap<String, MockFn>,
    recorder: Option<Mutex<Box<dyn Write + Send>>>,
    /// The number of the last call made, for [`RecordedCall::call`].
    calls_made: AtomicU64,
    replay: Option<Mutex<Replay>>,
}

/// The recorded calls not yet served, in order.
struct Replay {
    calls: VecDeque<RecordedCall>,
    /// How many were served (so messages can say which call did not match).
    served: usize,
}

/// A call's outcome as it is recorded.
pub(crate) type Outcome<'a> = Result<&'a Value, (&'a str, &'a str)>;

impl CallRecords {
    /// `None` if nothing is recorded, replayed or mocked.
    pub(crate) fn new(
        mocks: HashMap<String, MockFn>,
        recorder: Option<Box<dyn Write + Send>>,
        replay: Option<Vec<RecordedCall>>,
    ) -> Option<Arc<Self>> {
        if mocks.is_empty() && recorder.is_none() && replay.is_none() {
            return None;
        }
        Some(Arc::new(Self {
            mocks,
            recorder: recorder.map(Mutex::new),
            calls_made: AtomicU64::new(0),
            replay: replay.map(|calls| {
                Mutex::new(Replay {
                    calls: calls.into(),
                    served: 0,
                })
            }),
        }))
    }

    /// Whether calls are written down.
    pub(crate) fn recording(&self) -> bool {
        self.recorder.is_some()
    }

    /// Numbers a call made now, if recording.
    pub(crate) fn number_call(&self) -> u64 {
        self.calls_made.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The outcome of a call of `function` with `arguments` served without calling it: from its
    /// mock, else from the replayed record (a call other than the one recorded next is an
    /// error naming both). `None`: call the real function.
    ///
    /// `arguments` are by parameter name; `in_order` gives them in the parameters' order.
    pub(crate) fn serve(
        &self,
        function: &str,
        arguments: &Value,
        in_order: impl FnOnce() -> Vec<Value>,
    ) -> Option<Result<Value, CallFailure>> {
        if let Some(mock) = self.mocks.get(function) {
            let mocked = catch_unwind(AssertUnwindSafe(|| match mock {
                MockFn::ByName(mock) => mock(arguments.clone()),
                MockFn::InOrder(mock) => mock(in_order()),
            }));
            return Some(match mocked {
                Ok(mocked) => {
                    mocked.map_err(|message| CallFailure::new(CallErrorKind::Error, message))
                }
                Err(panic) => Err(CallFailure::new(
                    CallErrorKind::Panic,
                    describe_panic(panic),
                )),
            });
        }
        let replay = self.replay.as_ref()?;
        let mut replay = replay.lock().unwrap_or_else(PoisonError::into_inner);
        Some(replay.next(function, arguments))
    }

    /// Writes one call down (if recording). A record that cannot be written is an error for the
    /// call, so no call goes unrecorded silently.
    pub(crate) fn record(
        &self,
        call: u64,
        function: &str,
        arguments: Value,
        outcome: Outcome<'_>,
        duration: Duration,
        script: Option<&str>,
    ) -> Result<(), CallFailure> {
        let Some(recorder) = &self.recorder else {
            return Ok(());
        };
        let (result, error) = match outcome {
            Ok(value) => (Some(value.clone()), None),
            Err((kind, message)) => (
                None,
                Some(RecordedError {
                    kind: kind.to_owned(),
                    message: message.to_owned(),
                }),
            ),
        };
        let call = RecordedCall {
            call,
            function: function.to_owned(),
            arguments,
            result,
            error,
            duration_us: u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
            script: script.map(str::to_owned),
        };
        let mut line = serde_json::to_vec(&call).map_err(|e| record_failed(&e))?;
        line.push(b'\n');
        let mut recorder = recorder.lock().unwrap_or_else(PoisonError::into_inner);
        recorder
            .write_all(&line)
            .and_then(|()| recorder.flush())
            .map_err(|e| record_failed(&e))
    }
}

fn record_failed(error: &dyn fmt::Display) -> CallFailure {
    CallFailure::new(
        CallErrorKind::Recording,
        format!("the call could not be recorded: {error}"),
    )
}

impl Replay {
    fn next(&mut self, function: &str, arguments: &Value) -> Result<Value, CallFailure> {
        let number = self.served + 1;
        let Some(call) = self.calls.pop_front() else {
            return Err(CallFailure::new(
                CallErrorKind::Recording,
                format!(
                    "the replay has no call left ({} were recorded) for call {number}, \
                     {function}({arguments})",
                    self.served
                ),
            ));
        };
        if call.function != function || call.arguments != *arguments {
            let message = format!(
                "call {number} does not match the replay: recorded {}({}), the script called \
                 {function}({arguments})",
                call.function, call.arguments
            );
            self.calls.push_front(call);
            return Err(CallFailure::new(CallErrorKind::Recording, message));
        }
        self.served = number;
        match (call.result, call.error) {
            (_, Some(error)) => Err(CallFailure::new(
                CallErrorKind::from_name(&error.kind).unwrap_or(CallErrorKind::Error),
                error.message,
            )),
            (Some(value), None) => Ok(value),
            (None, None) => Ok(Value::Null),
        }
    }
}

/// Reads recorded calls, one JSON object per line (blank lines skipped); a line that is not one
/// is an error naming the line.
pub(crate) fn read_recorded(reader: impl BufRead) -> Result<Vec<RecordedCall>, Error> {
    let mut calls = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| {
            Error::Config(format!(
                "reading the replay failed at line {}: {e}",
                index + 1
            ))
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let call = serde_json::from_str(&line).map_err(|e| {
            Error::Config(format!(
                "line {} of the replay is not a recorded call: {e}",
                index + 1
            ))
        })?;
        calls.push(call);
    }
    // In the order the calls were made (stable: a log without numbers keeps its line order).
    calls.sort_by_key(|call: &RecordedCall| call.call);
    Ok(calls)
}
