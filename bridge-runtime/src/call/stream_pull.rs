//! A script's `for` over a [`ScriptStream`](crate::ScriptStream): the engine's iterator for the
//! `Stream` type, which asks the worker for the next batch only once it has used up the last,
//! and waits for it as a call waits (so the script's deadline and cancel apply, and fibers
//! sharing the engine thread run meanwhile).

use crate::call::command::{CallFrame, CallFuture, CallPayload, WorkerContext};
use crate::call::env::{BoundEnv, EngineEnv};
use crate::call::raise::terminated;
use crate::call::running_script::call_error;
use crate::call::transport;
use crate::catch_unwind::CatchUnwind;
use crate::convert::host_types;
use crate::convert::size_limits::SizeLimits;
use crate::error::{CallErrorKind, CallFailure};
use crate::resource::stream::{Batch, StreamEnd, StreamSource, StreamToken, STREAM_TYPE_NAME};
use crate::resource::token::ResourceRef;
use crate::sync::reply::CellSender;
use crate::sync::wait::block_until;
use crate::trace::{self, CallTrace};
use rhai::{Dynamic, EvalAltResult, Module, Position};
use std::any::TypeId;
use std::rc::Rc;

/// Teaches `engine` the `Stream` type: its name, how it prints, and its iterator, which pulls
/// batches through `env` with each item within `limits`.
pub(crate) fn register(
    engine: &mut rhai::Engine,
    functions: &mut Module,
    env: &Rc<EngineEnv>,
    limits: SizeLimits,
) {
    host_types::remember(TypeId::of::<StreamToken>(), STREAM_TYPE_NAME);
    engine.register_type_with_name::<StreamToken>(STREAM_TYPE_NAME);
    let show = |token: &mut StreamToken| format!("{STREAM_TYPE_NAME}#{}", token.inner.id);
    engine.register_fn("to_string", show);
    engine.register_fn("to_debug", show);
    let env = BoundEnv::new(env);
    functions.set_iter_result(TypeId::of::<StreamToken>(), move |value: Dynamic| {
        let token = value.try_cast::<StreamToken>();
        Box::new(StreamIter {
            token,
            env: env.clone(),
            limits,
        }) as Box<dyn Iterator<Item = Result<Dynamic, Box<EvalAltResult>>>>
    });
}

/// One `for` loop over a stream.
struct StreamIter {
    /// `None` if the loop's value was not a stream after all (it cannot be: the iterator is
    /// registered for the type); dropped when the loop ends, which releases a stream that no
    /// variable holds.
    token: Option<StreamToken>,
    env: BoundEnv,
    limits: SizeLimits,
}

impl Iterator for StreamIter {
    type Item = Result<Dynamic, Box<EvalAltResult>>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.next_item();
        if let Some(Err(error)) = &item {
            // Ends the loop after its error, whatever the loop does with it: Rhai drains a `for`
            // with an empty body without looking at its items, and would otherwise ask again
            // and again (a stream of another script would spin for ever). A stopped script's
            // loop is left to ask again: its next operation ends it.
            if !matches!(**error, EvalAltResult::ErrorTerminated(..)) {
                self.token = None;
            }
        }
        item
    }
}

impl StreamIter {
    fn next_item(&mut self) -> Option<Result<Dynamic, Box<EvalAltResult>>> {
        let token = self.token.as_ref()?;
        loop {
            {
                let mut pulled = token.pulled();
                if let Some(item) = pulled.items.pop_front() {
                    return Some(Ok(item.to_dynamic()));
                }
                match pulled.end.take() {
                    Some(StreamEnd::Finished) => {
                        pulled.end = Some(StreamEnd::Finished);
                        return None;
                    }
                    Some(StreamEnd::Failed(failure)) => {
                        // Raised once; a later loop over the same stream runs no times.
                        pulled.end = Some(StreamEnd::Finished);
                        return Some(Err(self.raise(token, failure)));
                    }
                    None => {}
                }
            }
            match self.pull(token) {
                Ok(batch) => {
                    let mut pulled = token.pulled();
                    pulled.items.extend(batch.items);
                    pulled.end = batch.end;
                }
                Err(error) => return Some(Err(error)),
            }
        }
    }

