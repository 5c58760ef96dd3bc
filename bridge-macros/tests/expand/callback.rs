//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]

use bridge_runtime::ScriptCallback;

/// Calls `attempt` until it succeeds: a callback takes a script argument's place.
#[bridge_runtime::script_async]
async fn retry(times: i64, attempt: ScriptCallback) -> Result<i64, String> {
    let mut last = String::new();
    for _ in 0..times {
        match attempt.call::<i64>(()).await {
            Ok(value) => return Ok(value),
            Err(error) => last = error.to_string(),
        }
    }
    Err(last)
}

fn main() {}
