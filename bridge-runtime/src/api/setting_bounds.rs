//! The values each numeric setting of [`BridgeBuilder`](crate::BridgeBuilder) accepts.
//!
//! A setter stores what it is given, unchanged; `build` checks every value here and refuses one
//! the host cannot have (a stack size that overflows inside corosensei, 100,000 engine threads
//! that take 9.7 GB and abort the process) with [`Error::Config`] naming the setting, the value
//! and the range. Nothing is clamped silently.

use crate::error::Error;
use std::fmt::Display;
use std::ops::RangeInclusive;

/// The smallest script stack: room for Rhai's own frames and the quarter kept in reserve.
pub(crate) const MIN_STACK_SIZE: usize = 256 * 1024;

/// The largest script stack: address space only, but reserved for each running script, so
/// 1,024 scripts at once take a terabyte of it.
pub(crate) const MAX_STACK_SIZE: usize = 1024 * 1024 * 1024;

/// The most engine threads a bridge may have. Each builds a Rhai engine (about 100 KB) and keeps
/// an 8 MiB stack reserved; more threads than cores only take turns.
pub(crate) const MAX_ENGINE_THREADS: usize = 1024;

/// `value` for `setting`, if inside `range`; else an error that names both and says why the
/// range is what it is.
pub(crate) fn within<T: PartialOrd + Display>(
    setting: &str,
    value: T,
    range: RangeInclusive<T>,
    why: &str,
) -> Result<(), Error> {
    if range.contains(&value) {
        return Ok(());
    }
    let (low, high) = range.into_inner();
    Err(Error::Config(format!(
        "{setting}({value}) is out of range: it must be from {low} to {high} ({why})"
    )))
}

/// Refuses 0 for the Rhai limit `Limits::{field}`, where Rhai would read it as "no limit".
pub(crate) fn not_zero(field: &str, value: Option<u64>) -> Result<(), Error> {
    if value == Some(0) {
        return Err(Error::Config(format!(
            "Limits::{field}(0) is out of range: Rhai reads 0 as no limit at all, not as none \
             allowed; to lift the limit, give None"
        )));
    }
    Ok(())
}
