//! A bridge's data size limits (`max_string_size`, `max_array_size`, `max_map_size`), applied to
//! values the host gives scripts before they reach an engine.
//!
//! Rhai checks a value against these limits only when a script assigns or returns it, so an
//! input over them would be accepted, copied to an engine thread and fail at its first use (or,
//! read in place, never). Inputs and globals are counted as Rhai counts a value
//! (`rhai::Engine::ensure_data_size_within_limits`): everything nested inside it together, the
//! bytes of all its strings, the items of all its arrays (a blob's bytes count as items), the
//! entries of all its object maps.

use super::rules::ConversionError;
use std::cell::Cell;

/// The three limits, as the engine has them after every setting (`None`: unlimited).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SizeLimits {
    pub(crate) max_string_size: Option<usize>,
    pub(crate) max_array_size: Option<usize>,
    pub(crate) max_map_size: Option<usize>,
}

impl SizeLimits {
    /// The limits `engine` enforces (Rhai reports "unlimited" as 0).
    pub(crate) fn of_engine(engine: &rhai::Engine) -> Self {
        let limit = |value: usize| (value > 0).then_some(value);
        Self {
            max_string_size: limit(engine.max_string_size()),
            max_array_size: limit(engine.max_array_size()),
            max_map_size: limit(engine.max_map_size()),
        }
    }

    /// Whether any limit is set.
    pub(crate) fn is_limited(&self) -> bool {
        self.max_string_size.is_some()
            || self.max_array_size.is_some()
            || self.max_map_size.is_some()
    }
}

/// The running totals of one value, checked against its limits as they grow, so that a value over
/// a limit is refused before the rest of it is built.
pub(crate) struct SizeTally {
    limits: SizeLimits,
    string_bytes: Cell<usize>,
    array_items: Cell<usize>,
    map_entries: Cell<usize>,
}

impl SizeTally {
    pub(crate) fn new(limits: SizeLimits) -> Self {
        Self {
            limits,
            string_bytes: Cell::new(0),
            array_items: Cell::new(0),
            map_entries: Cell::new(0),
        }
    }

    /// Counts a string of `bytes` bytes.
    pub(crate) fn add_string(&self, bytes: usize) -> Result<(), ConversionError> {
        add(
            &self.string_bytes,
            bytes,
            self.limits.max_string_size,
            "strings",
            "max_string_size",
            "bytes",
        )
    }

    /// Counts `items` array items (or blob bytes).
    pub(crate) fn add_array_items(&self, items: usize) -> Result<(), ConversionError> {
        add(
            &self.array_items,
            items,
            self.limits.max_array_size,
            "arrays",
            "max_array_size",
            "items",
        )
    }

    /// Counts `entries` object map entries.
    pub(crate) fn add_map_entries(&self, entries: usize) -> Result<(), ConversionError> {
        add(
            &self.map_entries,
            entries,
            self.limits.max_map_size,
            "object maps",
            "max_map_size",
            "entries",
        )
    }
}

fn add(
    total: &Cell<usize>,
    more: usize,
    limit: Option<usize>,
    what: &str,
    setting: &str,
    unit: &str,
) -> Result<(), ConversionError> {
    let sum = total.get().saturating_add(more);
    total.set(sum);
    match limit {
        Some(max) if sum > max => Err(ConversionError::over_limit(format!(
            "its {what} hold at least {sum} {unit} in all, more than this bridge's {setting} of \
             {max} (everything nested in a value counts together, as Rhai counts it)"
        ))),
        _ => Ok(()),
    }
}
