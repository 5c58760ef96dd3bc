//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]

/// Two integers in, one out.
#[bridge_runtime::script_async]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
