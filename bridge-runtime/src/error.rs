//! The errors a host sees: [`Error`] and the pieces it is made of.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Where in a script something happened, in Rhai's own terms (`line 2, position 1`), and in
/// which script if it was given a name ([`ScriptRun::name`](crate::ScriptRun::name)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScriptPosition {
    /// The 1-based line and, where known, the 1-based column; `None` when Rhai knew no position.
    line_and_column: Option<(usize, Option<usize>)>,
    script: Option<Arc<str>>,
}

impl ScriptPosition {
    /// A position at `line`, `column` (both 1-based).
    pub const fn new(line: usize, column: usize) -> Self {
        Self {
            line_and_column: Some((line, Some(column))),
            script: None,
        }
    }

    /// No position is known.
    pub const NONE: Self = Self {
        line_and_column: None,
        script: None,
    };

    /// The same position, in the script named `name`.
    pub fn in_script(mut self, name: impl Into<Arc<str>>) -> Self {
        self.script = Some(name.into());
        self
    }

    /// The name of the script, if it was given one.
    pub fn script(&self) -> Option<&str> {
        self.script.as_deref()
    }

    /// The 1-based line, if known.
    pub fn line(&self) -> Option<usize> {
        self.line_and_column.map(|(line, _)| line)
    }

    /// The 1-based column ("position" in Rhai's words), if known (Rhai knows the line alone of
    /// some errors, such as one at the end of a line).
    pub fn column(&self) -> Option<usize> {
        self.line_and_column.and_then(|(_, column)| column)
    }

    /// Rhai's `position` in the script named `script` (if named).
    pub(crate) fn from_rhai(position: rhai::Position, script: Option<&Arc<str>>) -> Self {
        let line_and_column = position.line().map(|line| (line, position.position()));
        Self {
            line_and_column,
            script: script.cloned(),
        }
    }
}

impl fmt::Display for ScriptPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(script) = &self.script {
            write!(f, "{script}, ")?;
        }
        match self.line_and_column {
            Some((line, Some(column))) => write!(f, "line {line}, position {column}"),
            Some((line, None)) => write!(f, "line {line}"),
            None => f.write_str("unknown position"),
        }
    }
}

/// Why a call from a script to an async function failed.
///
/// The script sees the same thing as the `kind` field of the error map it catches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallErrorKind {
    /// The function returned `Err(e)`; the message is `e`'s `Display`.
    Error,
    /// The function panicked; the message is the panic message.
    Panic,
    /// A script argument could not be converted to the parameter's Rust type.
    Argument,
    /// The function's return value has no script form (an integer beyond `i64`, a map with
    /// non-string keys, or data nested deeper than [`MAX_VALUE_DEPTH`](crate::MAX_VALUE_DEPTH)).
    Return,
    /// The call ran past its time limit (`#[script_async(timeout_ms = ...)]` or the bridge's
    /// `call_timeout`); its future was dropped.
    Timeout,
    /// The function needs a `ScriptContext<T>` (or `State<T>`) that was not given.
    Context,
    /// The bridge shut down before the call finished.
    Shutdown,
    /// The call would pass one of the bridge's limits: the script already has
    /// [`max_calls_in_flight`](crate::Limits::max_calls_in_flight) calls started and not
    /// waited on.
    Limit,
    /// Recording or replaying calls failed: the replay's next recorded call is another function
    /// or has other arguments (the message names both), the replay has run out, or the record
    /// could not be written.
    Recording,
    /// The function is not one this bridge exposes (its allow-list leaves it out): a command
    /// given to [`Bridge::dispatch`](crate::Bridge::dispatch) names it.
    NotExposed,
    /// In a record only: the call's outcome never reached its script (the script stopped while
    /// the call was in flight, or dropped the call's handle). A replay serves it as this error.
    Stopped,
    /// A method was called on a resource that is no longer open: a method taking `self` consumed
    /// it (`tx.commit()`), so nothing is left to call.
    Closed,
}

impl CallErrorKind {
    /// The name scripts see in the caught error's `kind` field.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Panic => "panic",
            Self::Argument => "argument",
            Self::Return => "return",
            Self::Timeout => "timeout",
            Self::Context => "context",
            Self::Shutdown => "shutdown",
            Self::Limit => "limit",
            Self::Recording => "recording",
            Self::NotExposed => "not_exposed",
            Self::Stopped => "stopped",
            Self::Closed => "closed",
        }
    }

    /// The kind whose [`as_str`](Self::as_str) is `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Error,
            Self::Panic,
            Self::Argument,
            Self::Return,
            Self::Timeout,
            Self::Context,
            Self::Shutdown,
            Self::Limit,
            Self::Recording,
            Self::NotExposed,
            Self::Stopped,
            Self::Closed,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for CallErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed call from a script to an async function, uncaught by the script.
