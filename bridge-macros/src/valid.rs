//! Checks the model: every shape the bridge cannot support is reported, each with one message on
//! the offending tokens that says what to write instead.

use crate::ast::{is_script_async, Output, Param, ParamKind, ScriptFn, ScriptModule};
use crate::errors::Errors;
use crate::reserved::script_name_problem;
use syn::visit::Visit;
use syn::{GenericParam, Item, Type, TypeImplTrait};

/// Rhai resolves at most this many wildcard (`Dynamic`) parameters.
pub(crate) const MAX_PARAMS: usize = 16;

/// Records every problem with `function` in `errors`.
pub(crate) fn check(function: &ScriptFn<'_>, errors: &mut Errors) {
    check_signature(function, errors);
    check_generics(function, errors);
    check_params(function, errors);
    check_output(function, errors);
    check_script_name(function, errors);
    check_group(function, errors);
}

/// Records every problem with `module`: its own arguments and shape, then each of its functions
/// through the single-function checks, so their errors read the same.
pub(crate) fn check_module(module: &ScriptModule<'_>, errors: &mut Errors) {
    check_module_args(module, errors);
    check_module_items(module, errors);
    for function in &module.functions {
        check(function, errors);
    }
}

fn check_module_args(module: &ScriptModule<'_>, errors: &mut Errors) {
    if let Some(name) = &module.args.name {
        errors.at(
            name,
            "`name` renames one function; in a module each function keeps its own name (put the \
             function outside the module to rename it)",
        );
    }
    if let Some(eager) = &module.args.eager {
        errors.at(
            eager,
            "`eager` is given per function: put the function outside the module with \
             #[script_async(eager)]",
        );
    }
}

fn check_module_items(module: &ScriptModule<'_>, errors: &mut Errors) {
    let item = module.item;
    let Some((_, items)) = &item.content else {
        errors.at(
            item,
            "write the module's functions inline, `#[script_async] mod api { async fn ... }`: \
             the attribute cannot read a module kept in another file",
        );
        return;
    };
    for inner in items {
        match inner {
            Item::Fn(function) => {
                if let Some(attr) = function.attrs.iter().find(|attr| is_script_async(attr)) {
                    errors.at(
                        attr,
                        "the module's #[script_async] already exports this function: remove this \
                         one (or move the function out of the module)",
                    );
                }
                if function.sig.asyncness.is_none() {
                    errors.at(
                        function.sig.fn_token,
                        format!(
                            "every `fn` in a #[script_async] module is exported to scripts, so it \
                             must be `async`: move the helper `{}` out of the module",
                            function.sig.ident
                        ),
                    );
                }
            }
            Item::Mod(inner) => errors.at(
                &inner.ident,
                "a #[script_async] module cannot hold modules: move this one out, or give it its \
                 own #[script_async] outside",
            ),
            _ => {}
        }
    }
    if !items.iter().any(|inner| matches!(inner, Item::Fn(_))) {
        errors.at(
            &item.ident,
            "a #[script_async] module needs at least one `async fn` to export",
        );
    }
}

fn check_group(function: &ScriptFn<'_>, errors: &mut Errors) {
    if let Some(group) = &function.group {
        if group.value().trim().is_empty() {
            errors.at(
                group,
                "a group name cannot be empty: write `group = \"fs\"` or leave it out",
            );
        }
    }
}

