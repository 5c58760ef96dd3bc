//! Writes the expansion for a checked function: its command type, the worker-side dispatch, the
//! script-side proxy and the registration record, inside `const _: () = { ... };` so none of these
//! names reach the user's namespace.

use crate::ast::{type_name, unraw, Method, Output, Param, ParamKind, ReceiverKind, ScriptFn};
use crate::script_type::script_type;
use crate::type_text::type_text;
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Ident, Lifetime, Type};

/// Everything generated for `function` (the function itself is emitted by the caller, unchanged).
pub(crate) fn expand(function: &ScriptFn<'_>) -> TokenStream {
    let names = Names::of(function);
    let import = bridge_import(&function.runtime_path);
    let command = command_type(function, &names, CommandPlace::Hidden);
    let rest = expand_around_command(function, &names);
    quote! {
        const _: () = {
            #import
            #command
            #rest
        };
    }
}

/// For a function of a `#[script_async] mod`: its command type, public beside it in the module
/// (serde data, a variant of the module's command enum), and the rest hidden as usual.
pub(crate) fn expand_in_module(function: &ScriptFn<'_>) -> TokenStream {
    let mut names = Names::of(function);
    names.command = module_command_name(function);
    let runtime = &function.runtime_path;
    let private = quote! { #runtime::__private };
    let command = command_type(function, &names, CommandPlace::Module { private: &private });
    let debug = debug_as_json(&names.command, &quote! { __bridge });
    let import = bridge_import(runtime);
    let rest = expand_around_command(function, &names);
    quote! {
        #command
        const _: () = {
            #import
            #debug
            #rest
        };
    }
}

/// `use ::bridge_runtime::__private as __bridge;`: written once at the top of each `const _`
/// block, so the code inside names the runtime as `__bridge::...`. Only what must be outside a
/// `const _` (a module's public command types, their derives) spells the whole path.
pub(crate) fn bridge_import(runtime: &syn::Path) -> TokenStream {
    quote! { use #runtime::__private as __bridge; }
}

/// `Debug` for a public command type, as its JSON (its fields need not be `Debug`).
pub(crate) fn debug_as_json(command: &Ident, private: &TokenStream) -> TokenStream {
    let name = command.to_string();
    quote! {
        #[automatically_derived]
        impl ::core::fmt::Debug for #command {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #private::debug_as_json(#name, self, f)
            }
        }
    }
}

/// `fetch_user` → `FetchUserCommand`: the public name of a module function's command.
pub(crate) fn module_command_name(function: &ScriptFn<'_>) -> Ident {
    let rust_name = unraw(function.ident());
    let span = function.ident().span();
    Ident::new(&format!("{}Command", upper_camel_case(&rust_name)), span)
}

