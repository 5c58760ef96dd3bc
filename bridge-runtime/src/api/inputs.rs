//! Values the host gives scripts: a run's inputs and a bridge's globals.
//!
//! They are converted on the host's thread by the same rules as a function's return value, and
//! travel to engine threads as a [`SendableValue`] (a script value cannot cross threads).

use crate::catch_unwind::describe_panic;
use crate::convert::sendable::SendableValue;
use crate::error::Error;
use serde::Serialize;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Refuses a `name` that a script cannot use as a variable.
fn check_name(name: &str) -> Result<(), Error> {
    if rhai::is_valid_identifier(name) && rhai::Token::lookup_symbol_from_syntax(name).is_none() {
        return Ok(());
    }
    Err(Error::Input {
        name: name.to_owned(),
        message: "is not a valid script variable name (a letter or `_`, then letters, digits or \
                  `_`, and not a keyword)"
            .to_owned(),
    })
}

/// `value`, given to scripts as the variable `name`, in the form that crosses to engine threads.
fn input_value(name: &str, value: &impl Serialize) -> Result<SendableValue, Error> {
    check_name(name)?;
    let bad = |message: String| Error::Input {
        name: name.to_owned(),
        message,
    };
    match catch_unwind(AssertUnwindSafe(|| SendableValue::from_rust(value))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(bad(format!("has no script form: {error}"))),
        Err(panic) => Err(bad(format!(
            "panicked while being serialized: {}",
            describe_panic(panic)
        ))),
    }
}

/// Values given by name (a run's inputs, a bridge's globals): a later value for a name replaces
/// the earlier one, and the first that could not be taken is kept to be reported.
#[derive(Default)]
pub(crate) struct NamedValues {
    values: Vec<(String, SendableValue)>,
    first_error: Option<Error>,
}

impl NamedValues {
    /// Takes `value` as `name`, unless an earlier value already failed.
    pub(crate) fn insert(&mut self, name: &str, value: &impl Serialize) {
        if self.first_error.is_some() {
            return;
        }
        match input_value(name, value) {
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
}
