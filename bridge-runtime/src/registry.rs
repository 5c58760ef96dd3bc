//! The link-time registry of `#[script_async]` functions.
//!
//! Each function's expansion submits one [`ScriptFunction`] with `inventory::submit!`; a bridge
//! reads them all when it starts, so no hand wiring is needed.

use crate::call::ScriptCall;
use crate::Error;
use std::collections::HashMap;

/// The script side of one function: converts the arguments, sends the command, waits, converts the
/// reply. Written by `#[script_async]`.
pub type ProxyFn = fn(&mut ScriptCall<'_>) -> Result<rhai::Dynamic, Box<rhai::EvalAltResult>>;

/// One parameter of a registered function, as written in its Rust signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptParam {
    /// The parameter's name.
    pub name: &'static str,
    /// Its Rust type, as written.
    pub rust_type: &'static str,
}

/// An async function registered with `#[script_async]`: what scripts call it, and how.
#[derive(Debug)]
pub struct ScriptFunction {
    name: &'static str,
    rust_path: &'static str,
    params: &'static [ScriptParam],
    returns: &'static str,
    proxy: ProxyFn,
}

impl ScriptFunction {
    /// Used by the code `#[script_async]` writes; not part of the stable API.
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        rust_path: &'static str,
        params: &'static [ScriptParam],
        returns: &'static str,
        proxy: ProxyFn,
    ) -> Self {
        Self {
            name,
            rust_path,
            params,
            returns,
            proxy,
        }
    }

    /// The name scripts call it by.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The Rust function's path (`my_crate::users::fetch_user`).
    pub fn rust_path(&self) -> &'static str {
        self.rust_path
    }

    /// Its script parameters, in order.
    pub fn params(&self) -> &'static [ScriptParam] {
        self.params
    }

    /// Its Rust return type, as written (`()` when it has none).
    pub fn returns(&self) -> &'static str {
        self.returns
    }

    pub(crate) fn proxy(&self) -> ProxyFn {
        self.proxy
    }
}

inventory::collect!(ScriptFunction);

/// Every function registered with `#[script_async]` in this program, sorted by script name.
///
/// ```
/// for function in bridge_runtime::registered_functions() {
///     println!("{}({} parameters) -> {}", function.name(), function.params().len(), function.returns());
/// }
/// ```
pub fn registered_functions() -> Vec<&'static ScriptFunction> {
    let mut functions: Vec<_> = inventory::iter::<ScriptFunction>.into_iter().collect();
    functions.sort_by_key(|function| (function.name, function.rust_path));
    functions
}

/// The registered functions, or an error naming the first script name claimed twice.
pub(crate) fn unique_functions() -> Result<Vec<&'static ScriptFunction>, Error> {
    let functions = registered_functions();
    let mut seen: HashMap<&str, &ScriptFunction> = HashMap::with_capacity(functions.len());
    for function in &functions {
        if let Some(first) = seen.insert(function.name, function) {
            return Err(Error::DuplicateFunction {
                name: function.name.to_owned(),
                first: first.rust_path.to_owned(),
                second: function.rust_path.to_owned(),
            });
        }
    }
    Ok(functions)
}
