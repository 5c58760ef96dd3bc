//! Async functions registered from a library crate rather than the test binary itself.

use bridge_runtime::script_async;

/// Greets from a library crate, after a timer.
#[script_async]
pub async fn library_greeting(name: &str) -> String {
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    format!("hello from the library, {name}")
}
