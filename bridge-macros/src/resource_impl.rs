//! `#[script_async] impl T { ... }`: a resource type and its methods. `T` becomes a type
//! scripts can hold (as a `Resource<T>` a function returns), and each `async fn` of the block a
//! method scripts call on it (`x.method(...)`), run on the worker with the value itself.
//!
//! Read, checked and expanded in the same three steps as a single function: each method goes
//! through the single-function checks too (as a function named `Type.method`), so its errors read
//! the same, and expands as one function does, plus how its dispatch reaches its object.

use crate::ast::{type_name, Method, ReceiverKind, ScriptFn, ScriptName};
use crate::attr::ScriptAsyncArgs;
use crate::errors::Errors;
use crate::expand::{bridge_import, expand};
use crate::{attr, valid};
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::visit_mut::VisitMut;
use syn::{FnArg, ImplItem, ImplItemFn, ItemFn, ItemImpl, Receiver, Type};

/// The whole expansion of `#[script_async]` on `item`: the block unchanged, then what each
/// method adds; or the block unchanged with every mistake found.
pub(crate) fn expand_impl(attr: TokenStream, item: &ItemImpl) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = attr::parse(attr, &mut errors);
    check_args(&args, &mut errors);
    check_block(item, &mut errors);
    let type_name = type_name(&item.self_ty);
    let methods: Vec<(ItemFn, ReceiverKind)> = item
        .items
        .iter()
        .filter_map(|inner| method_of(inner, &type_name, &mut errors))
        .map(|(function, receiver)| (with_self_named(function, &item.self_ty), receiver))
        .collect();
    let method_args = ScriptAsyncArgs {
        name: None,
        eager: None,
        ..args.clone()
    };
    let models: Vec<ScriptFn<'_>> = methods
        .iter()
        .map(|(function, receiver)| {
            let mut model = ScriptFn::from_syn(function, method_args.clone());
            model.script_name = ScriptName {
                value: format!("{type_name}.{}", model.script_name.value),
                ..model.script_name
            };
            model.method = Some(Method {
                self_ty: &item.self_ty,
                type_name: type_name.clone(),
                receiver: *receiver,
            });
            model
        })
        .collect();
    for model in &models {
        valid::check(model, &mut errors);
    }
    if let Err(error) = errors.finish() {
        let mut tokens = item.to_token_stream();
        tokens.extend(error.to_compile_error());
        return Ok(tokens);
    }
    let mut tokens = item.to_token_stream();
    tokens.extend(resource_type(item, &type_name, &args));
    for model in &models {
        tokens.extend(expand(model));
    }
    Ok(tokens)
}

/// `name` and `eager` are per function; the block takes `group`, `timeout_ms` and `crate`,
/// which apply to every method.
fn check_args(args: &ScriptAsyncArgs, errors: &mut Errors) {
    if let Some(name) = &args.name {
        errors.at(
            name,
            "a method keeps its own name (scripts call `value.method()`): remove `name`, or \
             rename the method",
        );
    }
    if let Some(eager) = &args.eager {
        errors.at(
            eager,
            "a resource's methods run on the worker, where the value is: remove `eager`",
        );
    }
}

/// What the block itself may not be: a trait impl, generic, or for a type without a name.
fn check_block(item: &ItemImpl, errors: &mut Errors) {
    if let Some((_, trait_path, _)) = &item.trait_ {
        errors.at(
            trait_path,
            "#[script_async] goes on an inherent `impl T` block, not a trait impl: a script \
             method is the type's own `async fn`; move the methods into `impl T { ... }` (they \
             may call the trait's)",
        );
    }
    if !item.generics.params.is_empty() {
        errors.at(
            &item.generics,
            "a resource type cannot be generic: scripts know it by one name; put \
             #[script_async] on an `impl` of one concrete type (a type alias or newtype per type \
             you need)",
        );
    }
    let named = matches!(&*item.self_ty, Type::Path(path) if path.qself.is_none());
    if !named {
        errors.at(
            &item.self_ty,
            "#[script_async] goes on an `impl` of a named struct or enum, which scripts then \
             hold as a resource",
        );
    }
}

