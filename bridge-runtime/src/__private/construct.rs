//! Constructors for the registration records generated code builds, so that their fields stay
//! private and one can be added without breaking anyone.

use crate::signature::{ScriptParam, ScriptReturn};
use crate::state::RequiredType;
use std::any::TypeId;

/// One script parameter: its name, its Rust type as written, its script type.
pub const fn param(
    name: &'static str,
    rust_type: &'static str,
    script_type: &'static str,
) -> ScriptParam {
    ScriptParam::new(name, rust_type, script_type)
}

/// A function's return: its Rust type as written, what scripts get.
pub const fn returns(rust_type: &'static str, script_type: &'static str) -> ScriptReturn {
    ScriptReturn::new(rust_type, script_type)
}

/// A `State<T>` or `ScriptContext<T>` a function needs: `T` as written, and its `TypeId`.
pub const fn required_type(name: &'static str, type_id: fn() -> TypeId) -> RequiredType {
    RequiredType::new(name, type_id)
}