fn check_signature(function: &ScriptFn<'_>, errors: &mut Errors) {
    let sig = &function.item.sig;
    if let Some(constness) = &sig.constness {
        errors.at(
            constness,
            "a script function cannot be `const`: remove `const` (#[script_async] needs an `async fn`)",
        );
    }
    if sig.asyncness.is_none() {
        errors.at(
            sig.fn_token,
            "#[script_async] needs an `async fn`: write `async fn`, or register a synchronous \
             function on a Rhai engine directly",
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.at(
            unsafety,
            "a script cannot uphold an `unsafe fn`'s contract: remove `unsafe`, or call it from a \
             safe `async fn` that does",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.at(
            abi,
            "script functions use the Rust ABI: remove the `extern` qualifier",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.at(
            variadic,
            "a script cannot call a variadic function: take a `Vec<T>` parameter instead",
        );
    }
    if let (Some(receiver), None) = (function.receiver, &function.method) {
        errors.at(
            receiver,
            "#[script_async] needs a free function, not a method: write a free `async fn` that \
             takes what `self` holds as a parameter",
        );
    }
}

fn check_generics(function: &ScriptFn<'_>, errors: &mut Errors) {
    let generics = &function.item.sig.generics;
    for param in &generics.params {
        let what = match param {
            GenericParam::Lifetime(_) => continue,
            GenericParam::Type(_) => "type",
            GenericParam::Const(_) => "const",
        };
        errors.at(
            param,
            format!(
                "a script function cannot have generic {what} parameters: a script argument must \
                 convert to one concrete type; write the concrete type (one #[script_async] \
                 function per type you need)"
            ),
        );
    }
    if let Some(where_clause) = &generics.where_clause {
        if !where_clause.predicates.is_empty() {
            errors.at(
                where_clause,
                "a script function cannot have a `where` clause: write concrete types instead",
            );
        }
    }
}

fn check_params(function: &ScriptFn<'_>, errors: &mut Errors) {
    for (index, param) in function.script_params().enumerate() {
        if index == MAX_PARAMS {
            errors.at(
                param.pat,
                format!(
                    "a script function takes at most {MAX_PARAMS} parameters (Rhai resolves at \
                     most {MAX_PARAMS} dynamically typed ones): group some into a struct"
                ),
            );
        }
    }
    for param in &function.params {
        if param.ident().is_none() {
            errors.at(
                param.pat,
                "name this parameter (`point: Point`) and destructure it in the body: a script \
                 argument needs a name for error messages and for its command field",
            );
        }
        if let ParamKind::Resource { .. } = param.kind {
            check_resource_param(function, param, errors);
        }
        if let Type::Reference(reference) = param.ty {
            if let Some(wrapper) = resource_wrapper(&reference.elem) {
                errors.at(
                    param.ty,
                    format!(
                        "take a resource by value, `{wrapper}<T>` (it holds the resource's lock \
                         for the call): a borrowed one would have to outlive the call that \
                         holds it"
                    ),
                );
            } else if is_script_callback(&reference.elem) {
                errors.at(
                    param.ty,
                    "take a callback by value, `ScriptCallback` (it is a cheap handle to clone): \
                     a borrowed one would have to outlive the call that holds it",
                );
            } else if reference.mutability.is_some() {
                errors.at(
                    param.ty,
                    "a script function cannot take `&mut`: the script's value is converted into a \
                     new Rust value, so changes could never reach the script; take the value and \
                     return the changed one",
                );
            }
        }
        if let Some(impl_trait) = find_impl_trait(param.ty) {
            errors.at(
                impl_trait,
                "a script function cannot take `impl Trait`: a script argument must convert to \
                 one concrete type; write that type",
            );
        }
    }
}

/// Where a resource parameter (`Ref<T>`, `Mut<T>`) cannot be: in an `eager` function (it runs
/// its first poll on the script's thread, and resources stay on the worker) or in a
/// `#[script_async] mod` (whose commands are data others may send).
fn check_resource_param(function: &ScriptFn<'_>, param: &Param<'_>, errors: &mut Errors) {
    if function.eager.is_some() {
        errors.at(
            param.ty,
            "a function taking a resource runs on the worker, where the resource is: remove \
             `eager`",
        );
    }
    if function.in_module {
        errors.at(
            param.ty,
            "a #[script_async] mod's functions are also commands sent as data, and a resource \
             has no data form: move this function out of the module (as its own \
             #[script_async] fn)",
        );
    }
}

/// `Ref` or `Mut` if `ty` is written as one of them (a path ending so, with a type argument).
fn resource_wrapper(ty: &Type) -> Option<&'static str> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if matches!(last.arguments, syn::PathArguments::None) {
        return None;
    }
    if last.ident == "Ref" {
        Some("Ref")
    } else if last.ident == "Mut" {
        Some("Mut")
    } else {
        None
    }
}

/// Whether `ty` is written as `ScriptCallback` (a path ending so).
fn is_script_callback(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.path.segments.last().is_some_and(|last| last.ident == "ScriptCallback"))
}

fn check_output(function: &ScriptFn<'_>, errors: &mut Errors) {
    let ty = match &function.output {
        Output::Unit => return,
        Output::Value(ty) => ty,
        Output::Result { full, ok: None } => {
            errors.at(
                full,
                "write the success type of the `Result` (`Result<T, E>`): the bridge converts `T` \
                 for the script and turns `Err(e)` into a script error",
            );
            full
        }
        Output::Result { full, .. } => full,
    };
    if let Some(impl_trait) = find_impl_trait(ty) {
        errors.at(
            impl_trait,
            "a script function cannot return `impl Trait`: write the concrete type, which must \
             implement `Serialize`",
        );
    }
}

fn check_script_name(function: &ScriptFn<'_>, errors: &mut Errors) {
    let name = &function.script_name;
    // A method's name is `Type.method`; scripts write only the method's part.
    let called = match &function.method {
        Some(method) => name
            .value
            .strip_prefix(&format!("{}.", method.type_name))
            .unwrap_or(&name.value),
        None => &name.value,
    };
    if let Some(problem) = script_name_problem(called) {
        let fix = if name.explicit {
            "choose another name"
        } else if function.in_module {
            "rename the function, or move it out of the module and give it another script name \
             with #[script_async(name = \"...\")]"
        } else {
            "give it another script name with #[script_async(name = \"...\")]"
        };
        errors.push(syn::Error::new(name.span, format!("{problem}: {fix}")));
    }
}

/// The first `impl Trait` anywhere inside `ty` (`Vec<impl Display>` counts too).
fn find_impl_trait(ty: &Type) -> Option<&TypeImplTrait> {
    struct Finder<'ast>(Option<&'ast TypeImplTrait>);
    impl<'ast> Visit<'ast> for Finder<'ast> {
        fn visit_type_impl_trait(&mut self, found: &'ast TypeImplTrait) {
            self.0.get_or_insert(found);
        }
    }
    let mut finder = Finder(None);
    finder.visit_type(ty);
    finder.0
}
