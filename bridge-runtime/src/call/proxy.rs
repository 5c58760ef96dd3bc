//! What a generated proxy works with: one script call, on its engine thread.

use crate::call::command::{
    CallPayload, Command, EagerCommand, ErasedCall, PendingCall, Reply, ScriptCommand, StartedCall,
};
use crate::call::env::EngineEnv;
use crate::call::handle::CallHandle;
use crate::call::raise::{terminated, ProxyResult};
use crate::call::script::{call_error, ErasedReply, Reservation, RunningScript};
use crate::call::type_checks::ScriptArgument;
use crate::catch_unwind::{describe_panic, drop_quietly, CatchUnwind};
use crate::convert::{from_script, into_script};
use crate::error::{CallErrorKind, CallFailure};
use crate::state::CallEnv;
use crate::sync::reply::{call_cell, CellReceiver};
use crate::sync::wait::{block_until, SpinPolicy};
use crate::trace::{self, CallTrace};
use rhai::{Dynamic, EvalAltResult, NativeCallContext, Position};
use serde::Serialize;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Whether the proxy waits for the reply (a plain call) or hands back a handle (`start`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallMode {
    Wait,
    Start,
}

/// One call from a script to an async function, as its proxy sees it.
///
/// The proxy that `#[script_async]` writes converts each argument with [`argument`](Self::argument),
/// builds the command, and hands it to [`send_and_wait`](Self::send_and_wait).
pub struct ScriptCall<'a> {
    context: NativeCallContext<'a>,
    args: &'a [&'a mut Dynamic],
    env: &'a EngineEnv,
    /// The name scripts call the function by.
    function: &'static str,
    /// The function's own time limit, if it sets one.
    timeout: Option<Duration>,
    mode: CallMode,
}

