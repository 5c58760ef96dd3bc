//! The bounds generated code puts on a function's parameter and return types, so that a type
//! that cannot cross to a script gives one error, on that type, saying what to do, instead of a
//! cascade of serde's errors.
//!
//! Each is a trait with the needed traits as supertraits, implemented for every type that has
//! them; `#[diagnostic::do_not_recommend]` makes rustc report the unmet trait itself (with its
//! message) rather than the first serde bound inside its impl.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a script argument must be.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a script argument: it must be `Serialize + Deserialize + Send + 'static`",
    label = "not a script argument",
    note = "derive `serde::Serialize` and `serde::Deserialize` for `{Self}` if it is data; a shared resource (a pool, a client) is not an argument: take it as `State<{Self}>` and give it once with `BridgeBuilder::state`; a value the script holds (a `Resource<{Self}>`) is passed as `Ref<{Self}>` or `Mut<{Self}>`"
)]
pub trait ScriptArgument: Serialize + DeserializeOwned + Send + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned + Send + 'static> ScriptArgument for T {}
