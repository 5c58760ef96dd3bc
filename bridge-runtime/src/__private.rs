//! What the code `#[script_async]` writes refers to, so users need no direct dependency on rhai,
//! serde, serde_json or inventory. Not a public API: it changes without notice.

mod construct;
mod recognised;

pub use crate::call::call_env::CallEnv;
pub use crate::call::command::{
    debug_as_json, describe_err, output_json, CommandSeal, EagerCommand, ScriptCommand,
};
pub use crate::call::placement::{Anywhere, FutureProbe, OnPool, OnWorker, Placed, SendCallFuture};

/// The two traits that pick a call's placement ([`FutureProbe`]), for a glob import: one of
/// them always goes unused, and a glob import of both is not reported as unused.
pub mod placement {
    pub use crate::call::placement::{LocalFuture, SendFuture};
}
pub use crate::call::proxy::ScriptCall;
pub use crate::call::raise::ProxyResult;
pub use crate::convert::type_checks::ScriptArgument;
pub use crate::error::CallFailure;
pub use crate::registered::function::ScriptFunction;
pub use crate::resource::claims::{Claim, Claimed};
pub use crate::resource::registration::ResourceType;
pub use crate::resource::returned::{ScriptValue, SentValue};
pub use crate::resource::token::{NewResource, ResourceRef};
pub use crate::resource::value::ScriptResource;
pub use construct::{param, required_type, returns};
pub use inventory;
pub use recognised::{NameCheck, NotRecognisedByName};
pub use rhai;
pub use serde;
pub use serde_json;
pub use serde_json::Value as JsonValue;