impl<'a> ScriptCall<'a> {
    pub(crate) fn new(
        context: NativeCallContext<'a>,
        args: &'a [&'a mut Dynamic],
        env: &'a EngineEnv,
        function: &'static str,
        timeout: Option<Duration>,
        mode: CallMode,
    ) -> Self {
        Self {
            context,
            args,
            env,
            function,
            timeout,
            mode,
        }
    }

    /// Converts the script's argument at `index` to the parameter's Rust type.
    ///
    /// The script value goes through JSON's data model, so an integer is accepted where a float is
    /// expected, an object map where a struct is, and an integer that does not fit (300 for a `u8`)
    /// is an error naming `param`, never a silent wrap.
    ///
    /// `T` must also be `Serialize` (so that calls can be recorded) and `Send` (it crosses to the
    /// worker): [`ScriptArgument`] asks for all of it, so a type that lacks any is one error at
    /// the parameter.
    pub fn argument<T: ScriptArgument>(
        &self,
        index: usize,
        param: &'static str,
    ) -> Result<T, Box<EvalAltResult>> {
        match catch_unwind(AssertUnwindSafe(|| from_script(self.args[index]))) {
            Ok(converted) => converted.map_err(|message| self.argument_error(param, message)),
            Err(payload) => {
                let message = format!(
                    "converting the argument `{param}` panicked: {}",
                    describe_panic(payload)
                );
                let position = self.context.call_position();
                let kind = CallErrorKind::Panic;
                Err(self.raise(kind, message, Some(param), position))
            }
        }
    }

    /// Sends `command` to the worker and waits for its reply, converted to a script value (or a
    /// catchable script error). Called through `start`, it returns a call handle instead of waiting.
    pub fn send_and_wait<C: ScriptCommand>(&self, command: C) -> ProxyResult {
        let position = self.context.call_position();
        let running = self.running(position)?;
        let reservation = match self.mode {
            CallMode::Wait => None,
            CallMode::Start => Some(self.reserve_in_flight(&running, position)?),
        };
        let trace = CallTrace::start(self.function);
        let payload = PendingCall {
            command: Some(command),
            scope: running.control.calls().clone(),
            timeout: self.call_timeout(),
            span: trace.span().clone(),
        };
        let pending = self.hand_over::<C, _>(&running, position, payload, trace)?;
        match reservation {
            None => pending.wait(&running, self.env.spin(), position),
            Some(reservation) => Ok(Dynamic::from(CallHandle::new(
                Box::new(pending),
                reservation,
            ))),
        }
    }

    /// Like [`send_and_wait`](Self::send_and_wait), but first polls the call once right here,
    /// within the worker runtime's context: a call that finishes on that poll never crosses
    /// threads. An unfinished one moves to the worker. Used by `#[script_async(eager)]`.
    pub fn run_eager<C: EagerCommand>(&self, command: C) -> ProxyResult {
        let position = self.context.call_position();
        if self.mode == CallMode::Start {
            return self.send_and_wait(command);
        }
        let running = self.running(position)?;
        if let Some(reason) = running.control.stop_reason() {
            return Err(terminated(reason, position));
        }
        let env = CallEnv {
            states: self.env.states().clone(),
            context: running.control.calls().context().clone(),
        };
        let trace = CallTrace::start(self.function);
        let mut call = CatchUnwind::new(command.dispatch_send(env));
        let first_poll = trace::in_span(trace.span(), || {
            let _runtime = self.env.runtime().enter();
            Pin::new(&mut call).poll(&mut Context::from_waker(Waker::noop()))
        });
        let outcome = match first_poll {
            Poll::Ready(Ok(result)) => result,
            Poll::Ready(Err(panic_message)) => {
                Err(CallFailure::new(CallErrorKind::Panic, panic_message))
            }
            Poll::Pending => {
                let payload = StartedCall {
                    call: Some(call),
                    scope: running.control.calls().clone(),
                    timeout: self.call_timeout(),
                    span: trace.span().clone(),
                };
                let pending = self.hand_over::<C, _>(&running, position, payload, trace)?;
                return pending.wait(&running, self.env.spin(), position);
            }
        };
        reply_to_script(&running, self.function, outcome, position, trace)
    }

    /// Sends `payload` to the worker in a fresh call cell, and returns the engine thread's end of
    /// that cell.
    fn hand_over<C: ScriptCommand, P: CallPayload<Reply = Reply<C>>>(
        &self,
        running: &RunningScript,
        position: Position,
        payload: P,
        mut trace: CallTrace,
    ) -> Result<PendingReply<C, P>, Box<EvalAltResult>> {
        let (sender, receiver) = call_cell(payload, running.waker.clone());
        let sent = self
            .env
            .commands()
            .send(Command::Call(ErasedCall::new(sender)));
        if sent.is_err() {
            trace.finish(CallErrorKind::Shutdown.as_str());
        }
        match sent {
            Ok(()) => {}
            Err(closed) if closed.worker_failed => {
                let message = "the bridge's worker thread stopped after a fault; no call can run \
                               on this bridge any more"
                    .to_owned();
                let kind = CallErrorKind::Shutdown;
                return Err(self.raise(kind, message, None, position));
            }
            Err(_) => {
                let message = SHUT_DOWN_BEFORE_REPLY.to_owned();
                return Err(self.raise(CallErrorKind::Shutdown, message, None, position));
            }
        }
        Ok(PendingReply {
            receiver,
            function: C::SCRIPT_NAME,
            trace,
        })
    }

    /// A place among the script's calls in flight for one more, or the catchable error that says
    /// it has as many as it may.
    fn reserve_in_flight(
        &self,
        running: &RunningScript,
        position: Position,
    ) -> Result<Reservation, Box<EvalAltResult>> {
        let limit = self.env.max_calls_in_flight();
        running.calls_in_flight.reserve(limit).ok_or_else(|| {
            let message = format!(
                "the script already has {limit} calls in flight (max_calls_in_flight); wait on \
                 some before starting more"
            );
            let kind = CallErrorKind::Limit;
            self.raise(kind, message, None, position)
        })
    }

    /// This call's time limit: the function's own, else the bridge's default.
    fn call_timeout(&self) -> Option<Duration> {
        self.timeout.or(self.env.call_timeout())
    }

    fn running(&self, position: Position) -> Result<Rc<RunningScript>, Box<EvalAltResult>> {
        self.env.require_running(position)
    }

    /// A catchable error of this call, recorded with the script running it (see [`call_error`]).
    fn raise(
        &self,
        kind: CallErrorKind,
        message: String,
        param: Option<&'static str>,
        position: Position,
    ) -> Box<EvalAltResult> {
        let running = self.env.running();
        call_error(
            running.as_deref(),
            self.function,
            kind,
            message,
            param,
            position,
        )
    }

    fn argument_error(&self, param: &'static str, message: String) -> Box<EvalAltResult> {
        let position = self.context.call_position();
        self.raise(CallErrorKind::Argument, message, Some(param), position)
    }
}