///
/// Its `Display` says everything (the function, what went wrong, where), so it has no
/// [`source`](std::error::Error::source): the function's own error crossed threads as its text
/// only, which is [`message`](Self::message).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallError {
    /// The name the script called the function by.
    pub function: String,
    /// What went wrong.
    pub kind: CallErrorKind,
    /// The error's `Display`, the panic message, or what was expected and given.
    pub message: String,
    /// The parameter at fault, for [`CallErrorKind::Argument`].
    pub param: Option<String>,
    /// Where the script made the call.
    pub position: ScriptPosition,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            function,
            kind,
            message,
            param,
            position,
        } = self;
        match (kind, param) {
            (CallErrorKind::Argument, Some(param)) => write!(
                f,
                "{function}: bad argument `{param}`: {message} ({position})"
            ),
            (CallErrorKind::Error, _) => write!(f, "{function} failed: {message} ({position})"),
            (CallErrorKind::Panic, _) => write!(f, "{function} panicked: {message} ({position})"),
            (kind, _) => write!(f, "{function}: {kind} error: {message} ({position})"),
        }
    }
}

impl std::error::Error for CallError {}

/// Everything that can end [`run`](crate::run) or [`Bridge::run`](crate::Bridge::run) with an error.
///
/// It is `Send + Sync + Clone` and holds no Rhai values, so it can cross back to any thread. Its
/// `Display` says everything (what, where, and the underlying error's text: Rhai's, serde's, or
/// the function's), so no variant has a [`source`](std::error::Error::source), and an
/// `anyhow`/`eyre` chain prints each message once.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A call to an async function failed and the script did not catch it.
    Call(CallError),
    /// The script does not parse.
    Syntax {
        /// Rhai's description of the problem.
        message: String,
        /// Where it is.
        position: ScriptPosition,
    },
    /// Rhai stopped the script: an unknown function or variable, a type error, `throw`, a limit.
    Script {
        /// Rhai's description of the problem.
        message: String,
        /// Where it happened.
        position: ScriptPosition,
    },
    /// The script finished, but its value has no JSON form.
    ResultNotJson {
        /// What could not be converted, and where inside the value.
        message: String,
    },
    /// The script finished, but its value does not fit the type asked for with `run_as`.
    ResultType {
        /// The Rust type asked for.
        type_name: &'static str,
        /// What did not fit, as serde says it.
        message: String,
    },
    /// A value given to the script with [`ScriptRun::with`](crate::ScriptRun::with) (or a
    /// bridge's [`global`](crate::BridgeBuilder::global)) cannot become a script value, or its
    /// name cannot be a script variable.
    Input {
        /// The variable's name.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// Two `#[script_async]` functions claim one script name.
    DuplicateFunction {
        /// The script name both claim.
        name: String,
        /// The Rust path of one of them.
        first: String,
        /// The Rust path of the other.
        second: String,
    },
    /// The bridge could not start one of its threads or its tokio runtime.
    Startup(String),
    /// The system could not give the script what it needs to start, its stack: the process has
    /// as many as the system's limit on memory mappings allows (`vm.max_map_count`, about
    /// 31,700 scripts at Linux's default), or memory ran out. The message says which, and what
    /// to change.
    Resources(String),
    /// The script was cancelled (by its [`ScriptHandle`](crate::ScriptHandle), or by dropping the
    /// future of `run_async`).
    Cancelled,
    /// The script ran past its wall-clock limit (`script_timeout`); its calls in flight were dropped.
    Timeout {
        /// The limit it ran past.
        limit: Duration,
    },
    /// The bridge's settings are inconsistent or out of range: an allowed function or group that
    /// does not exist, a function whose state was never given, or a numeric setting the host
    /// cannot have (the message names it, its value and the range allowed).
    Config(String),
    /// The bridge shut down before the script finished.
    Shutdown,
    /// A blocking [`run`](crate::Bridge::run), [`join`](crate::ScriptHandle::join) or
    /// [`dispatch`](crate::Bridge::dispatch) was called on one of a bridge's own threads (inside
    /// an async function a script called), where it would wait on itself.
    BlockingOnBridgeThread,
    /// A bug in the bridge itself: please report it with the message.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Call(error) => fmt::Display::fmt(error, f),
            Self::Syntax { message, position } => write!(f, "syntax error: {message} ({position})"),
            Self::Script { message, position } => write!(f, "script error: {message} ({position})"),
            Self::ResultNotJson { message } => {
                write!(
                    f,
                    "the script's result cannot be returned as JSON: {message}"
                )
            }
            Self::ResultType { type_name, message } => {
                write!(
                    f,
                    "the script's result does not fit `{type_name}`: {message}"
                )
            }
            Self::Input { name, message } => write!(f, "the script input `{name}` {message}"),
            Self::DuplicateFunction {
                name,
                first,
                second,
            } => write!(
                f,
                "two async functions are registered under the script name `{name}`: `{first}` and \
                 `{second}`; rename one with #[script_async(name = \"...\")]"
            ),
            Self::Startup(cause) => write!(f, "the bridge could not start: {cause}"),
            Self::Resources(cause) => write!(f, "the script could not start: {cause}"),
            Self::Cancelled => f.write_str("the script was cancelled"),
            Self::Timeout { limit } => write!(
                f,
                "the script did not finish within its time limit of {}",
                describe_duration(Some(*limit))
            ),
            Self::Config(problem) => write!(f, "invalid bridge settings: {problem}"),
            Self::Shutdown => f.write_str("the bridge shut down before the script finished"),
            Self::BlockingOnBridgeThread => f.write_str(
                "a blocking run, join or dispatch was called on a bridge's own thread (inside a \
                 function that a script called), where it would wait on itself; use \
                 run_async(..).await there instead, or await the function directly",
            ),
            Self::Internal(problem) => write!(f, "internal error in the bridge: {problem}"),
        }
    }
}

