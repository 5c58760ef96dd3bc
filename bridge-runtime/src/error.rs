//! The errors a host sees: [`Error`] and the pieces it is made of.

use std::fmt;
use std::time::Duration;

/// Where in a script something happened, in Rhai's own terms (`line 2, position 1`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ScriptPosition {
    /// 1-based line and 1-based column, or `None` when Rhai knew no position.
    line_and_column: Option<(usize, usize)>,
}

impl ScriptPosition {
    /// A position at `line`, `column` (both 1-based).
    pub const fn new(line: usize, column: usize) -> Self {
        Self {
            line_and_column: Some((line, column)),
        }
    }

    /// No position is known.
    pub const NONE: Self = Self {
        line_and_column: None,
    };

    /// The 1-based line, if known.
    pub fn line(&self) -> Option<usize> {
        self.line_and_column.map(|(line, _)| line)
    }

    /// The 1-based column ("position" in Rhai's words), if known.
    pub fn column(&self) -> Option<usize> {
        self.line_and_column.map(|(_, column)| column)
    }

    pub(crate) fn from_rhai(position: rhai::Position) -> Self {
        match (position.line(), position.position()) {
            (Some(line), Some(column)) => Self::new(line, column),
            (Some(line), None) => Self::new(line, 0),
            _ => Self::NONE,
        }
    }
}

impl fmt::Display for ScriptPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line_and_column {
            Some((line, column)) => write!(f, "line {line}, position {column}"),
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
    /// [`max_calls_in_flight`](crate::BridgeBuilder::max_calls_in_flight) calls started and not
    /// waited on.
    Limit,
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
        }
    }
}

impl fmt::Display for CallErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed call from a script to an async function, uncaught by the script.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// Everything that can end [`run`](crate::run) or [`Bridge::run`](crate::Bridge::run) with an error.
///
/// It is `Send + Sync + Clone` and holds no Rhai values, so it can cross back to any thread.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A call to an async function failed and the script did not catch it.
    #[error("{0}")]
    Call(CallError),
    /// The script does not parse.
    #[error("syntax error: {message} ({position})")]
    Syntax {
        /// Rhai's description of the problem.
        message: String,
        /// Where it is.
        position: ScriptPosition,
    },
    /// Rhai stopped the script: an unknown function or variable, a type error, `throw`, a limit.
    #[error("script error: {message} ({position})")]
    Script {
        /// Rhai's description of the problem.
        message: String,
        /// Where it happened.
        position: ScriptPosition,
    },
    /// The script finished, but its value has no JSON form.
    #[error("the script's result cannot be returned as JSON: {message}")]
    Result {
        /// What could not be converted, and where inside the value.
        message: String,
    },
    /// Two `#[script_async]` functions claim one script name.
    #[error(
        "two async functions are registered under the script name `{name}`: `{first}` and \
         `{second}`; rename one with #[script_async(name = \"...\")]"
    )]
    DuplicateFunction {
        /// The script name both claim.
        name: String,
        /// The Rust path of one of them.
        first: String,
        /// The Rust path of the other.
        second: String,
    },
    /// The bridge could not start one of its threads or its tokio runtime.
    #[error("the bridge could not start: {0}")]
    Startup(String),
    /// The script was cancelled (by its [`ScriptHandle`](crate::ScriptHandle), or by dropping the
    /// future of `run_async`).
    #[error("the script was cancelled")]
    Cancelled,
    /// The script ran past its wall-clock limit (`script_timeout`); its calls in flight were dropped.
    #[error("the script did not finish within its time limit of {}", describe_duration(Some(*limit)))]
    Timeout {
        /// The limit it ran past.
        limit: Duration,
    },
    /// The bridge's settings are inconsistent: an allowed function or group that does not exist,
    /// or a function whose state was never given.
    #[error("invalid bridge settings: {0}")]
    Config(String),
    /// The bridge shut down before the script finished.
    #[error("the bridge shut down before the script finished")]
    Shutdown,
    /// A blocking [`run`](crate::Bridge::run) or [`join`](crate::ScriptHandle::join) was called
    /// on one of a bridge's own threads (inside an async function a script called), where it
    /// would wait on itself.
    #[error(
        "a blocking run or join was called on a bridge's own thread (inside a function that a \
         script called), where it would wait on itself; use run_async(..).await there instead"
    )]
    BlockingOnBridgeThread,
    /// A bug in the bridge itself: please report it with the message.
    #[error("internal error in the bridge: {0}")]
    Internal(String),
}

/// Why a call failed on the worker (the function's error, a missing state, a panic): what a
/// command's dispatch returns instead of its output. Used by generated code only.
#[doc(hidden)]
#[derive(Debug)]
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
