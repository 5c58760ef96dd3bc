//! A call's outcome as its script gets it: the value converted to a script value, recorded if
//! the bridge records, and any failure raised as the catchable `#{ function, kind, message }`
//! error.

use crate::call::intercept::Recording;
use crate::call::raise::ProxyResult;
use crate::call::running_script::{call_error, RunningScript};
use crate::convert::dynamic_to_json;
use crate::error::{CallErrorKind, CallFailure};
use crate::resource::returned::SentValue;
use crate::trace::CallTrace;
use rhai::Position;

/// What a call's outcome still needs on its way to the script: its function's name, its
/// recording, and its span, finished with the outcome.
pub(crate) struct ScriptReply {
    pub(crate) function: &'static str,
    pub(crate) recording: Option<Recording>,
    pub(crate) trace: CallTrace,
}

impl ScriptReply {
    /// `reply` for `running`, taken at `position`: converted, recorded, raised if a failure.
    pub(crate) fn finish<T: SentValue>(
        self,
        running: &RunningScript,
        reply: Result<T, CallFailure>,
        position: Position,
    ) -> ProxyResult {
        let Self {
            function,
            mut recording,
            mut trace,
        } = self;
        // A value a record cannot hold is refused before it reaches the script (it is dropped,
        // and a resource with it) and the call is not recorded.
        let refused = recording
            .as_ref()
            .and(reply.as_ref().ok())
            .and_then(SentValue::resource_type)
            .map(|resource| {
                CallFailure::new(
                    CallErrorKind::Recording,
                    format!(
                        "it returns a {resource}, a resource, which a record cannot hold; leave \
                         this function out of what the bridge records"
                    ),
                )
            });
        let mut outcome = match refused {
            Some(failure) => {
                drop(recording.take());
                Err(failure)
            }
            None => reply.and_then(|value| value.into_dynamic_from(function)),
        };
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
