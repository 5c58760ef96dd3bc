//! Conversions between script values, Rust values and JSON.
//!
//! Rhai's limits bound script recursion, not data: a script can build a 100,000-deep array in a
//! loop. Every conversion here counts its depth and stops at [`MAX_VALUE_DEPTH`](rules::MAX_VALUE_DEPTH) with an error.

mod fast_path;
mod from_script;
pub(crate) mod host_types;
pub(crate) mod json_bounds;
pub(crate) mod rules;
pub(crate) mod sendable;
pub(crate) mod size_limits;
mod to_json;
mod to_script;
pub(crate) mod type_checks;

pub(crate) use rules::ConversionError;
pub(crate) use to_json::dynamic_to_json;
pub(crate) use to_script::to_script_value;

use rhai::Dynamic;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A script value as the Rust type `T`: directly for the commonest types, else by a serde
/// deserializer over the script value that follows JSON's data model (so integers are accepted
/// as floats and out-of-range integers are errors).
pub(crate) fn from_script<T: DeserializeOwned + 'static>(value: &Dynamic) -> Result<T, String> {
    if let Some(converted) = fast_path::script_to_rust(value) {
        return Ok(converted);
    }
    from_script::deserialize(value)
}

/// A Rust value as a script value: directly for the commonest types, else through serde.
pub(crate) fn into_script<T: Serialize + 'static>(value: &T) -> Result<Dynamic, ConversionError> {
    match fast_path::rust_to_script(value) {
        Some(converted) => Ok(converted),
        None => to_script_value(value),
    }
}
