//! Which registered functions a bridge exposes to its scripts.

use crate::call::registry::ScriptFunction;
use crate::error::Error;
use crate::state::TypeMap;

/// Without allow-lists: every function whose state the bridge has. With them: exactly the allowed
/// functions and groups, each of which must exist and have its state given.
pub(crate) fn exposed_functions(
    registered: Vec<&'static ScriptFunction>,
    allowed_functions: &[String],
    allowed_groups: &[String],
    states: &TypeMap,
) -> Result<Vec<&'static ScriptFunction>, Error> {
    let has_states = |function: &ScriptFunction| {
        function
            .states()
            .iter()
            .all(|state| states.contains((state.type_id)()))
    };
    if allowed_functions.is_empty() && allowed_groups.is_empty() {
        return Ok(registered.into_iter().filter(|f| has_states(f)).collect());
    }
    for name in allowed_functions {
        if !registered.iter().any(|function| function.name() == name) {
            return Err(Error::Config(format!(
                "allow_function(\"{name}\"): no #[script_async] function is registered under that \
                 script name"
            )));
        }
    }
    for group in allowed_groups {
        if !registered
            .iter()
            .any(|function| function.group() == Some(group.as_str()))
        {
            return Err(Error::Config(format!(
                "allow_group(\"{group}\"): no #[script_async(group = \"{group}\")] function is \
                 registered"
            )));
        }
    }
    let allowed: Vec<_> = registered
        .into_iter()
        .filter(|function| {
            allowed_functions.iter().any(|name| name == function.name())
                || function
                    .group()
                    .is_some_and(|group| allowed_groups.iter().any(|allowed| allowed == group))
        })
        .collect();
    for function in &allowed {
        if let Some(missing) = function
            .states()
            .iter()
            .find(|state| !states.contains((state.type_id)()))
        {
            return Err(Error::Config(format!(
                "`{}` needs state of type `{}`, which this bridge was not given: add \
                 .state(value) to the builder, or do not allow it",
                function.name(),
                missing.name
            )));
        }
    }
    Ok(allowed)
}
