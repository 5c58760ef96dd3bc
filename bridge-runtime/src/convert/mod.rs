//! Conversions between script values, Rust values and JSON.
//!
//! Rhai's limits bound script recursion, not data: a script can build a 100,000-deep array in a
//! loop. Every conversion here counts its depth and stops at [`MAX_VALUE_DEPTH`] with an error.

mod fast_path;
mod to_json;
mod to_script;

pub(crate) use to_json::dynamic_to_json;
pub(crate) use to_script::to_script_value;

use rhai::Dynamic;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A script value as the Rust type `T`: directly for the commonest types, else through JSON's
/// data model (so integers are accepted as floats and out-of-range integers are errors).
pub(crate) fn from_script<T: DeserializeOwned + 'static>(value: &Dynamic) -> Result<T, String> {
    if let Some(converted) = fast_path::script_to_rust(value) {
        return Ok(converted);
    }
    let json = dynamic_to_json(value).map_err(|e| e.to_string())?;
    serde_json::from_value(json).map_err(|e| e.to_string())
}

/// A Rust value as a script value: directly for the commonest types, else through serde.
pub(crate) fn into_script<T: Serialize + 'static>(value: &T) -> Result<Dynamic, ConversionError> {
    match fast_path::rust_to_script(value) {
        Some(converted) => Ok(converted),
        None => to_script_value(value),
    }
}

use std::fmt;

/// How deeply arrays and maps may nest in a value crossing the bridge, either way.
pub const MAX_VALUE_DEPTH: usize = 128;

/// A value that could not be converted, with where inside it the problem sits.
#[derive(Debug)]
pub(crate) struct ConversionError {
    message: String,
    /// Path segments from the outermost value inwards (`.name`, `[3]`).
    path: Vec<String>,
    /// A depth error's path would be as long as the limit itself, so it is not recorded.
    records_path: bool,
}

impl ConversionError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            path: Vec::new(),
            records_path: true,
        }
    }

    pub(crate) fn too_deep() -> Self {
        Self {
            records_path: false,
            ..Self::new(format!(
                "the value is nested deeper than {MAX_VALUE_DEPTH} levels"
            ))
        }
    }

    /// Records that the error happened inside `segment` of the enclosing value.
    pub(crate) fn inside(mut self, segment: String) -> Self {
        if self.records_path {
            self.path.insert(0, segment);
        }
        self
    }
}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at {}: {}", self.path.concat(), self.message)
        }
    }
}

impl std::error::Error for ConversionError {}

impl serde::ser::Error for ConversionError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::new(message.to_string())
    }
}
