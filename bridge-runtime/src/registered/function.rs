//! The link-time registry of `#[script_async]` functions.
//!
//! Each function's expansion submits one [`ScriptFunction`] with `inventory::submit!`; a bridge
//! reads them all when it starts, so no hand wiring is needed.

use crate::call::proxy::{Callee, ScriptCall};
use crate::error::Error;
use crate::signature::{ScriptParam, ScriptReturn};
use crate::state::RequiredType;
use std::collections::HashMap;
use std::time::Duration;

/// The script side of one function: converts the arguments, sends the command, waits, converts the
/// reply. Written by `#[script_async]`.
#[doc(hidden)]
pub type ProxyFn = fn(&mut ScriptCall<'_>) -> Result<rhai::Dynamic, Box<rhai::EvalAltResult>>;

/// An async function registered with `#[script_async]`: what scripts call it, and how.
#[derive(Debug)]
pub struct ScriptFunction {
    name: &'static str,
    rust_path: &'static str,
    params: &'static [ScriptParam],
    returns: ScriptReturn,
    docs: &'static str,
    proxy: ProxyFn,
    group: Option<&'static str>,
    timeout: Option<Duration>,
    states: &'static [RequiredType],
    contexts: &'static [RequiredType],
}

impl ScriptFunction {
    /// Used by the code `#[script_async]` writes; not part of the stable API.
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        rust_path: &'static str,
        params: &'static [ScriptParam],
        returns: ScriptReturn,
        proxy: ProxyFn,
    ) -> Self {
        Self {
            name,
            rust_path,
            params,
            returns,
            docs: "",
            proxy,
            group: None,
            timeout: None,
            states: &[],
            contexts: &[],
        }
    }

    /// Used by the code `#[script_async]` writes for a function with a doc comment.
    #[doc(hidden)]
    pub const fn with_docs(mut self, docs: &'static str) -> Self {
        self.docs = docs;
        self
    }

    /// Used by the code `#[script_async(group = "...")]` writes.
    #[doc(hidden)]
    pub const fn with_group(mut self, group: &'static str) -> Self {
        self.group = Some(group);
        self
    }

    /// Used by the code `#[script_async(timeout_ms = ...)]` writes.
    #[doc(hidden)]
    pub const fn with_timeout_ms(mut self, millis: u64) -> Self {
        self.timeout = Some(Duration::from_millis(millis));
        self
    }

    /// Used by the code `#[script_async]` writes for `State<T>` parameters.
    #[doc(hidden)]
    pub const fn with_states(mut self, states: &'static [RequiredType]) -> Self {
        self.states = states;
        self
    }

    /// Used by the code `#[script_async]` writes for `ScriptContext<T>` parameters.
    #[doc(hidden)]
    pub const fn with_contexts(mut self, contexts: &'static [RequiredType]) -> Self {
        self.contexts = contexts;
        self
    }

    /// The name scripts call it by.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The Rust function's path (`my_crate::users::fetch_user`).
    pub fn rust_path(&self) -> &'static str {
        self.rust_path
    }

    /// Its script parameters, in order (`State` and `ScriptContext` parameters are not among them).
    pub fn params(&self) -> &'static [ScriptParam] {
        self.params
    }

    /// Its Rust return type, as written (`()` when it has none).
    pub fn returns(&self) -> &'static str {
        self.returns.rust_type
    }

    /// What scripts get back, spelled as Rhai spells types (`map`; `()` for nothing).
    pub fn script_returns(&self) -> &'static str {
        self.returns.script_type
    }

    /// The Rust function's doc comment, without the `///` markers (empty if it has none).
    pub fn docs(&self) -> &'static str {
        self.docs
    }

    /// How scripts call it, as Rhai's signatures read: `get_user(id: int) -> map`.
    ///
    /// ```
    /// for function in bridge_runtime::registry::registered_functions() {
    ///     println!("{}", function.signature());
    /// }
    /// ```
    pub fn signature(&self) -> String {
        let mut signature = format!("{}({})", self.name, self.param_texts().join(", "));
        if self.returns.script_type != "()" {
            signature.push_str(" -> ");
            signature.push_str(self.returns.script_type);
        }
        signature
    }

    /// Rhai's metadata for it: each parameter as `name: type`, then the return type (`()`,
    /// which Rhai's signatures leave out and its definition files need).
    pub(crate) fn params_info(&self) -> Vec<String> {
        let mut info = self.param_texts();
        info.push(self.returns.script_type.to_owned());
        info
    }

    fn param_texts(&self) -> Vec<String> {
        self.params
            .iter()
            .map(|param| format!("{}: {}", param.name, param.script_type))
            .collect()
    }

    /// The doc comment as Rhai's metadata takes it: one block of `///` lines.
    pub(crate) fn doc_comments(&self) -> Vec<String> {
        if self.docs.is_empty() {
            return Vec::new();
        }
        let lines: Vec<String> = self.docs.lines().map(|line| format!("///{line}")).collect();
        vec![lines.join("\n")]
    }

    /// The group it joined with `#[script_async(group = "...")]`.
    pub fn group(&self) -> Option<&'static str> {
        self.group
    }

    /// Its own call time limit, from `#[script_async(timeout_ms = ...)]`.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The `State<T>` types it needs from the bridge.
    pub fn states(&self) -> &'static [RequiredType] {
        self.states
    }

    /// The `ScriptContext<T>` types it needs from each script run.
    pub fn contexts(&self) -> &'static [RequiredType] {
        self.contexts
    }

    /// What each call of it needs to know.
    pub(crate) fn callee(&self) -> Callee {
        Callee {
            name: self.name,
            params: self.params,
            timeout: self.timeout,
        }
    }

    pub(crate) fn proxy(&self) -> ProxyFn {
        self.proxy
    }
}

inventory::collect!(ScriptFunction);

/// Every function registered with `#[script_async]` in this program, sorted by script name.
///
/// ```
/// for function in bridge_runtime::registry::registered_functions() {
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
