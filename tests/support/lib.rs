//! Shared by the integration tests: observation helpers, and async functions that live in a
//! library crate (to prove registration works across crates).

pub mod child;
pub mod library_functions;
pub mod observe;
