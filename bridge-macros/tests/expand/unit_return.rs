//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]

/// No parameters, no return value.
#[bridge_runtime::script_async]
async fn tick() {}

fn main() {}
