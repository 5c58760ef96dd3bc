//! The link-time registry of `#[script_async]` functions.
//!
//! Each function's expansion submits one [`ScriptFunction`] with `inventory::submit!`; a bridge
//! reads them all when it starts, so no hand wiring is needed.

use crate::call::proxy::{Callee, ScriptCall};
use crate::error::Error;
use crate::resource::registration::ResourceType;
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
    method: Option<Method>,
    returns_resource: Option<ResourceType>,
    /// The types of its `Ref<T>` / `Mut<T>` parameters.
    resource_params: &'static [ResourceType],
}

/// What a method of a resource type adds to its registration.
#[derive(Clone, Copy, Debug)]
struct Method {
    /// The name scripts call it by after the dot (`add` in `c.add(2)`).
    name: &'static str,
    /// The type whose method it is.
    of: ResourceType,
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
            method: None,
            returns_resource: None,
            resource_params: &[],
        }
    }

    /// Used by the code `#[script_async]` writes for a method of the resource type `of`, which
    /// scripts call as `value.method_name(...)` (its name is `Type.method_name`).
    #[doc(hidden)]
    pub const fn with_method(mut self, method_name: &'static str, of: ResourceType) -> Self {
        self.method = Some(Method {
            name: method_name,
            of,
        });
        self
    }

    /// Used by the code `#[script_async]` writes for a function that returns a resource.
    #[doc(hidden)]
    pub const fn with_resource_return(mut self, of: ResourceType) -> Self {
        self.returns_resource = Some(of);
        self
    }

    /// Used by the code `#[script_async]` writes for a function taking resources as parameters
    /// (`Ref<T>`, `Mut<T>`).
    #[doc(hidden)]
    pub const fn with_resource_params(mut self, of: &'static [ResourceType]) -> Self {
        self.resource_params = of;
        self
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

    /// Its name: what scripts call a function by, and `Type.method` for a method of a
    /// [resource](crate::Resource) type (which scripts call as `value.method(...)`). Errors,
    /// allow-lists and records name it so.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// For a method of a resource type, the type's name (`Counter` for `Counter.add`).
    pub fn resource_type(&self) -> Option<&'static str> {
        self.method.map(|method| method.of.name())
    }

    /// The name Rhai registers it under: the method's own name for a method.
    pub(crate) fn rhai_name(&self) -> &'static str {
        self.method.map_or(self.name, |method| method.name)
    }

    /// The Rust types of its Rhai parameters: a method's object first (which Rhai picks the
    /// method by), then any value for each script parameter (the proxy converts each itself).
    pub(crate) fn rhai_param_types(&self) -> Vec<std::any::TypeId> {
        let any = std::any::TypeId::of::<rhai::Dynamic>();
        let mut types = Vec::with_capacity(self.params.len() + 1);
        types.extend(self.method.map(|method| method.of.token_type()));
        types.extend(std::iter::repeat_n(any, self.params.len()));
        types
    }

    /// The resource types it takes or gives, which engines must know.
    pub(crate) fn resource_types(&self) -> impl Iterator<Item = ResourceType> {
        self.method
            .map(|method| method.of)
            .into_iter()
            .chain(self.returns_resource)
            .chain(self.resource_params.iter().copied())
    }

    /// Whether a record cannot hold its calls: a method of a resource, or a function taking or
    /// returning one.
    pub(crate) fn involves_resources(&self) -> bool {
        self.method.is_some() || self.returns_resource.is_some() || !self.resource_params.is_empty()
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
        // A method reads as it is called, on its object: `Counter.add(n: int) -> int`.
        if self.returns.script_type != "()" {
            signature.push_str(" -> ");
            signature.push_str(self.returns.script_type);
        }
        signature
    }

    /// Rhai's metadata for it: each parameter as `name: type`, then the return type (`()`,
    /// which Rhai's signatures leave out and its definition files need).
    pub(crate) fn params_info(&self) -> Vec<String> {
        let mut info: Vec<String> = self
            .method
            .map(|method| format!("this: {}", method.of.name()))
            .into_iter()
            .collect();
        info.extend(self.param_texts());
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
            involves_resources: self.involves_resources(),
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
