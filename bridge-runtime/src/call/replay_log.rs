//! Reading a replay log, which is input like any other: bounded as it is read, and each line
//! checked against what it claims (a known error kind, one outcome, a result of the function's
//! script type, call numbers each used once) before `build` accepts it.

use crate::error::{CallErrorKind, Error};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::BufRead;

/// The most a replay log may hold, in bytes: read at `build`, it is kept in memory.
pub(crate) const MAX_REPLAY_BYTES: u64 = 64 * 1024 * 1024;

/// Reads recorded calls, one JSON object per line (blank lines skipped), at most
/// [`MAX_REPLAY_BYTES`]; a line that is not one is an error naming the line.
pub(crate) fn read_recorded(reader: impl BufRead) -> Result<Vec<ReadCall>, Error> {
    // One byte past the limit tells a log that is too long from one that just fits.
    let mut bounded = reader.take(MAX_REPLAY_BYTES + 1);
    let mut calls = Vec::new();
    let mut line = String::new();
    let mut read = 0_u64;
    for number in 1.. {
        line.clear();
        let length = bounded.read_line(&mut line).map_err(|e| {
            Error::Config(format!("reading the replay failed at line {number}: {e}"))
        })?;
        if length == 0 {
            break;
        }
        read += length as u64;
        if read > MAX_REPLAY_BYTES {
            return Err(Error::Config(format!(
                "the replay is longer than {MAX_REPLAY_BYTES} bytes (at line {number}); \
                 replay a shorter recording"
            )));
        }
        if line.trim().is_empty() {
            continue;
        }
        let read: RecordedLine = serde_json::from_str(&line).map_err(|e| {
            Error::Config(format!(
                "line {number} of the replay is not a recorded call: {e}"
            ))
        })?;
        let call = RecordedCall::try_from(read)
            .map_err(|why| Error::Config(format!("line {number} of the replay {why}")))?;
        calls.push(ReadCall { line: number, call });
    }
    Ok(calls)
}

/// One call as [`RecordAndReplay::record`](crate::record::RecordAndReplay::record) writes it
/// (one JSON line) and [`RecordAndReplay::replay`](crate::record::RecordAndReplay::replay) reads
/// it: `{"call": 1, "function": .., "arguments": {..}, "result": ..}`, with `"error": {"kind":
/// .., "message": ..}` in place of `"result"` for a failed call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "RecordedLine", try_from = "RecordedLine")]
#[non_exhaustive]
pub struct RecordedCall {
    /// The call's number, counted from 1 in the order scripts made the calls. Lines are written
    /// as calls finish (a call started with `start` may finish after later ones); a replay
    /// serves them in this order.
    pub call: u64,
    /// The name scripts call the function by.
    pub function: String,
    /// The script's arguments by parameter name.
    pub arguments: Value,
    /// What the script got back: a value or an error.
    pub outcome: RecordedOutcome,
    /// How long the call took, in microseconds (`0` for a replayed or mocked call).
    pub duration_us: u64,
    /// The script's name, if it was given one.
    pub script: Option<String>,
}

/// What a recorded call gave its script.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordedOutcome {
    /// The value, as JSON (`null` for a function that returns nothing).
    Value(Value),
    /// The call's error.
    Error(RecordedError),
}

impl RecordedOutcome {
    /// The value, if the call succeeded.
    pub fn value(&self) -> Option<&Value> {
        match self {
            Self::Value(value) => Some(value),
            Self::Error(_) => None,
        }
    }

    /// The error, if the call failed.
    pub fn error(&self) -> Option<&RecordedError> {
        match self {
            Self::Value(_) => None,
            Self::Error(error) => Some(error),
        }
    }
}

/// A recorded call as its JSON line holds it, where `result` and `error` are two fields.
#[derive(Serialize, Deserialize)]
struct RecordedLine {
    #[serde(default)]
    call: u64,
    function: String,
    arguments: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<RecordedError>,
    #[serde(default)]
    duration_us: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    script: Option<String>,
}

impl From<RecordedCall> for RecordedLine {
    fn from(call: RecordedCall) -> Self {
        let (result, error) = match call.outcome {
            RecordedOutcome::Value(value) => (Some(value), None),
            RecordedOutcome::Error(error) => (None, Some(error)),
        };
        Self {
            call: call.call,
            function: call.function,
            arguments: call.arguments,
            result,
            error,
            duration_us: call.duration_us,
            script: call.script,
        }
    }
}

