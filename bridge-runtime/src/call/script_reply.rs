//! A call's outcome as its script gets it: the value converted to a script value, recorded if
//! the bridge records, and any failure raised as the catchable `#{ function, kind, message }`
//! error.

use crate::call::intercept::Recording;
use crate::call::raise::ProxyResult;
use crate::call::running_script::{call_error, RunningScript};
use crate::catch_unwind::{describe_panic, drop_quietly};
use crate::convert::{dynamic_to_json, into_script};
use crate::error::{CallErrorKind, CallFailure};
use crate::trace::CallTrace;
use rhai::{Dynamic, Position};
use serde::Serialize;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What a call's outcome still needs on its way to the script: its function's name, its
/// recording, and its span, finished with the outcome.
pub(crate) struct ScriptReply {
    pub(crate) function: &'static str,
    pub(crate) recording: Option<Recording>,
    pub(crate) trace: CallTrace,
}

impl ScriptReply {
    /// `reply` for `running`, taken at `position`: converted, recorded, raised if a failure.
    pub(crate) fn finish<T: Serialize + 'static>(
        self,
        running: &RunningScript,
        reply: Result<T, CallFailure>,
        position: Position,
    ) -> ProxyResult {
        let Self {
            function,
            recording,
            mut trace,
        } = self;
        let mut outcome = to_script(reply);
        if let Some(recording) = recording {
            let recorded = match &outcome {
                Ok(value) => dynamic_to_json(value)
                    .map_err(|e| CallFailure::new(CallErrorKind::Return, e.to_string())),
                Err(failure) => Err(failure.clone()),
            };
            if let Err(failure) = recording.finish(&recorded) {
                outcome = Err(failure);
            }
        }
        match outcome {
            Ok(value) => {
                trace.finish("ok");
                Ok(value)
            }
            Err(failure) => {
                trace.finish(failure.kind.as_str());
                let (kind, message) = (failure.kind, failure.message);
                Err(call_error(
                    Some(running),
                    function,
                    kind,
                    message,
                    None,
                    position,
                ))
            }
        }
    }
}

/// A function's value as a script value (a panic converting it is the call's `panic` failure;
/// the value is dropped with any panic in its `Drop` contained).
fn to_script<T: Serialize + 'static>(
    reply: Result<T, CallFailure>,
) -> Result<Dynamic, CallFailure> {
    let output = reply?;
    let converted = catch_unwind(AssertUnwindSafe(|| into_script(&output)));
    drop_quietly(output);
    match converted {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(CallFailure::new(
            CallErrorKind::Return,
            format!("the return value has no script form: {e}"),
        )),
        Err(payload) => Err(CallFailure::new(
            CallErrorKind::Panic,
            format!(
                "converting the return value panicked: {}",
                describe_panic(payload)
            ),
        )),
    }
}
