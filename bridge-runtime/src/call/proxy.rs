//! What a generated proxy works with: one script call, on its engine thread.
//!
//! A call goes through three stages, each in its own file: interception (record, replay, mock:
//! `intercept`), then delivery by mode (waited for, or `start`ed into a handle: `mode`; an eager
//! call's first poll: `eager`), then the hand-off to the worker (`transport`). Its outcome
//! reaches the script through `script_reply`. `Bridge::dispatch` uses the same interception and
//! transport.

use crate::call::call_env::CallEnv;
use crate::call::callback::{CallbackQueue, CallbackServer, ScriptCallback};
use crate::call::command::{
    CallFrame, CallPayload, EagerCommand, PendingCall, ScriptCommand, Sent, StartedCall,
};
use crate::call::eager::{self, FirstPoll};
use crate::call::env::EngineEnv;
use crate::call::intercept::{intercept, Intercepted, Recording};
use crate::call::mocked::MockedCall;
use crate::call::mode::{CallMode, Delivery};
use crate::call::raise::{terminated, ProxyResult};
use crate::call::running_script::{call_error, Reservation, RunningScript};
use crate::call::script_reply::ScriptReply;
use crate::call::transport;
use crate::catch_unwind::describe_panic;
use crate::convert::type_checks::ScriptArgument;
use crate::convert::{dynamic_to_json, from_script};
use crate::error::{CallErrorKind, CallFailure};
use crate::resource::returned::{ScriptValue, SentValue};
use crate::resource::token::{ResourceRef, ResourceToken};
use crate::resource::value::ScriptResource;
use crate::signature::ScriptParam;
use crate::trace::CallTrace;
use rhai::{Dynamic, EvalAltResult, FnPtr, NativeCallContext, Position};
use serde_json::Value;
use smallvec::SmallVec;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// What a call needs to know of the function it calls.
pub(crate) struct Callee {
    /// The name scripts call it by.
    pub(crate) name: &'static str,
    /// Its script parameters.
    pub(crate) params: &'static [ScriptParam],
    /// Its own time limit, if it sets one.
    pub(crate) timeout: Option<Duration>,
    /// A method of a resource, or a function returning one: a record cannot hold its calls.
    pub(crate) involves_resources: bool,
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
    involves_resources: bool,
    mode: CallMode,
    /// The script functions among the arguments ([`callback`](Self::callback)), run while the
    /// call is waited on.
    callbacks: RefCell<Option<CallbackSet>>,
    /// The ids of the resources among the arguments ([`resource`](Self::resource)).
    resources: RefCell<SmallVec<[u64; 4]>>,
}

/// One call's callbacks: the script's function pointers (which stay on this thread) and the
/// queue through which the function asks for them.
struct CallbackSet {
    queue: Arc<CallbackQueue>,
    functions: Vec<FnPtr>,
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
            involves_resources: callee.involves_resources,
            mode,
            callbacks: RefCell::new(None),
            resources: RefCell::default(),
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

    /// The resource of type `T` that the script passed at `index` (a method's object, at 0),
    /// as its command carries it. Anything else, or a resource of another script (kept past its
    /// end by the host, say), is an argument error naming `param`.
    pub fn resource<T: ScriptResource>(
        &self,
        index: usize,
        param: &'static str,
    ) -> Result<ResourceRef<T>, Box<EvalAltResult>> {
        let position = self.context.call_position();
        let running = self.running(position)?;
        let value = &*self.args[index];
        let Some(token) = value.read_lock::<ResourceToken<T>>() else {
            let found = self.context.engine().map_type_name(value.type_name());
            let message = format!("expected a {}, got {found}", T::TYPE_NAME);
            return Err(self.argument_error(param, message));
        };
        if !token.inner.belongs_to(running.control.calls()) {
            let message = format!(
                "this {} belongs to another script: a resource stays with the script that \
                 opened it",
                T::TYPE_NAME
            );
            return Err(self.argument_error(param, message));
        }
        if let Some(holder) = running.held_by_caller(token.inner.id) {
            let message = format!(
                "this {} is held by `{holder}`, which is calling back into the script: a \
                 callback cannot use a resource its function holds (the call would wait for \
                 `{holder}`, which waits for the callback); give the callback what it needs as \
                 arguments",
                T::TYPE_NAME
            );
            return Err(self.argument_error(param, message));
        }
        self.resources.borrow_mut().push(token.inner.id);
        Ok(match self.mode {
            CallMode::Wait => ResourceRef::named(token.inner.id),
            CallMode::Start => ResourceRef::holding(token.inner.clone()),
        })
    }

