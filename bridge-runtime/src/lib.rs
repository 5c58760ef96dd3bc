//! Rhai scripts calling ordinary `async fn`s.
//!
//! Put [`#[script_async]`](script_async) on an `async fn` and scripts run by [`run`] or a
//! [`Bridge`] can call it like any function. The script runs on an engine thread; the call is sent
//! as a typed command to a worker thread running a tokio runtime, which awaits the real function;
//! the script waits for the reply, so to it the call is a normal call. Scripts share a few engine
//! threads as fibers: while one waits on a call, another runs (see
//! [`BridgeBuilder::max_engine_threads`]).
//!
//! ```
//! use bridge_runtime::script_async;
//! use serde::Serialize;
//!
//! #[derive(Serialize)]
//! struct User {
//!     id: i64,
//!     name: String,
//! }
//!
//! #[script_async]
//! async fn fetch_user(id: i64) -> Result<User, String> {
//!     tokio::time::sleep(std::time::Duration::from_millis(1)).await;
//!     match id {
//!         7 => Ok(User { id, name: "Ada".into() }),
//!         _ => Err(format!("no user {id}")),
//!     }
//! }
//!
//! let name = bridge_runtime::run(r#" let u = fetch_user(7); u.name "#)?;
//! assert_eq!(name, "Ada");
//!
//! let error = bridge_runtime::run("fetch_user(8)").unwrap_err();
//! assert_eq!(error.to_string(), "fetch_user failed: no user 8 (line 1, position 1)");
//! # Ok::<(), bridge_runtime::Error>(())
//! ```
//!
//! The guide follows: how it works, inputs and typed results, compiled scripts, the types that
//! cross, errors, state, allow-lists, limits and the sandbox, timeouts, cancellation, calls in
//! flight, callbacks, many scripts, engine hooks, tracing.
//!
#![doc = include_str!("guide.md")]
// Unsafe code lives only in the modules that opt in (`sync::reply`, `sync::thread_bound`,
// `call::command`, `fiber::coroutine`, `fiber::stacks`, `fiber::stack_overflow`), and every
// block says why it is sound.
#![deny(
    missing_docs,
    unsafe_code,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks
)]

// From the top down: `api` → `engine`, `worker` → `registered` → `call` → `sync` → `fiber` → the
// leaves (`convert`, `state`, `signature`, `trace`, `catch_unwind`, `error`). Each part uses only
// parts below it, and no modules import each other in a circle: `tests/module_layers.rs` checks
// both.
mod api;
mod call;
mod catch_unwind;
mod convert;
mod engine;
mod error;
mod fiber;
mod registered;
mod resource;
mod signature;
mod state;
mod sync;
mod trace;
mod worker;

#[doc(hidden)]
pub mod __private;

pub use api::bridge::{run, Bridge};
pub use api::builder::BridgeBuilder;
pub use api::handle::ScriptHandle;
pub use api::limits::Limits;
pub use api::script::{IntoScript, Script};
pub use api::script_run::ScriptRun;
pub use call::callback::{CallbackArgs, CallbackError, CallbackErrorKind, ScriptCallback};
pub use call::command::ScriptCommand;
pub use convert::rules::MAX_VALUE_DEPTH;
pub use error::{CallError, CallErrorKind, Error, ScriptPosition};
pub use resource::guards::{Mut, Ref};
pub use resource::stream::ScriptStream;
pub use resource::value::Resource;
/// The Rhai crate the bridge runs, for [`BridgeBuilder::configure_engine`] and
/// [`BridgeBuilder::on_progress`].
pub use rhai;
/// A script's final value, as JSON (re-exported from `serde_json`).
pub use serde_json::Value;
pub use state::{ScriptContext, State};

/// What a bridge knows of the `#[script_async]` functions: each one's name, signature and
/// needs ([`registered_functions`](registry::registered_functions)), and the definitions a
/// bridge's scripts see ([`ScriptDefinitions`](registry::ScriptDefinitions)).
pub mod registry {
    pub use crate::api::definitions::ScriptDefinitions;
    pub use crate::registered::function::{registered_functions, ScriptFunction};
    pub use crate::signature::{ScriptParam, ScriptReturn};
    pub use crate::state::RequiredType;
}

/// Calls recorded, replayed and mocked: the builder's methods for it
/// ([`RecordAndReplay`](record::RecordAndReplay)) and what a record holds.
pub mod record {
    pub use crate::api::recording::RecordAndReplay;
    pub use crate::call::replay_log::{RecordedCall, RecordedError, RecordedOutcome};
}

/// Lets Rhai scripts call an `async fn`.
///
/// `#[script_async]` keeps the function as it is and registers it under its own name;
/// `#[script_async(name = "script_name")]` registers it under another. See the crate
/// documentation for what it generates and what parameter and return types it accepts.
pub use bridge_macros::script_async;

/// The README's examples, compiled and run as doctests so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
