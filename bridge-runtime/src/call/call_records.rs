//! Record, replay and mock: calls kept as JSON lines and served again, or served by the host.
//!
//! All three work on what the script sees (its arguments and the value or error it gets back),
//! on the engine thread, so a replayed or mocked call looks to the script exactly like the real
//! one, and a run that uses none of them pays one `Option` test per call.

use crate::call::record_writer::RecordWriter;
use crate::call::replay_log::{
    check_replay, ReadCall, RecordedCall, RecordedError, RecordedOutcome,
};
use crate::catch_unwind::describe_panic;
use crate::error::{CallErrorKind, CallFailure, Error};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A host function standing in for a `#[script_async]` function: it returns the script's value
/// or an error message.
#[derive(Clone)]
pub(crate) enum MockFn {
    /// Given the arguments as a JSON object by parameter name.
    ByName(Arc<dyn Fn(Value) -> Result<Value, String> + Send + Sync>),
    /// Given the arguments in order.
    InOrder(Arc<dyn Fn(Vec<Value>) -> Result<Value, String> + Send + Sync>),
}

/// How a call is served instead of calling its function.
pub(crate) enum Served {
    /// By the host's mock, still to be run.
    Mocked(MockInvocation),
    /// From the replayed record: its outcome.
    Replayed(Result<Value, CallFailure>),
}

/// A mock and the arguments of one call of it.
pub(crate) struct MockInvocation {
    mock: MockFn,
    arguments: MockArguments,
}

enum MockArguments {
    ByName(Value),
    InOrder(Vec<Value>),
}

impl MockInvocation {
    /// Runs the mock (a panic in it is the call's `panic` error).
    pub(crate) fn run(self) -> Result<Value, CallFailure> {
        let mocked = catch_unwind(AssertUnwindSafe(|| match (self.mock, self.arguments) {
            (MockFn::ByName(mock), MockArguments::ByName(arguments)) => mock(arguments),
            (MockFn::InOrder(mock), MockArguments::InOrder(arguments)) => mock(arguments),
            // `serve` builds the arguments for the mock's own form.
            _ => Err("the mock was given its arguments in the wrong form".to_owned()),
        }));
        match mocked {
            Ok(mocked) => mocked.map_err(|message| CallFailure::new(CallErrorKind::Error, message)),
            Err(panic) => Err(CallFailure::new(
                CallErrorKind::Panic,
                describe_panic(panic),
            )),
        }
    }
}

/// What a builder was told to record, replay and mock.
#[derive(Default)]
pub(crate) struct RecordSettings {
    pub(crate) mocks: HashMap<String, MockFn>,
    pub(crate) recorder: Option<Box<dyn Write + Send>>,
    /// Read when `replay` is called; a bad log fails `build`.
    pub(crate) replay: Option<Result<Vec<ReadCall>, Error>>,
}

impl RecordSettings {
    /// The shared settings for the engine threads (`None` if nothing is recorded, replayed or
    /// mocked), or the error that fails `build`: an unreadable or inconsistent replay, or a
    /// mock for a function this bridge does not expose (`functions` are the exposed ones).
    pub(crate) fn into_records(
        self,
        functions: &[(&'static str, &'static str)],
    ) -> Result<Option<Arc<CallRecords>>, Error> {
        let exposes = |name: &str| functions.iter().any(|(function, _)| *function == name);
        if let Some(name) = self.mock_names().into_iter().find(|name| !exposes(name)) {
            return Err(Error::Config(format!(
                "mock(\"{name}\"): this bridge exposes no #[script_async] function of that \
                 name (check the spelling, the allow-lists and the `State` it needs)"
            )));
        }
        let replay = self
            .replay
            .transpose()?
            .map(|calls| check_replay(calls, functions))
            .transpose()?;
        let recorder = self
            .recorder
            .map(RecordWriter::start)
            .transpose()
            .map_err(|e| Error::Startup(format!("the record's writer thread: {e}")))?;
        Ok(CallRecords::new(self.mocks, recorder, replay))
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
    recorder: Option<RecordWriter>,
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
        recorder: Option<RecordWriter>,
        replay: Option<Vec<RecordedCall>>,
    ) -> Option<Arc<Self>> {
        if mocks.is_empty() && recorder.is_none() && replay.is_none() {
            return None;
        }
        Some(Arc::new(Self {
            mocks,
            recorder,
            calls_made: AtomicU64::new(0),
            replay: replay.map(|calls| {
                Mutex::new(Replay {
                    calls: calls.into(),
                    served: 0,
                })
            }),
        }))
    }

    /// Whether calls of `function` are served without calling it (mocked, or replayed).
    pub(crate) fn serves(&self, function: &str) -> bool {
        self.mocks.contains_key(function) || self.replay.is_some()
    }

    /// Whether calls are written down.
    pub(crate) fn recording(&self) -> bool {
        self.recorder.is_some()
    }

    /// Numbers a call made now, if recording.
    pub(crate) fn number_call(&self) -> u64 {
        self.calls_made.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// How a call of `function` with `arguments` is served without calling it: by its mock
    /// (which the caller runs where a slow one holds up only its own script), else from the
    /// replayed record (a call other than the one recorded next is an error naming both).
    /// `None`: call the real function.
    ///
    /// `arguments` are by parameter name; `in_order` gives them in the parameters' order.
    pub(crate) fn serve(
        &self,
        function: &str,
        arguments: &Value,
        in_order: impl FnOnce() -> Vec<Value>,
    ) -> Option<Served> {
        if let Some(mock) = self.mocks.get(function) {
            let arguments = match mock {
                MockFn::ByName(_) => MockArguments::ByName(arguments.clone()),
                MockFn::InOrder(_) => MockArguments::InOrder(in_order()),
            };
            return Some(Served::Mocked(MockInvocation {
                mock: mock.clone(),
                arguments,
            }));
        }
        let replay = self.replay.as_ref()?;
        let mut replay = replay.lock().unwrap_or_else(PoisonError::into_inner);
        Some(Served::Replayed(replay.next(function, arguments)))
    }

    /// Hands one call to the record's writer (if recording). A call that cannot be recorded (the
    /// writer failed or panicked earlier, or its buffer is full) is an error for the call, so no
    /// call goes unrecorded silently; none waits for the writer.
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
        let outcome = match outcome {
            Ok(value) => RecordedOutcome::Value(value.clone()),
            Err((kind, message)) => RecordedOutcome::Error(RecordedError {
                kind: kind.to_owned(),
                message: message.to_owned(),
            }),
        };
        let call = RecordedCall {
            call,
            function: function.to_owned(),
            arguments,
            outcome,
            duration_us: u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
            script: script.map(str::to_owned),
        };
        let mut line = serde_json::to_vec(&call).map_err(|e| record_failed(&e))?;
        line.push(b'\n');
        recorder
            .write(line)
            .map_err(|why| CallFailure::new(CallErrorKind::Recording, why))
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
        match call.outcome {
            RecordedOutcome::Error(error) => Err(CallFailure::new(
                CallErrorKind::from_name(&error.kind).unwrap_or(CallErrorKind::Error),
                error.message,
            )),
            RecordedOutcome::Value(value) => Ok(value),
        }
    }
}