    /// Asks the worker for the stream's next batch, and waits for it as a call does.
    fn pull(&self, token: &StreamToken) -> Result<Batch, Box<EvalAltResult>> {
        let position = Position::NONE;
        let env = self.env.get(position)?;
        let running = env.require_running(position)?;
        if !token.inner.belongs_to(running.control.calls()) {
            let failure = CallFailure::new(
                CallErrorKind::Argument,
                "this Stream belongs to another script: a stream stays with the script that \
                 opened it"
                    .to_owned(),
            );
            return Err(self.raise(token, failure));
        }
        if let Some(reason) = running.control.stop_reason() {
            return Err(terminated(reason, position));
        }
        let mut trace = CallTrace::start(token.function);
        let payload = NextBatch {
            stream: Some(ResourceRef::holding(token.inner.clone())),
            limits: self.limits,
            frame: CallFrame {
                scope: running.control.calls().clone(),
                timeout: env.call_timeout(),
                span: trace.span().clone(),
            },
        };
        let pending = transport::hand_over(env.commands(), payload, running.waker.clone())
            .map_err(|failure| self.raise(token, failure))?;
        let arrived = block_until(
            &running.control,
            env.spin(),
            || pending.is_finished(),
            || pending.arm(),
        );
        if let Err(reason) = arrived {
            trace.finish(reason.as_str());
            return Err(terminated(reason, position));
        }
        match pending.take() {
            Ok(batch) => {
                trace.finish("ok");
                Ok(batch)
            }
            Err(failure) => {
                trace.finish(failure.kind.as_str());
                Err(self.raise(token, failure))
            }
        }
    }

    /// `failure` as the catchable error of the function that returned the stream.
    fn raise(&self, token: &StreamToken, failure: CallFailure) -> Box<EvalAltResult> {
        let running = self.env.on_this_thread().and_then(|env| env.running());
        call_error(
            running.as_deref(),
            token.function,
            failure.kind,
            failure.message,
            None,
            Position::NONE,
        )
    }
}

/// A request for a stream's next batch, on its way to the worker.
pub(crate) struct NextBatch {
    /// Taken by the worker when it pulls; keeps the stream open until then.
    stream: Option<ResourceRef<StreamSource>>,
    limits: SizeLimits,
    frame: CallFrame,
}

impl CallPayload for NextBatch {
    type Reply = Result<Batch, CallFailure>;

    fn into_future(
        mut sender: CellSender<Self, Self::Reply>,
        worker: &WorkerContext,
    ) -> CallFuture {
        let span = sender.payload().frame.span.clone();
        let scope = sender.payload().frame.scope.clone();
        let tables = worker.resources.clone();
        let pull = async move {
            if scope.is_set() {
                return;
            }
            let Some(stream) = sender.payload_mut().stream.take() else {
                return;
            };
            let limits = sender.payload().limits;
            let slot = match tables.slot(&stream, &scope) {
                Ok(slot) => slot,
                Err(failure) => return sender.send(Err(failure)),
            };
            let batch = std::pin::pin!(Some(CatchUnwind::new(async move {
                let mut source = slot.write().await;
                let batch = match source.as_mut() {
                    Some(source) => Ok(source.next_batch(&limits).await),
                    None => Err(CallFailure::new(
                        CallErrorKind::Closed,
                        "this Stream is closed".to_owned(),
                    )),
                };
                drop(source);
                drop(stream);
                batch
            })));
            if let Some(reply) = sender.payload().frame.run(batch).await {
                sender.send(reply);
            }
        };
        Box::pin(trace::instrument(pull, span))
    }
}