    /// The script's argument at `index` as a [`ScriptCallback`]: a closure or `Fn("name")`
    /// pointer, which stays here while the function gets a handle that asks this call's wait to
    /// run it. Anything else is an argument error naming `param`. A function taking a callback
    /// cannot be `start`ed (nothing would run the callback while the script goes on), nor
    /// recorded, replayed or mocked (a script function has no data form): each is a catchable
    /// error of this call.
    pub fn callback(
        &self,
        index: usize,
        param: &'static str,
    ) -> Result<ScriptCallback, Box<EvalAltResult>> {
        let position = self.context.call_position();
        let value: &Dynamic = self.args[index];
        let Some(function) = value.clone().try_cast::<FnPtr>() else {
            let found = self.context.engine().map_type_name(value.type_name());
            let message = format!(
                "expected a function (a closure such as `|x| x + 1`, or `Fn(\"name\")`), got a \
                 value of type `{found}`"
            );
            return Err(self.argument_error(param, message));
        };
        if self.mode == CallMode::Start {
            let message = format!(
                "`{}` takes a callback, so it cannot be started: a started call runs while the \
                 script goes on, and nothing would run the callback; call it directly",
                self.function
            );
            return Err(self.raise(CallErrorKind::Argument, message, Some(param), position));
        }
        if self.env.records().is_some() {
            let message = format!(
                "`{}` takes a callback, and this bridge records, replays or mocks calls: a \
                 script function has no data form to record or compare, so such a call cannot \
                 be made here",
                self.function
            );
            return Err(self.raise(CallErrorKind::Recording, message, Some(param), position));
        }
        let running = self.running(position)?;
        let mut callbacks = self.callbacks.borrow_mut();
        let set = callbacks.get_or_insert_with(|| CallbackSet {
            queue: CallbackQueue::new(running.waker.clone(), running.control.clone()),
            functions: Vec::new(),
        });
        set.functions.push(function);
        Ok(ScriptCallback::new(
            set.functions.len() - 1,
            set.queue.clone(),
        ))
    }

    /// Sends `command` to the worker and waits for its reply, converted to a script value (or a
    /// catchable script error). Called through `start`, it returns a call handle instead of waiting.
    pub fn send_and_wait<C: ScriptCommand>(&self, command: C) -> ProxyResult {
        let position = self.context.call_position();
        let running = self.running(position)?;
        let (delivery, recording) = match self.route(&running, position)? {
            Route::Call(delivery, recording) => (delivery, recording),
            Route::Served(served) => return served,
        };
        let trace = CallTrace::start(self.function);
        let payload = PendingCall {
            command: Some(command),
            frame: self.frame(&running, &trace),
        };
        let reply = self.reply(recording, trace);
        self.hand_over::<Sent<C>, _>(&running, position, payload, delivery, reply)
    }

    /// Like [`send_and_wait`](Self::send_and_wait), but first polls the call once right here,
    /// within the worker runtime's context: a call that finishes on that poll never crosses
    /// threads. An unfinished one moves to the worker. Used by `#[script_async(eager)]`.
    ///
    /// A call with a callback is sent as by `send_and_wait`: its callbacks run in the wait for
    /// the reply, and a first poll here has no such wait.
    pub fn run_eager<C: EagerCommand>(&self, command: C) -> ProxyResult
    where
        C::Output: Send,
    {
        if self.mode == CallMode::Start || self.callbacks.borrow().is_some() {
            return self.send_and_wait(command);
        }
        let position = self.context.call_position();
        let running = self.running(position)?;
        let (delivery, recording) = match self.route(&running, position)? {
            Route::Call(delivery, recording) => (delivery, recording),
            Route::Served(served) => return served,
        };
        if let Some(reason) = running.control.stop_reason() {
            return Err(terminated(reason, position));
        }
        let env = CallEnv {
            states: self.env.states().clone(),
            context: running.control.calls().context(),
            worker: None,
        };
        let trace = CallTrace::start(self.function);
        match eager::poll_once(command, env, self.env.runtime(), &trace) {
            FirstPoll::Ready(outcome) => {
                let outcome = outcome.and_then(|value| value.on_worker(None));
                self.reply(recording, trace)
                    .finish(&running, outcome, position)
            }
            FirstPoll::Pending(call) => {
                let payload = StartedCall {
                    call: Some(call),
                    frame: self.frame(&running, &trace),
                };
                let reply = self.reply(recording, trace);
                self.hand_over::<Sent<C>, _>(&running, position, payload, delivery, reply)
            }
        }
    }

