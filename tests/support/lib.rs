//! Shared by the integration tests: observation helpers, a readable call log, and async functions that live in a
//! library crate (to prove registration works across crates).

pub mod call_log;
pub mod child;
pub mod library_functions;
pub mod observe;
