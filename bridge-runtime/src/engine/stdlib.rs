//! The bridge's own versions of Rhai standard-library functions that would otherwise block, run
//! long or multiply memory in one call, out of reach of deadlines, cancellation and limits (which
//! Rhai checks between operations). This is the one list of them; the guide's "Running untrusted
//! scripts" (`guide.md`) has the audit table.
//!
//! Registered in every bridge's engine, where they take precedence over the standard library's
//! functions of the same name and parameter types.

use crate::call::env::{BoundEnv, EngineEnv};
use crate::call::raise::terminated;
use rhai::{Engine, EvalAltResult, ImmutableString, NativeCallContext, Position, FLOAT, INT};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Registers every replacement on `engine`.
pub(crate) fn register(engine: &mut Engine, env: &Rc<EngineEnv>) {
    register_sleep(engine, env);
    register_replace(engine);
}

/// `replace`: Rhai's builds the whole result and checks `max_string_size` afterwards, so one call
/// on a 64 KiB string of spaces replacing each with another 64 KiB string asks for 4 GiB. Ours
/// counts the matches first and refuses a result over the limit before allocating it.
fn register_replace(engine: &mut Engine) {
    engine.register_fn(
        "replace",
        |context: NativeCallContext, text: &mut ImmutableString, find: &str, with: &str| {
            checked_replace(&context, text, find, with)
        },
    );
    engine.register_fn(
        "replace",
        |context: NativeCallContext, text: &mut ImmutableString, find: &str, with: char| {
            checked_replace(&context, text, find, with.encode_utf8(&mut [0; 4]))
        },
    );
    engine.register_fn(
        "replace",
        |context: NativeCallContext, text: &mut ImmutableString, find: char, with: &str| {
            checked_replace(&context, text, find.encode_utf8(&mut [0; 4]), with)
        },
    );
    engine.register_fn(
        "replace",
        |context: NativeCallContext, text: &mut ImmutableString, find: char, with: char| {
            let (mut find_buf, mut with_buf) = ([0; 4], [0; 4]);
            let (find, with) = (
                find.encode_utf8(&mut find_buf),
                with.encode_utf8(&mut with_buf),
            );
            checked_replace(&context, text, find, with)
        },
    );
}

/// Replaces every `find` in `text` with `with`, as `str::replace` does (an empty `find` matches
/// before every character and at the end), unless the result would be longer than the engine's
/// `max_string_size`.
fn checked_replace(
    context: &NativeCallContext,
    text: &mut ImmutableString,
    find: &str,
    with: &str,
) -> Result<(), Box<EvalAltResult>> {
    if text.is_empty() {
        return Ok(());
    }
    let limit = context.engine().max_string_size();
    if limit > 0 && with.len() > find.len() {
        let matches = if find.is_empty() {
            text.chars().count() + 1
        } else {
            text.matches(find).count()
        };
        let grows_by = matches.saturating_mul(with.len() - find.len());
        if text.len().saturating_add(grows_by) > limit {
            return Err(string_too_long(context.call_position()));
        }
    }
    *text = text.replace(find, with).into();
    Ok(())
}

/// Rhai's own error for a string over `max_string_size`.
fn string_too_long(position: Position) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorDataTooLarge(
        "Length of string".to_owned(),
        position,
    ))
}

/// `sleep(seconds)`: Rhai's blocks the engine thread in `std::thread::sleep`, holding up every
/// script on it and ignoring deadlines, cancellation and shutdown. Ours waits the way a call does
/// (see [`crate::sync::wait::sleep_until`]).
fn register_sleep(engine: &mut Engine, env: &Rc<EngineEnv>) {
    let int_env = BoundEnv::new(env);
    engine.register_fn(
        "sleep",
        move |context: NativeCallContext, seconds: INT| -> Result<(), Box<EvalAltResult>> {
            let length = u64::try_from(seconds).map_or(Duration::ZERO, Duration::from_secs);
            sleep(&context, int_env.get(context.call_position())?, length)
        },
    );
    let float_env = BoundEnv::new(env);
    engine.register_fn(
        "sleep",
        move |context: NativeCallContext, seconds: FLOAT| -> Result<(), Box<EvalAltResult>> {
            // NaN and negative lengths do not sleep, as in Rhai's; lengths too long for a
            // `Duration` sleep until the script is stopped.
            let length = if seconds.is_nan() || seconds <= 0.0 {
                Duration::ZERO
            } else {
                Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
            };
            sleep(&context, float_env.get(context.call_position())?, length)
        },
    );
}

fn sleep(
    context: &NativeCallContext,
    env: &EngineEnv,
    length: Duration,
) -> Result<(), Box<EvalAltResult>> {
    if length.is_zero() {
        return Ok(());
    }
    let position = context.call_position();
    let running = env.require_running(position)?;
    let until = Instant::now().checked_add(length);
    crate::sync::wait::sleep_until(&running.control, env.bridge_stopped(), until)
        .map_err(|reason| terminated(reason, position))
}