/// The engine thread's end of one call of `C`, whose cell holds the payload `P`.
struct PendingReply<C: ScriptCommand, P> {
    receiver: CellReceiver<P, Reply<C>>,
    function: &'static str,
    /// Dropped unfinished (the script stopped first), it records the call as stopped.
    trace: CallTrace,
}

impl<C: ScriptCommand, P> PendingReply<C, P> {
    /// Blocks until the reply arrives (or the script must stop), then converts it. The plain-call
    /// path: no box, unlike a handle's [`ErasedReply::wait`].
    fn wait(self, running: &RunningScript, spin: &SpinPolicy, position: Position) -> ProxyResult {
        let receiver = &self.receiver;
        match block_until(
            &running.control,
            spin,
            || receiver.is_finished(),
            || receiver.arm(),
        ) {
            Ok(()) => self.take(running, position),
            Err(reason) => Err(terminated(reason, position)),
        }
    }

    fn take(self, running: &RunningScript, position: Position) -> ProxyResult {
        let Self {
            receiver,
            function,
            mut trace,
        } = self;
        match receiver.try_take() {
            Some(Ok(reply)) => reply_to_script(running, function, reply, position, trace),
            Some(Err(_)) | None => {
                trace.finish(CallErrorKind::Shutdown.as_str());
                Err(shutdown_error(running, function, position))
            }
        }
    }
}

impl<C: ScriptCommand, P> ErasedReply for PendingReply<C, P> {
    fn is_finished(&self) -> bool {
        self.receiver.is_finished()
    }

    fn arm(&self) {
        self.receiver.arm();
    }

    fn finish(self: Box<Self>, running: &RunningScript, position: Position) -> ProxyResult {
        (*self).take(running, position)
    }
}

/// A call's outcome as the script sees it: its value converted, or the error map raised.
fn reply_to_script<T: Serialize + 'static>(
    running: &RunningScript,
    function: &str,
    reply: Result<T, CallFailure>,
    position: Position,
    mut trace: CallTrace,
) -> ProxyResult {
    let mut raise = |kind: CallErrorKind, message| {
        trace.finish(kind.as_str());
        call_error(Some(running), function, kind, message, None, position)
    };
    match reply {
        Ok(output) => {
            let converted = catch_unwind(AssertUnwindSafe(|| into_script(&output)));
            drop_quietly(output);
            match converted {
                Ok(Ok(value)) => {
                    trace.finish("ok");
                    Ok(value)
                }
                Ok(Err(e)) => {
                    let message = format!("the return value has no script form: {e}");
                    Err(raise(CallErrorKind::Return, message))
                }
                Err(payload) => {
                    let message = format!(
                        "converting the return value panicked: {}",
                        describe_panic(payload)
                    );
                    Err(raise(CallErrorKind::Panic, message))
                }
            }
        }
        Err(failure) => Err(raise(failure.kind, failure.message)),
    }
}

fn shutdown_error(
    running: &RunningScript,
    function: &str,
    position: Position,
) -> Box<EvalAltResult> {
    let message = SHUT_DOWN_BEFORE_REPLY.to_owned();
    let kind = CallErrorKind::Shutdown;
    call_error(Some(running), function, kind, message, None, position)
}

/// What a call whose reply will never come says.
const SHUT_DOWN_BEFORE_REPLY: &str = "the bridge shut down before the call finished";
