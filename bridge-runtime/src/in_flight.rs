//! Several calls in flight from one script: `start`, `wait`, `wait_all`, `wait_any`.
//!
//! `start(Fn("fetch"), [1])` (or `Fn("fetch").start([1])`) runs the function's proxy in start
//! mode: the command goes to the worker and a handle comes back at once. Waiting on a handle
//! takes the reply the way a plain call would, raising the same catchable errors. Handles never
//! waited on are dropped on the worker when the script ends.

use crate::call::{call_error, terminated, CallMode, ErasedReply, ProxyResult, ScriptCall};
use crate::engine::EngineEnv;
use crate::error::CallErrorKind;
use crate::registry::ScriptFunction;
use crate::wait::block_until;
use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext, Position};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

/// A call started with `start`, as scripts hold it.
#[derive(Clone)]
pub(crate) struct CallHandle(Rc<RefCell<HandleState>>);

struct HandleState {
    /// `None` once waited on.
    reply: Option<Box<dyn ErasedReply>>,
    calls: Weak<CallsInFlight>,
}

/// One script's calls in flight: started with `start` and neither waited on nor finished.
///
/// A handle dropped unwaited (`start(...)` whose result is thrown away) still counts until its
/// call finishes on the worker: otherwise a loop of `start` would keep any number of calls alive.
#[derive(Default)]
pub(crate) struct CallsInFlight {
    /// Handles alive and not waited on.
    handles: Cell<usize>,
    /// Replies of dropped handles whose calls had not finished.
    orphans: RefCell<Vec<Box<dyn ErasedReply>>>,
}

impl CallsInFlight {
    /// Counts one more call, unless `limit` are in flight already. Taken before the call is
    /// sent, so a refused call never reaches the worker.
    pub(crate) fn reserve(self: &Rc<Self>, limit: usize) -> Option<Reservation> {
        let mut orphans = self.orphans.borrow_mut();
        orphans.retain(|reply| !reply.is_finished());
        if self.handles.get() + orphans.len() >= limit {
            return None;
        }
        self.handles.set(self.handles.get() + 1);
        Some(Reservation(Some(Rc::downgrade(self))))
    }

    fn release_handle(&self) {
        self.handles.set(self.handles.get() - 1);
    }
}

/// A place among a script's calls in flight, for the handle of a call about to start; given
/// back if the call is never sent.
pub(crate) struct Reservation(Option<Weak<CallsInFlight>>);

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(calls) = self.0.take().and_then(|calls| calls.upgrade()) {
            calls.release_handle();
        }
    }
}

impl CallHandle {
    /// A handle for `reply`, in the place `reservation` kept for it.
    pub(crate) fn new(reply: Box<dyn ErasedReply>, mut reservation: Reservation) -> Self {
        Self(Rc::new(RefCell::new(HandleState {
            reply: Some(reply),
            calls: reservation.0.take().unwrap_or_default(),
        })))
    }

    fn is_finished(&self) -> bool {
        self.0
            .borrow()
            .reply
            .as_ref()
            .is_some_and(|reply| reply.is_finished())
    }

    fn is_taken(&self) -> bool {
        self.0.borrow().reply.is_none()
    }

    fn arm(&self) {
        if let Some(reply) = &self.0.borrow().reply {
            reply.arm();
        }
    }

    /// The reply, taken out of the handle: from here on it no longer counts as in flight.
    fn take(&self, position: Position) -> Result<Box<dyn ErasedReply>, Box<EvalAltResult>> {
        let mut state = self.0.borrow_mut();
        let reply = state
            .reply
            .take()
            .ok_or_else(|| runtime_error("this call handle was already waited on", position))?;
        if let Some(calls) = state.calls.upgrade() {
            calls.release_handle();
        }
        Ok(reply)
    }
}

impl Drop for HandleState {
    fn drop(&mut self) {
        let (Some(reply), Some(calls)) = (self.reply.take(), self.calls.upgrade()) else {
            return;
        };
        calls.release_handle();
        if !reply.is_finished() {
            calls.orphans.borrow_mut().push(reply);
        }
    }
}

