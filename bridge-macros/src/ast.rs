//! The macro's model of one function (and of a `#[script_async] mod` of them): syn's tree read
//! into what the expansion needs, with references to the user's own tokens so every error can
//! point at them.

use crate::attr::ScriptAsyncArgs;
use proc_macro2::Span;
use syn::{
    FnArg, GenericArgument, Ident, ItemFn, LitInt, LitStr, Pat, PathArguments, Receiver,
    ReturnType, Type,
};

/// One `#[script_async] mod`.
pub(crate) struct ScriptModule<'a> {
    pub(crate) item: &'a syn::ItemMod,
    /// Its `async fn`s, in order (a `fn` that is not `async` is left for `valid` to report).
    pub(crate) functions: Vec<ScriptFn<'a>>,
    /// The module's own arguments, for `valid` to refuse those that are given per function.
    pub(crate) args: ScriptAsyncArgs,
    /// Where the generated code finds the runtime.
    pub(crate) runtime_path: syn::Path,
}

/// Whether `attr` is `#[script_async]` (by any path).
pub(crate) fn is_script_async(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "script_async")
}

/// One `#[script_async] async fn`.
pub(crate) struct ScriptFn<'a> {
    /// The function as written; emitted unchanged.
    pub(crate) item: &'a ItemFn,
    /// The name scripts call it by.
    pub(crate) script_name: ScriptName,
    /// `group = "..."`.
    pub(crate) group: Option<LitStr>,
    /// `timeout_ms = N`.
    pub(crate) timeout_ms: Option<LitInt>,
    /// `eager`.
    pub(crate) eager: Option<syn::Path>,
    /// How generated code names the runtime crate: `::bridge_runtime` unless `crate = "..."`.
    pub(crate) runtime_path: syn::Path,
    /// A `self` receiver: an error for a free function, a method's object in a
    /// `#[script_async] impl`.
    pub(crate) receiver: Option<&'a Receiver>,
    /// Set for a method of a `#[script_async] impl`.
    pub(crate) method: Option<Method<'a>>,
    /// The other parameters, in order.
    pub(crate) params: Vec<Param<'a>>,
    /// What it returns.
    pub(crate) output: Output<'a>,
    /// Exported by a `#[script_async] mod` (so it cannot be renamed).
    pub(crate) in_module: bool,
}

/// What a method of a `#[script_async] impl` adds to its function.
pub(crate) struct Method<'a> {
    /// The type the block implements: the resource type.
    pub(crate) self_ty: &'a Type,
    /// The type's name for scripts: its last path segment (`Counter`).
    pub(crate) type_name: String,
    /// How the method takes its object.
    pub(crate) receiver: ReceiverKind,
}

/// How a method takes the resource it is called on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReceiverKind {
    /// `&self`: calls may overlap.
    Shared,
    /// `&mut self`: calls take turns, in the order made.
    Exclusive,
    /// `self`: the call consumes the resource.
    Consuming,
}

/// The script name and where it came from.
pub(crate) struct ScriptName {
    pub(crate) value: String,
    /// The `name = "..."` literal, or the function's identifier.
    pub(crate) span: Span,
    /// Given with `name = "..."` rather than taken from the function.
    pub(crate) explicit: bool,
}

/// One parameter.
pub(crate) struct Param<'a> {
    pub(crate) pat: &'a Pat,
    pub(crate) ty: &'a Type,
    pub(crate) kind: ParamKind<'a>,
}

