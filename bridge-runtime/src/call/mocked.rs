//! A mocked call, run on the worker's blocking pool: a mock is the host's synchronous code and
//! may be slow, so it runs where a slow one holds up only its own script, whose deadline and
//! cancel end the wait as they end a real call's.

use crate::call::call_records::MockInvocation;
use crate::call::command::{CallFrame, CallFuture, CallPayload, WorkerContext};
use crate::catch_unwind::{describe_panic, CatchUnwind};
use crate::error::{CallErrorKind, CallFailure};
use crate::sync::reply::CellSender;
use crate::trace;
use serde_json::Value;

/// A mocked call on its way to the worker.
pub(crate) struct MockedCall {
    /// Taken by the worker when it starts the call.
    pub(crate) invocation: Option<MockInvocation>,
    pub(crate) frame: CallFrame,
}

impl CallPayload for MockedCall {
    type Reply = Result<Value, CallFailure>;

    fn into_future(
        mut sender: CellSender<Self, Self::Reply>,
        _worker: &WorkerContext,
    ) -> CallFuture {
        let span = sender.payload().frame.span.clone();
        let call = async move {
            if sender.payload().frame.scope.is_set() {
                return;
            }
            let Some(invocation) = sender.payload_mut().invocation.take() else {
                return;
            };
            // A mock still running when its script stops runs on to its end on its blocking
            // thread; nobody waits for it.
            let mocked = std::pin::pin!(Some(CatchUnwind::new(async move {
                match tokio::task::spawn_blocking(move || invocation.run()).await {
                    Ok(outcome) => outcome,
                    Err(failed) => Err(CallFailure::new(
                        CallErrorKind::Panic,
                        match failed.try_into_panic() {
                            Ok(panic) => describe_panic(panic),
                            Err(failed) => failed.to_string(),
                        },
                    )),
                }
            })));
            if let Some(reply) = sender.payload().frame.run(mocked).await {
                sender.send(reply);
            }
        };
        Box::pin(trace::instrument(call, span))
    }
}