impl TryFrom<RecordedLine> for RecordedCall {
    type Error = &'static str;

    /// A line with neither `result` nor `error` is a call that returned nothing (`null`, which
    /// serde reads as no `result`).
    fn try_from(line: RecordedLine) -> Result<Self, Self::Error> {
        let outcome = match (line.result, line.error) {
            (Some(_), Some(_)) => return Err("has both a result and an error; a call has one"),
            (_, Some(error)) => RecordedOutcome::Error(error),
            (result, None) => RecordedOutcome::Value(result.unwrap_or(Value::Null)),
        };
        Ok(Self {
            call: line.call,
            function: line.function,
            arguments: line.arguments,
            outcome,
            duration_us: line.duration_us,
            script: line.script,
        })
    }
}

/// A recorded call's failure: the `kind` and `message` fields of the error map the script caught.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedError {
    /// [`CallErrorKind::as_str`]: `"error"`, `"timeout"`, ...
    pub kind: String,
    /// The error's message.
    pub message: String,
}

/// A recorded call and the line it was read from.
pub(crate) struct ReadCall {
    line: usize,
    call: RecordedCall,
}

/// Checks `calls` against the bridge's `functions` and puts them in the order they were made:
/// each names a function the bridge exposes (`functions`: each one's name and script return
/// type), an error
/// of a known kind, and a result of the function's script type; the call numbers are either
/// all absent (line order) or 1, 2, 3 and so on, each once.
pub(crate) fn check_replay(
    mut calls: Vec<ReadCall>,
    functions: &[(&'static str, &'static str)],
) -> Result<Vec<RecordedCall>, Error> {
    for ReadCall { line, call } in &calls {
        let bad = |why: String| Error::Config(format!("line {line} of the replay {why}"));
        let Some(&(name, returns)) = functions.iter().find(|(name, _)| *name == call.function)
        else {
            return Err(bad(format!(
                "calls `{}`, which this bridge does not expose",
                cut(&call.function)
            )));
        };
        match &call.outcome {
            RecordedOutcome::Error(error) if CallErrorKind::from_name(&error.kind).is_none() => {
                return Err(bad(format!(
                    "has an error of kind `{}`, which is none of the kinds a call fails with",
                    cut(&error.kind)
                )))
            }
            RecordedOutcome::Value(result) if !fits_script_type(result, returns) => {
                return Err(bad(format!(
                    "has a result that is not a `{returns}`, what `{name}` returns to scripts"
                )))
            }
            _ => {}
        }
    }
    let numbered = calls.iter().filter(|read| read.call.call != 0).count();
    if numbered != 0 {
        if numbered != calls.len() {
            let unnumbered = calls.iter().find(|read| read.call.call == 0);
            let line = unnumbered.map_or(0, |read| read.line);
            return Err(Error::Config(format!(
                "line {line} of the replay has no call number, though other lines have one"
            )));
        }
        calls.sort_by_key(|read| read.call.call);
        for (index, read) in calls.iter().enumerate() {
            let expected = index as u64 + 1;
            if read.call.call != expected {
                let why = if read.call.call < expected {
                    "is used twice"
                } else {
                    "comes where a smaller one is missing"
                };
                return Err(Error::Config(format!(
                    "line {} of the replay has call number {}, which {why} (expected {expected})",
                    read.line, read.call.call
                )));
            }
        }
    }
    Ok(calls.into_iter().map(|read| read.call).collect())
}

/// Whether `value`, as JSON, can be what a function of script type `script_type` returns. A
/// named type the macro cannot see into reads as `map`, and may be an enum (a string).
fn fits_script_type(value: &Value, script_type: &str) -> bool {
    match script_type {
        "int" => value.is_i64() || value.is_u64(),
        "float" => value.is_number(),
        "bool" => value.is_boolean(),
        "char" => value.as_str().is_some_and(|s| s.chars().count() == 1),
        "string" => value.is_string(),
        "array" => value.is_array(),
        // A blob is recorded as its bytes.
        "blob" => value.as_array().is_some_and(|bytes| {
            bytes
                .iter()
                .all(|byte| byte.as_u64().is_some_and(|byte| byte <= 255))
        }),
        "map" => value.is_object() || value.is_string(),
        "()" => value.is_null(),
        _ => true,
    }
}

/// Text from a log, cut to a length a message can quote.
fn cut(text: &str) -> String {
    crate::error::cut_for_message(text)
}