/// Where a parameter's value comes from.
///
/// The macro sees tokens, not types: a parameter whose type is written `State<T>` or
/// `ScriptContext<T>` (any path ending so, with one type argument) takes that value from the
/// bridge or the script run; one written `ScriptCallback` (no type arguments) is a script
/// argument converted to a callback; one written `Ref<T>` or `Mut<T>` is a resource the script
/// passes, which the call locks; every other parameter is a script argument. Generated code has the
/// compiler check that no script argument is one of the two under another name
/// (`__bridge::NameCheck`, see `expand::names_checked`).
pub(crate) enum ParamKind<'a> {
    /// An argument the script passes.
    Script,
    /// `State<T>`: the bridge's shared state of type `T`.
    State(&'a Type),
    /// `ScriptContext<T>`: the script run's context of type `T`.
    Context(&'a Type),
    /// `ScriptCallback`: a script function the script passes (a closure or `Fn` pointer); it
    /// takes a script argument's place.
    Callback,
    /// `Ref<T>` / `Mut<T>`: a resource of type `T` the script passes, locked for the call
    /// (shared, or alone if `exclusive`); it takes a script argument's place.
    Resource { ty: &'a Type, exclusive: bool },
}

impl Param<'_> {
    /// The parameter's name, if its pattern is a plain name (`x` or `mut x`).
    pub(crate) fn ident(&self) -> Option<&Ident> {
        match self.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => Some(&pat.ident),
            _ => None,
        }
    }

    /// The name as scripts' error messages show it (without `r#`).
    pub(crate) fn name(&self) -> String {
        self.ident().map(unraw).unwrap_or_default()
    }

    /// A parameter taken by reference, `&T`, borrows from an owned field in the command.
    pub(crate) fn borrowed(&self) -> Option<&Type> {
        match self.ty {
            Type::Reference(reference) if reference.mutability.is_none() => Some(&reference.elem),
            _ => None,
        }
    }
}

/// The return type, as the expansion treats it.
pub(crate) enum Output<'a> {
    /// No return type: the script gets `()`.
    Unit,
    /// `-> T`: the script gets `T` converted.
    Value(&'a Type),
    /// `-> Result<T, E>` (recognised by the last path segment being `Result`): the script gets `T`,
    /// or an `Err` becomes a script error. `ok` is `None` if no `T` is written (`-> Result`). A
    /// `Result` under another name is read as a `Value`, which the compiler then refuses.
    Result {
        full: &'a Type,
        ok: Option<&'a Type>,
    },
}

impl<'a> ScriptFn<'a> {
    /// Reads `item`; shapes the bridge cannot support are kept for [`crate::valid`] to report.
    pub(crate) fn from_syn(item: &'a ItemFn, args: ScriptAsyncArgs) -> Self {
        let script_name = match args.name {
            Some(name) => ScriptName {
                value: name.value(),
                span: name.span(),
                explicit: true,
            },
            None => ScriptName {
                value: unraw(&item.sig.ident),
                span: item.sig.ident.span(),
                explicit: false,
            },
        };
        let mut receiver = None;
        let mut params = Vec::new();
        for input in &item.sig.inputs {
            match input {
                FnArg::Receiver(found) => receiver = Some(found),
                FnArg::Typed(typed) => params.push(Param {
                    pat: &typed.pat,
                    ty: &typed.ty,
                    kind: ParamKind::of(&typed.ty),
                }),
            }
        }
        Self {
            item,
            script_name,
            group: args.group,
            timeout_ms: args.timeout_ms,
            eager: args.eager,
            runtime_path: args
                .runtime_path
                .unwrap_or_else(|| syn::parse_quote!(::bridge_runtime)),
            receiver,
            method: None,
            params,
            output: Output::from_syn(&item.sig.output),
            in_module: false,
        }
    }

    /// The Rust function's name.
    pub(crate) fn ident(&self) -> &Ident {
        &self.item.sig.ident
    }

    /// The function's doc comment, one line per `///` line (block comments as written), without
    /// the markers; empty if it has none.
    pub(crate) fn docs(&self) -> String {
        let lines: Vec<String> = self
            .item
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("doc"))
            .filter_map(|attr| match &attr.meta {
                syn::Meta::NameValue(syn::MetaNameValue {
                    value:
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(text),
                            ..
                        }),
                    ..
                }) => Some(text.value()),
                _ => None,
            })
            .collect();
        lines.join("\n")
    }

    /// The parameters scripts pass, in order.
    pub(crate) fn script_params(&self) -> impl Iterator<Item = &Param<'a>> {
        self.params.iter().filter(|param| {
            matches!(
                param.kind,
                ParamKind::Script | ParamKind::Callback | ParamKind::Resource { .. }
            )
        })
    }

    /// Whether any parameter is a resource (`Ref<T>`, `Mut<T>`).
    pub(crate) fn takes_resources(&self) -> bool {
        self.params
            .iter()
            .any(|param| matches!(param.kind, ParamKind::Resource { .. }))
    }
}

