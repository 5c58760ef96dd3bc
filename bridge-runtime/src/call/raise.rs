//! The script errors the call protocol raises that are not a call's own: a stop, a misuse.

use crate::sync::control::StopReason;
use rhai::{Dynamic, EvalAltResult, Position};

/// What a proxy returns: the call's script value, or the script error to raise.
pub type ProxyResult = Result<Dynamic, Box<EvalAltResult>>;

/// The uncatchable error that ends a stopped script; the engine maps it to the stop's reason.
pub(crate) fn terminated(reason: StopReason, position: Position) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorTerminated(
        reason.as_str().into(),
        position,
    ))
}

/// A catchable script error that is not a call's: a misuse of `start` or a handle, or a
/// function of the engine called while no script runs.
pub(crate) fn runtime_error(message: impl Into<String>, position: Position) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(message.into().into(), position))
}
