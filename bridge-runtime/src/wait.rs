//! How an engine thread waits: the one place that decides how long to spin, when to park, and
//! how cancellation and deadlines interrupt a wait.
//!
//! A later coroutine mode (many scripts on one engine thread, each suspended instead of blocking)
//! replaces this function and nothing else.

use crate::control::{ScriptControl, StopReason};
use crossbeam_utils::Backoff;
use std::time::Instant;

/// Blocks the current thread until `ready()` is true or the script must stop.
///
/// Whatever makes `ready()` true must unpark this thread afterwards (reply slots do), and so does
/// stopping the script; spurious wake-ups are harmless because the loop re-checks.
pub(crate) fn block_until(
    control: &ScriptControl,
    mut ready: impl FnMut() -> bool,
) -> Result<(), StopReason> {
    let backoff = Backoff::new();
    loop {
        // Readiness is read before the stop flag: a stop abandons the script's replies after
        // setting the flag, so a reply seen abandoned here always comes with the flag seen set.
        let is_ready = ready();
        if let Some(reason) = control.stop_reason() {
            return Err(reason);
        }
        if is_ready {
            return Ok(());
        }
        if !backoff.is_completed() {
            backoff.snooze();
            continue;
        }
        match control.deadline() {
            Some(deadline) => {
                let now = Instant::now();
                if deadline > now {
                    std::thread::park_timeout(deadline - now);
                }
            }
            None => std::thread::park(),
        }
    }
}