impl Error {
    /// A short name for the kind of error, as traces record it.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            Self::Call(_) => "call",
            Self::Syntax { .. } => "syntax",
            Self::Script { .. } => "script",
            Self::ResultNotJson { .. } => "result",
            Self::ResultType { .. } => "result_type",
            Self::Input { .. } => "input",
            Self::DuplicateFunction { .. } => "duplicate_function",
            Self::Startup(_) => "startup",
            Self::Resources(_) => "resources",
            Self::Cancelled => "cancelled",
            Self::Timeout { .. } => "timeout",
            Self::Config(_) => "config",
            Self::Shutdown => "shutdown",
            Self::BlockingOnBridgeThread => "blocking_on_bridge_thread",
            Self::Internal(_) => "internal",
        }
    }
}

impl std::error::Error for Error {}

/// Why a call failed on the worker (the function's error, a missing state, a panic): what a
/// command's dispatch returns instead of its output. Used by generated code only.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct CallFailure {
    pub(crate) kind: CallErrorKind,
    pub(crate) message: String,
}

impl CallFailure {
    pub(crate) fn new(kind: CallErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// `2 s`, `150 ms`: how durations appear in messages.
pub(crate) fn describe_duration(duration: Option<Duration>) -> String {
    match duration {
        Some(duration) if duration.subsec_millis() == 0 && duration.as_secs() > 0 => {
            format!("{} s", duration.as_secs())
        }
        Some(duration) => format!("{} ms", duration.as_millis()),
        None => "its time limit".to_owned(),
    }
}

/// The most of a piece of input (a name, a tag, a kind) that a message quotes.
const QUOTED_INPUT_LIMIT: usize = 200;

/// `text` as a message may quote it: whole if short, else its start and how much was cut, so a
/// 100 MB input never lands whole in an error.
pub(crate) fn cut_for_message(text: &str) -> String {
    if text.len() <= QUOTED_INPUT_LIMIT {
        return text.to_owned();
    }
    let mut end = QUOTED_INPUT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} more bytes)", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_rhai_knows_the_line_of_only_has_no_column() {
        let line_only = ScriptPosition::from_rhai(rhai::Position::new(3, 0), None);
        assert_eq!((line_only.line(), line_only.column()), (Some(3), None));
        assert_eq!(line_only.to_string(), "line 3");
        let both = ScriptPosition::from_rhai(rhai::Position::new(3, 7), Some(&"job".into()));
        assert_eq!((both.line(), both.column()), (Some(3), Some(7)));
        assert_eq!(both.to_string(), "job, line 3, position 7");
        assert_eq!(ScriptPosition::NONE.to_string(), "unknown position");
    }

    #[test]
    fn long_input_is_cut_in_messages() {
        let cut = cut_for_message(&"x".repeat(1000));
        assert!(cut.starts_with(&"x".repeat(200)) && cut.ends_with("... (800 more bytes)"));
    }
}