/// serde's `crate = "..."` for derives in generated code: the runtime's re-export, as text.
pub(crate) fn private_serde_path(private: &TokenStream) -> String {
    quote!(#private::serde).to_string().replace(' ', "")
}

/// The dispatch, the proxy and the registration, around a command type named `names.command`.
fn expand_around_command(function: &ScriptFn<'_>, names: &Names) -> TokenStream {
    let dispatch = dispatch_impl(function, names);
    let eager = eager_impl(function, names);
    let proxy = proxy_fn(function, names);
    let registration = registration(function, names);
    let names_checked = names_checked(function, names);
    quote! {
        #names_checked
        #dispatch
        #eager
        #proxy
        #registration
    }
}

/// The names of the generated items, and the path generated code reaches the runtime by.
pub(crate) struct Names {
    /// `__bridge`: the runtime's `__private`, as [`bridge_import`] brings it in.
    private: TokenStream,
    function: Ident,
    /// How doc comments name the Rust function: `fetch_user`, or `Tally::add` for a method.
    shown: String,
    command: Ident,
    proxy: Ident,
    script_name: String,
}

impl Names {
    fn of(function: &ScriptFn<'_>) -> Self {
        let rust_name = unraw(function.ident());
        let span = function.ident().span();
        // A method's command is named after its type too: `__CounterAddCommand`.
        let type_name = function
            .method
            .as_ref()
            .map_or_else(String::new, |method| method.type_name.clone());
        Self {
            private: quote! { __bridge },
            function: function.ident().clone(),
            shown: match &function.method {
                Some(method) => format!("{}::{rust_name}", method.type_name),
                None => rust_name.clone(),
            },
            // `__` names, as serde's derive uses: inside `const _` they would otherwise shadow
            // a user's type of the same name used in the signature.
            command: Ident::new(
                &format!("__{type_name}{}Command", upper_camel_case(&rust_name)),
                span,
            ),
            proxy: format_ident!("__{}_proxy", rust_name, span = span),
            script_name: function.script_name.value.clone(),
        }
    }
}

/// Where a command type is declared, which decides how it is written.
enum CommandPlace<'a> {
    /// Inside the function's `const _`: private, used only by its proxy and dispatch.
    Hidden,
    /// Public in a `#[script_async] mod`, as serde data; `private` is the runtime's `__private`
    /// by its whole path (the type is outside any `const _`).
    Module { private: &'a TokenStream },
}

/// The command type: the script's arguments of one call, as owned fields.
fn command_type(function: &ScriptFn<'_>, names: &Names, place: CommandPlace<'_>) -> TokenStream {
    let Names { shown, command, .. } = names;
    let doc = format!(" One script call of [`{shown}`]: its arguments as owned fields.");
    let (attrs, vis) = match place {
        CommandPlace::Hidden => (TokenStream::new(), TokenStream::new()),
        CommandPlace::Module { private } => {
            let serde_path = private_serde_path(private);
            let attrs = quote! {
                #[derive(#private::serde::Serialize, #private::serde::Deserialize)]
                #[serde(crate = #serde_path)]
            };
            (attrs, quote! { pub })
        }
    };
    let object = function.method.as_ref().map(|method| {
        let self_ty = method.self_ty;
        let private = &names.private;
        quote! { __object: #private::ResourceRef<#self_ty>, }
    });
    let fields = function.script_params().map(|param| {
        let name = param_ident(param);
        let ty = match param.kind {
            ParamKind::Resource { ty, .. } => {
                let private = &names.private;
                quote! { #private::ResourceRef<#ty> }
            }
            _ => field_type(param),
        };
        quote! { #vis #name: #ty }
    });
    quote! {
        #[doc = #doc]
        #attrs
        #vis struct #command {
            #object
            #(#fields,)*
        }
    }
}

fn dispatch_impl(function: &ScriptFn<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let Names {
        function: rust_fn,
        shown,
        command,
        script_name,
        ..
    } = names;
    let args = function.params.iter().map(|param| {
        let name = param_ident(param);
        match (&param.kind, param.borrowed()) {
            (ParamKind::State(_), _) => quote! { env.state()? },
            (ParamKind::Context(_), _) => quote! { env.context()? },
            (ParamKind::Script, Some(_)) => quote! { &self.#name },
            (ParamKind::Script | ParamKind::Callback, None) => quote! { self.#name },
            // Refused by `valid` (a callback is taken by value); kept total.
            (ParamKind::Callback, Some(_)) => quote! { &self.#name },
            (ParamKind::Resource { exclusive, .. }, _) => {
                let access = if *exclusive {
                    quote! { exclusive }
                } else {
                    quote! { shared }
                };
                quote! { resources.#access(&self.#name)? }
            }
        }
    });
    let claims = resource_claims(function, private);
    let (object, call) = match &function.method {
        None => (claims, quote! { #rust_fn(#(#args),*).await }),
        Some(method) => {
            let (object, argument) = object_access(method, function, claims.is_empty());
            let object = quote! { #claims #object };
            let self_ty = method.self_ty;
            let call = quote! { <#self_ty>::#rust_fn(#argument, #(#args),*).await };
            (object, call)
        }
    };
    let (output, body) = match &function.output {
        Output::Unit => (
            quote! { () },
            quote! { #object ::core::result::Result::Ok(#call) },
        ),
        Output::Value(ty) => (
            quote! { #ty },
            quote! { #object ::core::result::Result::Ok(#call) },
        ),
        Output::Result { full, ok } => {
            let ok = ok.map_or_else(|| quote! { () }, |ok| quote! { #ok });
            // Spanned on the return type: an error type without `Display` is reported there.
            let private = respanned(private, full.span());
            let describe_err = quote_spanned! {full.span()=>
                #private::describe_err(result)
            };
            (ok, quote! { #object let result = #call; #describe_err })
        }
    };
    let uses_env = function.method.is_some()
        || function.params.iter().any(|param| {
            matches!(
                param.kind,
                ParamKind::State(_) | ParamKind::Context(_) | ParamKind::Resource { .. }
            )
        });
    let env = if uses_env {
        quote! { env }
    } else {
        quote! { _env }
    };
    let doc = format!(" Worker side: awaits [`{shown}`] with this command's arguments.");
    let placed = placed_dispatch(function, shown, private);
    quote! {
        #[automatically_derived]
        impl #private::CommandSeal for #command {}
        #[automatically_derived]
        impl #private::ScriptCommand for #command {
            const SCRIPT_NAME: &'static str = #script_name;
            type Output = #output;
            #[doc = #doc]
            async fn dispatch(
                self,
                #env: #private::CallEnv,
            ) -> ::core::result::Result<Self::Output, #private::CallFailure> {
                #body
            }
            #placed
        }
    }
}

/// For a function that takes no resource: its dispatch boxed to run on any thread of a bridge
/// given more (`worker_threads`) when its future is `Send`, which only here, where the future's
/// type is known, can be asked. Empty for methods and functions taking resources: they keep to
/// the worker, which owns the resources.
fn placed_dispatch(function: &ScriptFn<'_>, shown: &str, private: &TokenStream) -> TokenStream {
    if function.method.is_some() || function.takes_resources() {
        return TokenStream::new();
    }
    let doc = format!(
        " Worker side, on a bridge with more threads: [`{shown}`]'s call, to run on any of them \
         if its future is `Send`."
    );
    quote! {
        #[doc = #doc]
        fn dispatch_placed(self, env: #private::CallEnv) -> #private::Placed<Self::Output> {
            use #private::placement::*;
            let call = #private::FutureProbe(
                <Self as #private::ScriptCommand>::dispatch(self, env.off_worker()),
            );
            (&call).placement().boxed(call)
        }
    }
}

/// For a function taking resources (`Ref<T>`, `Mut<T>`): the statement that locks all of them,
/// a method's object among them, in one order; empty for any other function.
fn resource_claims(function: &ScriptFn<'_>, private: &TokenStream) -> TokenStream {
    if !function.takes_resources() {
        return TokenStream::new();
    }
    let object = function
        .method
        .as_ref()
        .map(|method| match method.receiver {
            ReceiverKind::Shared => quote! { #private::Claim::shared(&self.__object, "self") },
            ReceiverKind::Exclusive => {
                quote! { #private::Claim::exclusive(&self.__object, "self") }
            }
            ReceiverKind::Consuming => {
                let name = unraw(function.ident());
                quote! { #private::Claim::consuming(&self.__object, #name) }
            }
        });
    let params = function.params.iter().filter_map(|param| {
        let ParamKind::Resource { exclusive, .. } = param.kind else {
            return None;
        };
        let name = param_ident(param);
        let text = param.name();
        Some(if exclusive {
            quote! { #private::Claim::exclusive(&self.#name, #text) }
        } else {
            quote! { #private::Claim::shared(&self.#name, #text) }
        })
    });
    let claims = object.into_iter().chain(params);
    quote! {
        let resources = env.lock_resources(::std::vec![#(#claims),*]).await?;
    }
}

/// How a method's dispatch reaches its object: the statement that waits for its turn on the
/// resource (or, when `alone` is false, takes it from the resources the call locked together),
/// and the receiver argument it passes.
fn object_access(
    method: &Method<'_>,
    function: &ScriptFn<'_>,
    alone: bool,
) -> (TokenStream, TokenStream) {
    if !alone {
        return match method.receiver {
            ReceiverKind::Shared => (
                quote! { let object = resources.shared(&self.__object)?; },
                quote! { &*object },
            ),
            ReceiverKind::Exclusive => (
                quote! { let mut object = resources.exclusive(&self.__object)?; },
                quote! { &mut *object },
            ),
            ReceiverKind::Consuming => (
                quote! { let object = resources.value(&self.__object)?; },
                quote! { object },
            ),
        };
    }
    match method.receiver {
        ReceiverKind::Shared => (
            quote! { let object = env.resource(&self.__object).await?; },
            quote! { &*object },
        ),
        ReceiverKind::Exclusive => (
            quote! { let mut object = env.resource_mut(&self.__object).await?; },
            quote! { &mut *object },
        ),
        ReceiverKind::Consuming => {
            let name = unraw(function.ident());
            (
                quote! { let object = env.take_resource(&self.__object, #name).await?; },
                quote! { object },
            )
        }
    }
}

/// For `eager` functions: the same dispatch as a future that can move to the worker.
fn eager_impl(function: &ScriptFn<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let Some(eager) = &function.eager else {
        return TokenStream::new();
    };
    let command = &names.command;
    // Spanned on `eager`: a function whose future is not `Send` is reported there.
    let private = respanned(private, eager.span());
    let boxed = quote_spanned! {eager.span()=>
        ::std::boxed::Box::pin(<Self as #private::ScriptCommand>::dispatch(self, env))
    };
    quote! {
        #[automatically_derived]
        impl #private::EagerCommand for #command {
            fn dispatch_send(
                self,
                env: #private::CallEnv,
            ) -> #private::SendCallFuture<Self::Output> {
                #boxed
            }
        }
    }
}

fn proxy_fn(function: &ScriptFn<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let Names {
        shown,
        command,
        proxy,
        ..
    } = names;
    // A method's object is the script's first argument: `c.add(2)` is `add(c, 2)`.
    let first = usize::from(function.method.is_some());
    let object = function
        .method
        .as_ref()
        .map(|_| quote! { __object: call.resource(0, "self")?, });
    let fields = function.script_params().enumerate().map(|(index, param)| {
        let name = param_ident(param);
        let text = param.name();
        let index = Literal::usize_unsuffixed(first + index);
        // Spanned on the parameter's type: a type that cannot cross to the worker is reported there.
        let span = param
            .borrowed()
            .map_or_else(|| param.ty.span(), Spanned::span);
        let conversion = match param.kind {
            ParamKind::Callback => quote_spanned! {span=> call.callback(#index, #text)? },
            ParamKind::Resource { .. } => quote_spanned! {span=> call.resource(#index, #text)? },
            _ => quote_spanned! {span=> call.argument(#index, #text)? },
        };
        quote! { #name: #conversion }
    });
    let (send, doc) = if function.eager.is_some() {
        (
            quote! { run_eager },
            format!(
                " Script side of [`{shown}`]: converts the arguments, polls the call once here \
                 (`eager`), and only if it is not finished sends it to the worker and waits."
            ),
        )
    } else {
        (
            quote! { send_and_wait },
            format!(
                " Script side of [`{shown}`]: converts the arguments, sends a `{command}` to the \
                 worker, waits for the reply."
            ),
        )
    };
    quote! {
        #[doc = #doc]
        fn #proxy(
            call: &mut #private::ScriptCall<'_>,
        ) -> #private::ProxyResult {
            let command = #command {
                #object
                #(#fields,)*
            };
            call.#send(command)
        }
    }
}

fn registration(function: &ScriptFn<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let Names {
        function: rust_fn,
        shown,
        proxy,
        script_name,
        ..
    } = names;
    let rust_name = match &function.method {
        None => unraw(rust_fn),
        Some(method) => format!("{}::{}", method.type_name, unraw(rust_fn)),
    };
    let params = function.script_params().map(|param| {
        let name = param.name();
        let rust_type = type_text(param.ty);
        let script_type = match param.kind {
            ParamKind::Resource { ty, .. } => type_name(ty),
            _ => script_type(param.ty).to_owned(),
        };
        quote! {
            #private::param(#name, #rust_type, #script_type)
        }
    });
    let (rust_returns, mut script_returns) = match &function.output {
        Output::Unit => ("()".to_owned(), "()".to_owned()),
        Output::Value(ty) | Output::Result { full: ty, .. } => {
            (type_text(ty), script_type(ty).to_owned())
        }
    };
    let mut options = TokenStream::new();
    if let Some(method) = &function.method {
        let self_ty = method.self_ty;
        let name = unraw(rust_fn);
        options.extend(quote! {
            .with_method(#name, #private::ResourceType::of::<#self_ty>())
        });
    }
    if let Some(resource) = function.output.resource() {
        script_returns = type_name(resource);
        options.extend(quote! {
            .with_resource_return(#private::ResourceType::of::<#resource>())
        });
    }
    let resource_params: Vec<TokenStream> = function
        .params
        .iter()
        .filter_map(|param| match param.kind {
            ParamKind::Resource { ty, .. } => Some(quote! { #private::ResourceType::of::<#ty>() }),
            _ => None,
        })
        .collect();
    if !resource_params.is_empty() {
        options.extend(quote! {
            .with_resource_params(&[#(#resource_params),*])
        });
    }
    if function.output.is_stream() {
        options.extend(quote! {
            .with_resource_return(#private::ResourceType::stream())
        });
    }
    let docs = function.docs();
    if !docs.is_empty() {
        options.extend(quote! { .with_docs(#docs) });
    }
    if let Some(group) = &function.group {
        options.extend(quote! { .with_group(#group) });
    }
    if let Some(millis) = &function.timeout_ms {
        let millis = Literal::u64_unsuffixed(millis.base10_parse().unwrap_or_default());
        options.extend(quote! { .with_timeout_ms(#millis) });
    }
    let states = required_types(function, private, |kind| match kind {
        ParamKind::State(inner) => Some(inner),
        _ => None,
    });
    if !states.is_empty() {
        options.extend(quote! { .with_states(&[#(#states),*]) });
    }
    let contexts = required_types(function, private, |kind| match kind {
        ParamKind::Context(inner) => Some(inner),
        _ => None,
    });
    if !contexts.is_empty() {
        options.extend(quote! { .with_contexts(&[#(#contexts),*]) });
    }
    let doc = format!(" How scripts find [`{shown}`]: submitted to the bridge's registry.");
    quote! {
        #[doc = #doc]
        const __REGISTRATION: #private::ScriptFunction =
            #private::ScriptFunction::new(
                #script_name,
                ::core::concat!(::core::module_path!(), "::", #rust_name),
                &[#(#params),*],
                #private::returns(#rust_returns, #script_returns),
                #proxy,
            )
            #options;
        #private::inventory::submit!(__REGISTRATION);
    }
}

/// The macro recognises `State`, `ScriptContext`, `ScriptCallback`, `Ref`, `Mut`, `Result`,
/// `Resource` and `ScriptStream` by name; the compiler checks the types it did not recognise (every script argument's, and the return type) are none of them
/// under another name. Type-checked, never run.
fn names_checked(function: &ScriptFn<'_>, names: &Names) -> TokenStream {
    // Spanned on the type: an alias of `State` is reported there.
    let check = |ty: &Type, question: &str| {
        let span = ty.span();
        let private = respanned(&names.private, span);
        let question = Ident::new(question, span);
        let ty = lifetimes_elided(ty);
        quote_spanned! {span=> #private::NameCheck::<#ty>::new().#question(); }
    };
    let mut checks: Vec<TokenStream> = function
        .script_params()
        .filter(|param| matches!(param.kind, ParamKind::Script))
        .map(|param| check(param.ty, "script_argument"))
        .collect();
    // A `Resource<T>` or `ScriptStream<T>` written by name is what it says; under another
    // name, the check refuses it.
    let recognised = function.output.resource().is_some() || function.output.is_stream();
    if let (Output::Value(ty), false) = (&function.output, recognised) {
        checks.push(check(ty, "return_value"));
    }
    let private = &names.private;
    if checks.is_empty() {
        return TokenStream::new();
    }
    quote! {
        /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
        const _: fn() = || {
            use #private::NotRecognisedByName as _;
            #(#checks)*
        };
    }
}

/// `ty` with its named lifetimes (`'a`, not `'static`) written `'_`: the check is a closure, where
/// the function's lifetime parameters are not in scope.
fn lifetimes_elided(ty: &Type) -> Type {
    struct Elide;
    impl VisitMut for Elide {
        fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
            if lifetime.ident != "static" {
                lifetime.ident = Ident::new("_", lifetime.ident.span());
            }
        }
    }
    let mut ty = ty.clone();
    Elide.visit_type_mut(&mut ty);
    ty
}

/// `RequiredType` records for the parameters `select` picks (`State<T>` or `ScriptContext<T>`).
fn required_types<'a>(
    function: &'a ScriptFn<'_>,
    private: &TokenStream,
    select: impl Fn(&ParamKind<'a>) -> Option<&'a Type>,
) -> Vec<TokenStream> {
    function
        .params
        .iter()
        .filter_map(|param| select(&param.kind))
        .map(|inner| {
            let name = type_text(inner);
            quote! {
                #private::required_type(#name, ::core::any::TypeId::of::<#inner>)
            }
        })
        .collect()
}

/// The parameter's name. [`crate::valid`] rejects unnamed parameters before expansion, so the
/// placeholder is never emitted; it only keeps this function total.
fn param_ident(param: &Param<'_>) -> Ident {
    param
        .ident()
        .cloned()
        .unwrap_or_else(|| Ident::new("_invalid", Span::call_site()))
}

/// The owned type a command field holds: the parameter's type, or for `&T` what `T` borrows from
/// (`&str` → `String`, `&[T]` → `Vec<T>`, `&T` → `T`).
fn field_type(param: &Param<'_>) -> TokenStream {
    let Some(borrowed) = param.borrowed() else {
        let ty = param.ty;
        return quote! { #ty };
    };
    match borrowed {
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            quote_spanned! {borrowed.span()=> ::std::string::String }
        }
        Type::Slice(slice) => {
            let elem = &slice.elem;
            quote_spanned! {borrowed.span()=> ::std::vec::Vec<#elem> }
        }
        other => quote! { #other },
    }
}

/// `tokens` with every span replaced by `span`, so errors inside them point at the user's code.
fn respanned(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// `fetch_user` → `FetchUser`.
pub(crate) fn upper_camel_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}
