//! What a generated proxy works with: one script call, on its engine thread.

use crate::call::command::{
    CallPayload, Command, EagerCommand, ErasedCall, PendingCall, ScriptCommand, StartedCall,
};
use crate::call::env::EngineEnv;
use crate::call::handle::CallHandle;
use crate::call::mocked::MockedCall;
use crate::call::raise::{terminated, ProxyResult};
use crate::call::recorded::{CallRecords, Served};
use crate::call::script::{call_error, ErasedReply, Reservation, RunningScript};
use crate::call::signature::ScriptParam;
use crate::call::type_checks::ScriptArgument;
use crate::catch_unwind::{describe_panic, drop_quietly, CatchUnwind};
use crate::convert::{dynamic_to_json, from_script, into_script};
use crate::error::{CallErrorKind, CallFailure};
use crate::state::CallEnv;
use crate::sync::reply::{call_cell, CellReceiver};
use crate::sync::wait::{block_until, SpinPolicy};
use crate::trace::{self, CallTrace};
use rhai::{Dynamic, EvalAltResult, NativeCallContext, Position};
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Whether the proxy waits for the reply (a plain call) or hands back a handle (`start`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallMode {
    Wait,
    Start,
}

/// What a call needs to know of the function it calls.
pub(crate) struct Callee {
    /// The name scripts call it by.
    pub(crate) name: &'static str,
    /// Its script parameters.
    pub(crate) params: &'static [ScriptParam],
    /// Its own time limit, if it sets one.
    pub(crate) timeout: Option<Duration>,
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
    /// Its script parameters (named in recorded calls).
    params: &'static [ScriptParam],
    /// The function's own time limit, if it sets one.
    timeout: Option<Duration>,
    mode: CallMode,
}

impl<'a> ScriptCall<'a> {
    pub(crate) fn new(
        context: NativeCallContext<'a>,
        args: &'a [&'a mut Dynamic],
        env: &'a EngineEnv,
        callee: Callee,
        mode: CallMode,
    ) -> Self {
        Self {
            context,
            args,
            env,
            function: callee.name,
            params: callee.params,
            timeout: callee.timeout,
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
        match self.env.records() {
            None => self.send(command, None),
            Some(records) => self.with_records(records, |recording| self.send(command, recording)),
        }
    }

    fn send<C: ScriptCommand>(&self, command: C, recording: Option<Recording>) -> ProxyResult {
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
        let call = Delivery {
            running: &running,
            position,
            reservation,
            recording,
        };
        self.deliver(call, payload, trace)
    }

    /// Hands `payload` to the worker, then waits for its reply (a plain call) or returns a handle
    /// to it (`start`, holding `call.reservation`), recording the outcome if `call.recording`.
    fn deliver<T, P>(&self, call: Delivery<'_>, payload: P, trace: CallTrace) -> ProxyResult
    where
        T: Serialize + 'static,
        P: CallPayload<Reply = Result<T, CallFailure>>,
    {
        let Delivery {
            running,
            position,
            reservation,
            recording,
        } = call;
        let pending = self.hand_over::<T, _>(running, position, payload, trace)?;
        match (reservation, recording) {
            (None, None) => pending.wait(running, self.env.spin(), position),
            (None, Some(recording)) => {
                let outcome = pending.wait(running, self.env.spin(), position);
                recording.finish(outcome, running, position)
            }
            (Some(reservation), None) => Ok(Dynamic::from(CallHandle::new(
                Box::new(pending),
                reservation,
            ))),
            (Some(reservation), Some(recording)) => Ok(Dynamic::from(CallHandle::new(
                Box::new(RecordedReply {
                    reply: Box::new(pending),
                    recording,
                }),
                reservation,
            ))),
        }
    }

    /// A call when the bridge records, replays or mocks calls: served without calling the
    /// function if it is mocked or replayed, else made by `call` (and recorded if recording).
    fn with_records(
        &self,
        records: &Arc<CallRecords>,
        call: impl FnOnce(Option<Recording>) -> ProxyResult,
    ) -> ProxyResult {
        let position = self.context.call_position();
        let running = self.running(position)?;
        // Taken before a replayed call is used up: a call refused for the limit serves nothing.
        let reservation = match self.mode {
            CallMode::Wait => None,
            CallMode::Start => Some(self.reserve_in_flight(&running, position)?),
        };
        let arguments = self.arguments_json()?;
        let name = self.function;
        let in_order = || {
            let params = self.params.iter();
            params.map(|param| arguments[param.name].clone()).collect()
        };
        let served = match records.serve(name, &arguments, in_order) {
            None => {
                drop(reservation);
                return call(Recording::start(records, name, arguments));
            }
            Some(Served::Mocked(invocation)) => {
                let recording = Recording::start(records, name, arguments);
                let trace = CallTrace::start(name);
                let payload = MockedCall {
                    invocation: Some(invocation),
                    scope: running.control.calls().clone(),
                    timeout: self.call_timeout(),
                    span: trace.span().clone(),
                };
                let call = Delivery {
                    running: &running,
                    position,
                    reservation,
                    recording,
                };
                return self.deliver::<Value, _>(call, payload, trace);
            }
            Some(Served::Replayed(outcome)) => outcome,
        };
        let outcome = match &served {
            Ok(value) => Ok(value),
            Err(failure) => Err((failure.kind.as_str(), &failure.message[..])),
        };
        let (call, script) = (records.number_call(), running.name());
        let recorded = records.record(call, name, arguments, outcome, Duration::ZERO, script);
        if let Err(failure) = recorded {
            return Err(self.raise(failure.kind, failure.message, None, position));
        }
        match reservation {
            None => reply_to_script(&running, name, served, position, CallTrace::start(name)),
            Some(reservation) => {
                let reply = ServedReply {
                    function: name,
                    outcome: served,
                };
                Ok(Dynamic::from(CallHandle::new(Box::new(reply), reservation)))
            }
        }
    }

    /// The script's arguments by parameter name, as JSON.
    fn arguments_json(&self) -> Result<Value, Box<EvalAltResult>> {
        let mut arguments = serde_json::Map::with_capacity(self.args.len());
        for (param, value) in self.params.iter().zip(self.args.iter()) {
            let json = dynamic_to_json(value)
                .map_err(|e| self.argument_error(param.name, e.to_string()))?;
            arguments.insert(param.name.to_owned(), json);
        }
        Ok(Value::Object(arguments))
    }

    /// Like [`send_and_wait`](Self::send_and_wait), but first polls the call once right here,
    /// within the worker runtime's context: a call that finishes on that poll never crosses
    /// threads. An unfinished one moves to the worker. Used by `#[script_async(eager)]`.
    pub fn run_eager<C: EagerCommand>(&self, command: C) -> ProxyResult {
        if self.mode == CallMode::Start {
            return self.send_and_wait(command);
        }
        let Some(records) = self.env.records() else {
            return self.eager(command);
        };
        self.with_records(records, |recording| {
            let outcome = self.eager(command);
            match recording {
                None => outcome,
                Some(recording) => {
                    let position = self.context.call_position();
                    let running = self.running(position)?;
                    recording.finish(outcome, &running, position)
                }
            }
        })
    }

    fn eager<C: EagerCommand>(&self, command: C) -> ProxyResult {
        let position = self.context.call_position();
        let running = self.running(position)?;
        if let Some(reason) = running.control.stop_reason() {
            return Err(terminated(reason, position));
        }
        let env = CallEnv {
            states: self.env.states().clone(),
            context: running.control.calls().context(),
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
                let pending = self.hand_over::<C::Output, _>(&running, position, payload, trace)?;
                return pending.wait(&running, self.env.spin(), position);
            }
        };
        reply_to_script(&running, self.function, outcome, position, trace)
    }

    /// Sends `payload` to the worker in a fresh call cell, and returns the engine thread's end of
    /// that cell.
    fn hand_over<T, P: CallPayload<Reply = Result<T, CallFailure>>>(
        &self,
        running: &RunningScript,
        position: Position,
        payload: P,
        mut trace: CallTrace,
    ) -> Result<PendingReply<T, P>, Box<EvalAltResult>> {
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
            function: self.function,
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

/// The engine thread's end of one call whose value is a `T`, whose cell holds the payload `P`.
struct PendingReply<T, P> {
    receiver: CellReceiver<P, Result<T, CallFailure>>,
    function: &'static str,
    /// Dropped unfinished (the script stopped first), it records the call as stopped.
    trace: CallTrace,
}

impl<T: Serialize + 'static, P> PendingReply<T, P> {
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

impl<T: Serialize + 'static, P> ErasedReply for PendingReply<T, P> {
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

/// Where a call's reply goes once handed over: the script waiting, or a handle, and a record.
struct Delivery<'r> {
    running: &'r RunningScript,
    position: Position,
    /// A place among the script's calls in flight: the call was `start`ed.
    reservation: Option<Reservation>,
    recording: Option<Recording>,
}

/// A real or mocked call being recorded: written down when its outcome reaches the script.
struct Recording {
    records: Arc<CallRecords>,
    /// Its number, taken when it was made.
    call: u64,
    function: &'static str,
    arguments: Value,
    started: Instant,
}

impl Recording {
    /// A call of `function` made now, numbered, if `records` writes calls down.
    fn start(records: &Arc<CallRecords>, function: &'static str, arguments: Value) -> Option<Self> {
        records.recording().then(|| Self {
            records: records.clone(),
            call: records.number_call(),
            function,
            arguments,
            started: Instant::now(),
        })
    }

    /// Records `outcome` (a value, or the call error the script gets) and passes it on. A
    /// script stopped while it waited made no call to record; a record that cannot be written
    /// is the call's error instead.
    fn finish(
        self,
        outcome: ProxyResult,
        running: &RunningScript,
        position: Position,
    ) -> ProxyResult {
        let recorded = match &outcome {
            Ok(value) => dynamic_to_json(value)
                .map_err(|e| (CallErrorKind::Return.as_str().to_owned(), e.to_string())),
            Err(raised) => match call_error_fields(raised, self.function) {
                Some(fields) => Err(fields),
                None => return outcome,
            },
        };
        let recorded = match &recorded {
            Ok(value) => Ok(value),
            Err((kind, message)) => Err((&kind[..], &message[..])),
        };
        let elapsed = self.started.elapsed();
        let script = running.name();
        let (call, function, arguments) = (self.call, self.function, self.arguments);
        match (self.records).record(call, function, arguments, recorded, elapsed, script) {
            Ok(()) => outcome,
            Err(failure) => {
                let (kind, message) = (failure.kind, failure.message);
                Err(call_error(
                    Some(running),
                    self.function,
                    kind,
                    message,
                    None,
                    position,
                ))
            }
        }
    }
}

/// The `kind` and `message` of a call error `function` raised, or `None` for any other error
/// (a script stopped while it waited).
fn call_error_fields(raised: &EvalAltResult, function: &str) -> Option<(String, String)> {
    let EvalAltResult::ErrorRuntime(value, _) = raised else {
        return None;
    };
    let map = value.read_lock::<rhai::Map>()?;
    let text = |field: &str| map.get(field)?.clone().into_immutable_string().ok();
    if text("function")? != function {
        return None;
    }
    Some((text("kind")?.to_string(), text("message")?.to_string()))
}

/// A started call being recorded: recorded when the script waits on its handle.
struct RecordedReply {
    reply: Box<dyn ErasedReply>,
    recording: Recording,
}

impl ErasedReply for RecordedReply {
    fn is_finished(&self) -> bool {
        self.reply.is_finished()
    }

    fn arm(&self) {
        self.reply.arm();
    }

    fn finish(self: Box<Self>, running: &RunningScript, position: Position) -> ProxyResult {
        let outcome = self.reply.finish(running, position);
        self.recording.finish(outcome, running, position)
    }
}

/// A started call that was mocked or replayed: its outcome is there at once.
struct ServedReply {
    function: &'static str,
    outcome: Result<Value, CallFailure>,
}

impl ErasedReply for ServedReply {
    fn is_finished(&self) -> bool {
        true
    }

    fn arm(&self) {}

    fn finish(self: Box<Self>, running: &RunningScript, position: Position) -> ProxyResult {
        let trace = CallTrace::start(self.function);
        reply_to_script(running, self.function, self.outcome, position, trace)
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