/// Registers `start`, `wait`, `wait_all` and `wait_any` on `engine`.
pub(crate) fn register(
    engine: &mut Engine,
    env: &Rc<EngineEnv>,
    functions: &[&'static ScriptFunction],
) {
    engine.register_type_with_name::<CallHandle>("CallHandle");

    let by_name: HashMap<&str, &'static ScriptFunction> = functions
        .iter()
        .map(|function| (function.name(), *function))
        .collect();
    let start_env = env.clone();
    engine.register_fn(
        "start",
        move |context: NativeCallContext, function: FnPtr, args: Array| {
            start(context, &start_env, &by_name, &function, args)
        },
    );

    let wait_env = env.clone();
    engine.register_fn(
        "wait",
        move |context: NativeCallContext, handle: CallHandle| wait(&context, &wait_env, &handle),
    );

    let all_env = env.clone();
    engine.register_fn(
        "wait_all",
        move |context: NativeCallContext, handles: Array| {
            let handles = call_handles(&handles, context.call_position())?;
            handles
                .iter()
                .map(|handle| wait(&context, &all_env, handle))
                .collect::<Result<Array, _>>()
        },
    );

    let any_env = env.clone();
    engine.register_fn(
        "wait_any",
        move |context: NativeCallContext, handles: Array| wait_any(&context, &any_env, &handles),
    );
}

fn start(
    context: NativeCallContext,
    env: &EngineEnv,
    by_name: &HashMap<&str, &'static ScriptFunction>,
    pointer: &FnPtr,
    args: Array,
) -> ProxyResult {
    let position = context.call_position();
    let name = pointer.fn_name();
    let Some(function) = by_name.get(name).copied() else {
        return Err(runtime_error(
            format!("start() takes an async (#[script_async]) function; `{name}` is not one"),
            position,
        ));
    };
    let mut values: Array = pointer.curry().iter().cloned().chain(args).collect();
    let expected = function.params().len();
    if values.len() != expected {
        let message = format!(
            "{name} takes {expected} argument(s), start() was given {}",
            values.len()
        );
        let running = env.running();
        let kind = CallErrorKind::Argument;
        return Err(call_error(
            running.as_deref(),
            name,
            kind,
            message,
            None,
            position,
        ));
    }
    let args: Vec<&mut Dynamic> = values.iter_mut().collect();
    let mut call = ScriptCall::new(context, &args, env, function, CallMode::Start);
    (function.proxy())(&mut call)
}

fn wait(context: &NativeCallContext, env: &EngineEnv, handle: &CallHandle) -> ProxyResult {
    let position = context.call_position();
    let reply = handle.take(position)?;
    let running = env.require_running(position)?;
    reply.wait(&running, env.spin(), position)
}

fn wait_any(context: &NativeCallContext, env: &EngineEnv, handles: &Array) -> ProxyResult {
    let position = context.call_position();
    let handles = call_handles(handles, position)?;
    if handles.is_empty() {
        return Err(runtime_error(
            "wait_any() needs at least one call handle",
            position,
        ));
    }
    if let Some(index) = handles.iter().position(CallHandle::is_taken) {
        return Err(runtime_error(
            format!("the call handle at index {index} was already waited on"),
            position,
        ));
    }
    let running = env.require_running(position)?;
    block_until(
        &running.control,
        env.spin(),
        || handles.iter().any(CallHandle::is_finished),
        || handles.iter().for_each(CallHandle::arm),
    )
    .map_err(|reason| terminated(reason, position))?;
    let index = handles
        .iter()
        .position(CallHandle::is_finished)
        .unwrap_or_default();
    let value = handles[index].take(position)?.finish(&running, position)?;
    let mut result = Map::new();
    result.insert("index".into(), Dynamic::from_int(index as rhai::INT));
    result.insert("value".into(), value);
    Ok(result.into())
}

fn call_handles(values: &Array, position: Position) -> Result<Vec<CallHandle>, Box<EvalAltResult>> {
    values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            value.clone().try_cast::<CallHandle>().ok_or_else(|| {
                runtime_error(
                    format!(
                        "item {index} is a {}, not a call handle from start()",
                        value.type_name()
                    ),
                    position,
                )
            })
        })
        .collect()
}

/// A catchable script error that is not a call's: a misuse of `start` or a handle.
fn runtime_error(message: impl Into<String>, position: Position) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(message.into().into(), position))
}
