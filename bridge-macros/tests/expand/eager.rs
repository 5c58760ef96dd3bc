//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]

/// Polled once on the engine thread; handed to the worker only if not finished.
#[bridge_runtime::script_async(eager)]
async fn lookup_cached(key: String) -> Option<String> {
    if key.is_empty() {
        None
    } else {
        tokio::task::yield_now().await;
        Some(key)
    }
}

fn main() {}
