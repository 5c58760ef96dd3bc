//! Values the host gives scripts: a run's inputs and a bridge's globals.
//!
//! They are converted on the host's thread by the same rules as a function's return value, held
//! to the bridge's size limits there, and travel to engine threads as a [`SendableValue`] (a
//! script value cannot cross threads).

use crate::catch_unwind::describe_panic;
use crate::convert::rules::{ConversionError, MAX_VALUE_DEPTH};
use crate::convert::sendable::SendableValue;
use crate::convert::size_limits::SizeLimits;
use crate::error::Error;
use serde::Serialize;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Whether named values are a run's inputs or a bridge's globals: their errors say which.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum ValueRole {
    #[default]
    Input,
    Global,
}

impl ValueRole {
    /// How an error's message starts, after the variable's name.
    fn prefix(self) -> &'static str {
        match self {
            Self::Input => "",
            Self::Global => "(a global of the bridge) ",
        }
    }
}

thread_local! {
    /// Reads names as a script would; Rhai's raw engine (no packages) is cheap to keep.
    static NAME_READER: rhai::Engine = const { rhai::Engine::new_raw() };
}

/// Whether a script reads `name`, written alone, as the variable `name`: not a keyword (`let`),
/// a reserved word (`print`, `Fn`, `this`, `go`), a literal (`true`) or malformed (`_1`).
/// Asks Rhai's own parser, so the answer is Rhai's whatever its keyword list.
fn is_readable_variable(name: &str) -> bool {
    if !rhai::is_valid_identifier(name) || rhai::Token::lookup_symbol_from_syntax(name).is_some() {
        return false;
    }
    NAME_READER.with(|engine| match engine.compile_expression(name) {
        Ok(ast) => matches!(
            ast.statements(),
            [rhai::Stmt::Expr(expr)] if matches!(&**expr, rhai::Expr::Variable(variable, ..) if variable.1 == name)
        ),
        Err(_) => false,
    })
}

/// Refuses a `name` that a script cannot use as a variable.
fn check_name(name: &str, role: ValueRole) -> Result<(), Error> {
    if is_readable_variable(name) {
        return Ok(());
    }
    Err(Error::Input {
        name: name.to_owned(),
        message: format!(
            "{}is not a valid script variable name (a letter or `_`, then letters, digits or \
             `_`, and not one of Rhai's keywords or reserved words such as `let`, `print`, \
             `this`, `Fn`)",
            role.prefix()
        ),
    })
}

/// The message for a value that cannot be given to scripts.
fn conversion_message(error: &ConversionError, role: ValueRole) -> String {
    let prefix = role.prefix();
    if error.is_too_deep() {
        format!(
            "{prefix}is too large for this bridge: {error} (MAX_VALUE_DEPTH is {MAX_VALUE_DEPTH})"
        )
    } else if error.is_over_limit() {
        format!("{prefix}is too large for this bridge: {error}")
    } else {
        format!("{prefix}has no script form: {error}")
    }
}

/// `value`, given to scripts as the variable `name`, in the form that crosses to engine threads.
fn named_value(
    name: &str,
    value: &impl Serialize,
    role: ValueRole,
    limits: &SizeLimits,
) -> Result<SendableValue, Error> {
    check_name(name, role)?;
    let bad = |message: String| Error::Input {
        name: name.to_owned(),
        message,
    };
    match catch_unwind(AssertUnwindSafe(|| {
        SendableValue::from_rust_within(value, limits)
    })) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(bad(conversion_message(&error, role))),
        Err(panic) => Err(bad(format!(
            "{}panicked while being serialized: {}",
            role.prefix(),
            describe_panic(panic)
        ))),
    }
}

/// Values given by name (a run's inputs, a bridge's globals): a later value for a name replaces
/// the earlier one, and the first that could not be taken is kept to be reported.
#[derive(Default)]
pub(crate) struct NamedValues {
    role: ValueRole,
    values: Vec<(String, SendableValue)>,
    first_error: Option<Error>,
}

impl NamedValues {
    /// A bridge's globals (a run's inputs are the default).
    pub(crate) fn globals() -> Self {
        Self {
            role: ValueRole::Global,
            ..Self::default()
        }
    }

    /// Takes `value` as `name`, unless an earlier value already failed; a value over `limits`
    /// is refused before it is copied.
    pub(crate) fn insert(&mut self, name: &str, value: &impl Serialize, limits: &SizeLimits) {
        if self.first_error.is_some() {
            return;
        }
        match named_value(name, value, self.role, limits) {
            Ok(value) => match self.values.iter_mut().find(|(known, _)| known == name) {
                Some((_, slot)) => *slot = value,
                None => self.values.push((name.to_owned(), value)),
            },
            Err(error) => self.first_error = Some(error),
        }
    }

    /// The names given so far.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.values.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// The values, or the first error.
    pub(crate) fn into_values(self) -> Result<Vec<(String, SendableValue)>, Error> {
        match self.first_error {
            Some(error) => Err(error),
            None => Ok(self.values),
        }
    }

    /// The values, each checked against `limits` (known only once every setting is), or the
    /// first error.
    pub(crate) fn into_values_within(
        self,
        limits: &SizeLimits,
    ) -> Result<Vec<(String, SendableValue)>, Error> {
        let role = self.role;
        let values = self.into_values()?;
        for (name, value) in &values {
            value.check_sizes(limits).map_err(|error| Error::Input {
                name: name.clone(),
                message: conversion_message(&error, role),
            })?;
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_rhai_reads_as_variables_are_accepted() {
        for name in ["x", "_x", "x1", "Fn2", "global", "sizeof", "__x"] {
            assert!(is_readable_variable(name), "{name}");
        }
        for name in [
            "print", "this", "Fn", "let", "true", "go", "_", "_1", "1x", "a b", "",
        ] {
            assert!(!is_readable_variable(name), "{name}");
        }
    }
}
