//! Values the host gives scripts: a run's inputs and a bridge's globals.
//!
//! They are taken as JSON on the host's thread (a script value cannot cross threads) and become
//! script values on the engine thread, by the same rules as a function's return value.

use crate::catch_unwind::describe_panic;
use crate::convert::to_script_value;
use crate::error::Error;
use serde::Serialize;
use serde_json::Value;
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
pub(crate) fn input_value(name: &str, value: &impl Serialize) -> Result<Value, Error> {
    check_name(name)?;
    let bad = |message: String| Error::Input {
        name: name.to_owned(),
        message,
    };
    match catch_unwind(AssertUnwindSafe(|| serde_json::to_value(value))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(bad(format!("could not be serialized: {error}"))),
        Err(panic) => Err(bad(format!(
            "panicked while being serialized: {}",
            describe_panic(panic)
        ))),
    }
}

/// Checks that a global's value has a script form, as the bridge is built (each engine thread
/// converts it again, which then cannot fail).
pub(crate) fn check_global(name: &str, value: &Value) -> Result<(), Error> {
    to_script_value(value).map(drop).map_err(|e| Error::Input {
        name: name.to_owned(),
        message: format!("has no script form: {e}"),
    })
}