    /// The first two stages of the call: a place among the script's calls in flight if it was
    /// `start`ed, then record, replay or mock. A mocked or replayed call is served here.
    fn route(
        &self,
        running: &RunningScript,
        position: Position,
    ) -> Result<Route, Box<EvalAltResult>> {
        // Taken before a replayed call is used up: a call refused for the limit serves nothing.
        let delivery = match self.mode {
            CallMode::Wait => {
                running.calls_in_flight.drop_finished_orphans();
                Delivery::Wait
            }
            CallMode::Start => Delivery::Start(self.reserve_in_flight(running, position)?),
        };
        let Some(records) = self.env.records() else {
            return Ok(Route::Call(delivery, None));
        };
        if self.involves_resources {
            let message = "it works on a resource, which a record cannot hold: record, replay \
                           and mock only functions that take and give plain data"
                .to_owned();
            return Err(self.raise(CallErrorKind::Recording, message, None, position));
        }
        let arguments = self.arguments_json()?;
        let name = self.function;
        let intercepted = intercept(records, name, self.params, arguments, running.name())
            .map_err(|failure| self.raise(failure.kind, failure.message, None, position))?;
        Ok(match intercepted {
            Intercepted::Call(recording) => Route::Call(delivery, recording),
            Intercepted::Mock(invocation, recording) => {
                let trace = CallTrace::start(name);
                let payload = MockedCall {
                    invocation: Some(invocation),
                    frame: self.frame(running, &trace),
                };
                let reply = self.reply(recording, trace);
                Route::Served(
                    self.hand_over::<Value, _>(running, position, payload, delivery, reply),
                )
            }
            Intercepted::Replayed(outcome) => {
                let reply = self.reply(None, CallTrace::start(name));
                Route::Served(delivery.ready(outcome, reply, running, position))
            }
        })
    }

    /// What this call's outcome needs on its way to the script.
    fn reply(&self, recording: Option<Recording>, trace: CallTrace) -> ScriptReply {
        ScriptReply {
            function: self.function,
            recording,
            trace,
        }
    }

    /// The last stage: sends `payload` to the worker and delivers its reply. A bridge that shut
    /// down is the call's `shutdown` error (nothing was called, so nothing is recorded).
    fn hand_over<T, P>(
        &self,
        running: &RunningScript,
        position: Position,
        payload: P,
        delivery: Delivery,
        reply: ScriptReply,
    ) -> ProxyResult
    where
        T: SentValue,
        P: CallPayload<Reply = Result<T, CallFailure>>,
    {
        // Taken here: whatever happens to the call now, the server's drop ends its callbacks.
        let callbacks = self
            .callbacks
            .borrow_mut()
            .take()
            .map(|set| CallbackServer::new(set.queue, set.functions, &self.context));
        let resources = self.resources.borrow();
        let _held = callbacks
            .as_ref()
            .map(|_| running.hold_for_callbacks(self.function, &resources));
        match transport::hand_over(self.env.commands(), payload, running.waker.clone()) {
            Ok(pending) => delivery.pending(
                pending,
                reply,
                running,
                self.env.spin(),
                position,
                callbacks.as_ref(),
            ),
            Err(failure) => {
                let ScriptReply { mut trace, .. } = reply;
                trace.finish(failure.kind.as_str());
                Err(self.raise(failure.kind, failure.message, None, position))
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

    /// What the worker needs besides the call's work: the script's scope, the call's time limit
    /// (the function's own, else the bridge's default) and its span.
    fn frame(&self, running: &RunningScript, trace: &CallTrace) -> CallFrame {
        CallFrame {
            scope: running.control.calls().clone(),
            timeout: self.timeout.or(self.env.call_timeout()),
            span: trace.span().clone(),
        }
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

/// Where a call goes after its first stages.
enum Route {
    /// To its function, delivered so, recorded if `Some`.
    Call(Delivery, Option<Recording>),
    /// Nowhere: mocked or replayed, this is what the script gets.
    Served(ProxyResult),
}
