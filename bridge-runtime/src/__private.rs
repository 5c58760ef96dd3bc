//! What the code `#[script_async]` writes refers to, so users need no direct dependency on rhai,
//! serde, serde_json or inventory. Not a public API: it changes without notice.

pub use crate::call::ScriptCall;
pub use crate::command::{describe_err, ScriptCommand};
pub use crate::registry::{ScriptFunction, ScriptParam};
pub use inventory;
pub use rhai;
pub use serde;
pub use serde_json;

/// What a proxy returns: the call's script value, or the script error to raise.
pub type ProxyResult =
    ::core::result::Result<rhai::Dynamic, ::std::boxed::Box<rhai::EvalAltResult>>;
