//! Several calls in flight from one script: `start`, `wait`, `wait_all`, `wait_any`.
//!
//! `start(Fn("fetch"), [1])` (or `Fn("fetch").start([1])`) runs the function's proxy in start
//! mode: the command goes to the worker and a handle comes back at once. Waiting on a handle
//! takes the reply the way a plain call would, raising the same catchable errors. Handles never
//! waited on are dropped on the worker when the script ends.

use crate::call::call_handle::CallHandle;
use crate::call::env::{BoundEnv, EngineEnv};
use crate::call::mode::CallMode;
use crate::call::proxy::ScriptCall;
use crate::call::raise::{runtime_error, terminated, ProxyResult};
use crate::call::running_script::call_error;
use crate::error::CallErrorKind;
use crate::registered::function::ScriptFunction;
use crate::sync::wait::block_until;
use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext, Position};
use std::collections::HashMap;
use std::rc::Rc;

/// Registers `start`, `wait`, `wait_all` and `wait_any` on `engine`.
pub(crate) fn register(
    engine: &mut Engine,
    env: &Rc<EngineEnv>,
    functions: &[&'static ScriptFunction],
) {
    engine.register_type_with_name::<CallHandle>("CallHandle");

    // Keyed by the name Rhai knows: a method's own name, shared by methods of several types.
    let mut by_name: HashMap<&str, Vec<&'static ScriptFunction>> = HashMap::new();
    for function in functions {
        by_name.entry(function.rhai_name()).or_default().push(function);
    }
    let start_env = BoundEnv::new(env);
    engine.register_fn(
        "start",
        move |context: NativeCallContext, function: FnPtr, args: Array| {
            let env = start_env.get(context.call_position())?;
            start(context, env, &by_name, &function, args)
        },
    );

    let wait_env = BoundEnv::new(env);
    engine.register_fn(
        "wait",
        move |context: NativeCallContext, handle: CallHandle| {
            wait(&context, wait_env.get(context.call_position())?, &handle)
        },
    );

    let all_env = BoundEnv::new(env);
    engine.register_fn(
        "wait_all",
        move |context: NativeCallContext, handles: Array| {
            let env = all_env.get(context.call_position())?;
            let handles = call_handles(&handles, context.call_position())?;
            handles
                .iter()
                .map(|handle| wait(&context, env, handle))
                .collect::<Result<Array, _>>()
        },
    );

    let any_env = BoundEnv::new(env);
    engine.register_fn(
        "wait_any",
        move |context: NativeCallContext, handles: Array| {
            wait_any(&context, any_env.get(context.call_position())?, &handles)
        },
    );
}

fn start(
    context: NativeCallContext,
    env: &EngineEnv,
    by_name: &HashMap<&str, Vec<&'static ScriptFunction>>,
    pointer: &FnPtr,
    args: Array,
) -> ProxyResult {
    let position = context.call_position();
    let name = pointer.fn_name();
    let mut values: Array = pointer.curry().iter().cloned().chain(args).collect();
    let Some(function) = by_name.get(name).and_then(|found| pick(found, &values)) else {
        return Err(runtime_error(
            format!("start() takes an async (#[script_async]) function; `{name}` is not one"),
            position,
        ));
    };
    let name = function.name();
    let expected = function.rhai_param_types().len();
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
    let mut call = ScriptCall::new(context, &args, env, function.callee(), CallMode::Start);
    (function.proxy())(&mut call)
}

/// The function among `candidates` (of one name) that `values` call: a method of the type of
/// the first value if there is one, else the plain function.
fn pick(
    candidates: &[&'static ScriptFunction],
    values: &[Dynamic],
) -> Option<&'static ScriptFunction> {
    let object = values.first().map(Dynamic::type_id);
    candidates
        .iter()
        .find(|function| {
            function.resource_type().is_some()
                && function.rhai_param_types().first().copied() == object
        })
        .or_else(|| {
            candidates
                .iter()
                .find(|function| function.resource_type().is_none())
        })
        .copied()
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
            let handle = value.clone().try_cast::<CallHandle>().ok_or_else(|| {
                runtime_error(
                    format!(
                        "item {index} is a {}, not a call handle from start()",
                        value.type_name()
                    ),
                    position,
                )
            })?;
            handle.check_thread(position)?;
            Ok(handle)
        })
        .collect()
}
