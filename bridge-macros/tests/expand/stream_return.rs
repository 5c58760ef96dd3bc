//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]

/// The numbers below `n`, streamed to the script's `for`.
#[bridge_runtime::script_async]
async fn below(n: i64) -> bridge_runtime::ScriptStream<i64> {
    bridge_runtime::ScriptStream::new(futures_util::stream::iter(0..n))
}

fn main() {}