/// `inner` as a script method and how it takes its object, or the error that says why it cannot
/// be one.
fn method_of(
    inner: &ImplItem,
    type_name: &str,
    errors: &mut Errors,
) -> Option<(ItemFn, ReceiverKind)> {
    let ImplItem::Fn(function) = inner else {
        errors.at(
            inner,
            format!(
                "a #[script_async] impl holds only `async fn` methods: move this into another \
                 `impl {type_name}` block, without the attribute"
            ),
        );
        return None;
    };
    let name = &function.sig.ident;
    if function.sig.asyncness.is_none() {
        errors.at(
            function.sig.fn_token,
            format!(
                "`{name}` is not `async`: every method of a #[script_async] impl becomes a \
                 script method, which must be an `async fn`; make it `async`, or move it into \
                 another `impl {type_name}` block, without the attribute"
            ),
        );
        return None;
    }
    let Some(FnArg::Receiver(receiver)) = function.sig.inputs.first() else {
        errors.at(
            name,
            format!(
                "`{name}` takes no `self`: a script method is called on its resource \
                 (`value.{name}()`); write a free #[script_async] async fn instead (it may \
                 return `Resource<{type_name}>`)"
            ),
        );
        return None;
    };
    let Some(kind) = receiver_kind(receiver) else {
        errors.at(
            receiver,
            "a script method takes its resource as `&self`, `&mut self` or `self`: the value \
             lives in the bridge's table, not in a `Box`, `Rc` or `Pin` of yours",
        );
        return None;
    };
    Some((signature_only(function), kind))
}

/// How `receiver` takes the object, if it is one of the three forms a script method may take.
fn receiver_kind(receiver: &Receiver) -> Option<ReceiverKind> {
    if receiver.colon_token.is_none() {
        return Some(match (&receiver.reference, &receiver.mutability) {
            (Some(_), Some(_)) => ReceiverKind::Exclusive,
            (Some(_), None) => ReceiverKind::Shared,
            (None, _) => ReceiverKind::Consuming,
        });
    }
    // `self: Self`, `self: &Self`, `self: &mut Self` mean the same as the short forms.
    match &*receiver.ty {
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("Self") => {
            Some(ReceiverKind::Consuming)
        }
        Type::Reference(reference) => match &*reference.elem {
            Type::Path(path) if path.qself.is_none() && path.path.is_ident("Self") => {
                Some(if reference.mutability.is_some() {
                    ReceiverKind::Exclusive
                } else {
                    ReceiverKind::Shared
                })
            }
            _ => None,
        },
        _ => None,
    }
}

/// The method's attributes and signature as a free function's (the body is not needed: the
/// expansion calls the method, emitted unchanged in the block).
fn signature_only(function: &ImplItemFn) -> ItemFn {
    ItemFn {
        attrs: function.attrs.clone(),
        vis: function.vis.clone(),
        sig: function.sig.clone(),
        block: Box::new(syn::parse_quote!({})),
    }
}

/// `function` with `Self` in its signature written as `self_ty`: the generated code around it
/// is outside the block, where `Self` would mean something else.
fn with_self_named(mut function: ItemFn, self_ty: &Type) -> ItemFn {
    struct NameSelf<'a>(&'a Type);
    impl VisitMut for NameSelf<'_> {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::Path(path) = ty {
                if path.qself.is_none() && path.path.is_ident("Self") {
                    *ty = self.0.clone();
                    return;
                }
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
    NameSelf(self_ty).visit_signature_mut(&mut function.sig);
    function
}

/// Makes the block's type a resource scripts can hold, named `type_name`.
fn resource_type(item: &ItemImpl, type_name: &str, args: &ScriptAsyncArgs) -> TokenStream {
    let runtime = args
        .runtime_path
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::bridge_runtime));
    let import = bridge_import(&runtime);
    let self_ty = &item.self_ty;
    quote! {
        const _: () = {
            #import
            #[automatically_derived]
            impl __bridge::ScriptResource for #self_ty {
                const TYPE_NAME: &'static str = #type_name;
            }
        };
    }
}
