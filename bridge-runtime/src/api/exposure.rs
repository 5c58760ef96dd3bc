//! Which registered functions a bridge exposes to its scripts.

use crate::error::Error;
use crate::registered::function::ScriptFunction;
use crate::state::TypeMap;

/// What a bridge's scripts can call: the functions, and those they would call in vain because
/// the bridge lacks a state they need.
pub(crate) struct Exposed {
    pub(crate) functions: Vec<&'static ScriptFunction>,
    /// Each with the state type it lacks (the first of them): a call says so.
    pub(crate) missing_state: Vec<(&'static ScriptFunction, &'static str)>,
}

/// Without allow-lists: every function, those whose state the bridge lacks failing when called.
/// With them: exactly the allowed functions and groups, each of which must exist and have its
/// state given.
pub(crate) fn exposed_functions(
    registered: Vec<&'static ScriptFunction>,
    allowed_functions: &[String],
    allowed_groups: &[String],
    states: &TypeMap,
) -> Result<Exposed, Error> {
    let missing_state_of = |function: &ScriptFunction| {
        function
            .states()
            .iter()
            .find(|state| !states.contains((state.type_id)()))
            .map(|state| state.name)
    };
    if allowed_functions.is_empty() && allowed_groups.is_empty() {
        let (functions, lacking): (Vec<_>, Vec<_>) = registered
            .into_iter()
            .partition(|function| missing_state_of(function).is_none());
        let missing_state = lacking
            .into_iter()
            .filter_map(|function| Some((function, missing_state_of(function)?)))
            .collect();
        return Ok(Exposed {
            functions,
            missing_state,
        });
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
        if let Some(missing) = missing_state_of(function) {
            return Err(Error::Config(format!(
                "`{}` needs state of type `{missing}`, which this bridge was not given: add \
                 .state(value) to the builder, or do not allow it",
                function.name(),
            )));
        }
    }
    Ok(Exposed {
        functions: allowed,
        missing_state: Vec::new(),
    })
}
