//! The bridge's own versions of Rhai standard-library functions that would otherwise block, run
//! long or multiply memory in one call, out of reach of deadlines, cancellation and limits (which
//! Rhai checks between operations). This is the one list of them; README.md's "Running untrusted
//! scripts" has the audit table.
//!
//! Registered in every bridge's engine, where they take precedence over the standard library's
//! functions of the same name and parameter types.

use crate::call::terminated;
use crate::engine::EngineEnv;
use rhai::{Engine, EvalAltResult, NativeCallContext, FLOAT, INT};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Registers every replacement on `engine`.
pub(crate) fn register(engine: &mut Engine, env: &Rc<EngineEnv>) {
    register_sleep(engine, env);
}

/// `sleep(seconds)`: Rhai's blocks the engine thread in `std::thread::sleep`, holding up every
/// script on it and ignoring deadlines, cancellation and shutdown. Ours waits the way a call does
/// (see [`crate::wait::sleep_until`]).
fn register_sleep(engine: &mut Engine, env: &Rc<EngineEnv>) {
    let int_env = env.clone();
    engine.register_fn(
        "sleep",
        move |context: NativeCallContext, seconds: INT| -> Result<(), Box<EvalAltResult>> {
            let length = u64::try_from(seconds).map_or(Duration::ZERO, Duration::from_secs);
            sleep(&context, &int_env, length)
        },
    );
    let float_env = env.clone();
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
            sleep(&context, &float_env, length)
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
    let Some(running) = env.running() else {
        return Err(crate::in_flight::no_script(position));
    };
    let until = Instant::now().checked_add(length);
    crate::wait::sleep_until(&running.control, env.bridge_stopped(), until)
        .map_err(|reason| terminated(reason, position))
}