impl<'a> ParamKind<'a> {
    fn of(ty: &'a Type) -> Self {
        let Type::Path(path) = ty else {
            return Self::Script;
        };
        let Some(last) = path.path.segments.last() else {
            return Self::Script;
        };
        let inner = match &last.arguments {
            PathArguments::AngleBracketed(angle) if angle.args.len() == 1 => {
                first_type_argument(&last.arguments)
            }
            _ => None,
        };
        match (last.ident.to_string().as_str(), inner) {
            ("ScriptCallback", None) if last.arguments.is_none() => Self::Callback,
            ("State", Some(inner)) => Self::State(inner),
            ("ScriptContext", Some(inner)) => Self::Context(inner),
            ("Ref", Some(ty)) => Self::Resource {
                ty,
                exclusive: false,
            },
            ("Mut", Some(ty)) => Self::Resource {
                ty,
                exclusive: true,
            },
            _ => Self::Script,
        }
    }
}

impl<'a> Output<'a> {
    /// `T` of a `Resource<T>` returned (as the value, or the `Ok` of a `Result`): recognised by
    /// name, as `State` is.
    pub(crate) fn resource(&self) -> Option<&'a Type> {
        self.wrapped_by("Resource")
    }

    /// Whether it returns a `ScriptStream<T>` (as the value, or the `Ok` of a `Result`):
    /// recognised by name, as `Resource` is.
    pub(crate) fn is_stream(&self) -> bool {
        self.wrapped_by("ScriptStream").is_some()
    }

    /// `T` of a `wrapper<T>` returned, as the value or the `Ok` of a `Result`.
    fn wrapped_by(&self, wrapper: &str) -> Option<&'a Type> {
        let ty = match self {
            Output::Unit => return None,
            Output::Value(ty) => *ty,
            Output::Result { ok, .. } => (*ok)?,
        };
        let Type::Path(path) = ty else {
            return None;
        };
        let last = path.path.segments.last()?;
        if last.ident != wrapper {
            return None;
        }
        first_type_argument(&last.arguments)
    }

    fn from_syn(output: &'a ReturnType) -> Self {
        let ty = match output {
            ReturnType::Default => return Self::Unit,
            ReturnType::Type(_, ty) => &**ty,
        };
        match ty {
            Type::Tuple(tuple) if tuple.elems.is_empty() => Self::Unit,
            Type::Path(path) if path.qself.is_none() => {
                let last = path.path.segments.last();
                match last {
                    Some(segment) if segment.ident == "Result" => Self::Result {
                        full: ty,
                        ok: first_type_argument(&segment.arguments),
                    },
                    _ => Self::Value(ty),
                }
            }
            _ => Self::Value(ty),
        }
    }
}

/// The first type among a path segment's generic arguments (`T` of `Result<T, E>`).
pub(crate) fn first_type_argument(arguments: &PathArguments) -> Option<&Type> {
    match arguments {
        PathArguments::AngleBracketed(angle) => angle.args.iter().find_map(|arg| match arg {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        }),
        _ => None,
    }
}

/// The text scripts know a named type by: its last path segment (`db::Tx` → `Tx`).
pub(crate) fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|last| unraw(&last.ident))
            .unwrap_or_default(),
        Type::Group(group) => type_name(&group.elem),
        Type::Paren(paren) => type_name(&paren.elem),
        _ => String::new(),
    }
}

/// An identifier's text without a leading `r#`.
pub(crate) fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
}
