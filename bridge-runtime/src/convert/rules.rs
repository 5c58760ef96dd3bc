//! What every conversion keeps to: the depth limit, and the error it reports.

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
    /// The value is over one of the bridge's size limits, rather than without a script form.
    over_limit: bool,
}

impl ConversionError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            path: Vec::new(),
            records_path: true,
            over_limit: false,
        }
    }

    /// A value over one of the bridge's size limits (see `size_limits`).
    pub(crate) fn over_limit(message: impl Into<String>) -> Self {
        Self {
            over_limit: true,
            ..Self::new(message)
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

    /// Whether this is the depth limit's error.
    pub(crate) fn is_too_deep(&self) -> bool {
        !self.records_path
    }

    /// Whether the value is over a limit (depth or size) rather than without a script form.
    pub(crate) fn is_over_limit(&self) -> bool {
        self.over_limit || self.is_too_deep()
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
