//! `#[script_async] mod api { ... }`: every `async fn` of an inline module exported as one group
//! named after the module, with the module's closed command enum (a variant per function, serde
//! data) and its one worker-side dispatch `match`.
//!
//! Read, checked and expanded in the same three steps as a single function; each function goes
//! through the single-function checks too, so its errors read the same.

use crate::ast::{is_script_async, ScriptFn, ScriptModule};
use crate::attr::ScriptAsyncArgs;
use crate::errors::Errors;
use crate::expand::{
    bridge_import, debug_as_json, expand_in_module, module_command_name, private_serde_path,
    upper_camel_case,
};
use crate::{ast, valid};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{AttrStyle, Item, ItemMod, LitStr};

/// Reads `item` and checks it, recording in `errors` what a script module may not be or contain.
pub(crate) fn read<'a>(
    item: &'a ItemMod,
    args: ScriptAsyncArgs,
    errors: &mut Errors,
) -> ScriptModule<'a> {
    let group = args
        .group
        .clone()
        .unwrap_or_else(|| LitStr::new(&ast::unraw(&item.ident), item.ident.span()));
    let function_args = ScriptAsyncArgs {
        name: None,
        eager: None,
        group: Some(group),
        ..args.clone()
    };
    let items = item
        .content
        .as_ref()
        .map_or(&[][..], |(_, items)| &items[..]);
    let functions = items
        .iter()
        .filter_map(|inner| match inner {
            Item::Fn(function) if function.sig.asyncness.is_some() => {
                let mut function = ScriptFn::from_syn(function, function_args.clone());
                function.in_module = true;
                Some(function)
            }
            _ => None,
        })
        .collect();
    let module = ScriptModule {
        item,
        functions,
        runtime_path: args
            .runtime_path
            .clone()
            .unwrap_or_else(|| syn::parse_quote!(::bridge_runtime)),
        args,
    };
    valid::check_module(&module, errors);
    module
}

/// `item` with any `#[script_async]` on its functions removed.
pub(crate) fn without_inner_attributes(item: &ItemMod) -> ItemMod {
    let mut item = item.clone();
    if let Some((_, items)) = &mut item.content {
        for inner in items {
            if let Item::Fn(function) = inner {
                function.attrs.retain(|attr| !is_script_async(attr));
            }
        }
    }
    item
}

/// The module with its functions unchanged, and after them each function's command, proxy and
/// registration, the command enum and its dispatch.
pub(crate) fn expand(module: &ScriptModule<'_>) -> TokenStream {
    let ItemMod {
        attrs,
        vis,
        unsafety,
        ident,
        content,
        ..
    } = module.item;
    let (outer, inner): (Vec<_>, Vec<_>) = attrs
        .iter()
        .partition(|attr| matches!(attr.style, AttrStyle::Outer));
    let items = content.as_ref().map(|(_, items)| &items[..]).unwrap_or(&[]);
    let functions = module.functions.iter().map(expand_in_module);
    let command_enum = command_enum(module);
    quote! {
        #(#outer)*
        #vis #unsafety mod #ident {
            #(#inner)*
            #(#items)*
            #(#functions)*
            #command_enum
        }
    }
}

/// `enum ApiCommand { GetUser(GetUserCommand), ... }` and its `ScriptCommand` impl, whose
/// dispatch is one `match` with an arm per function.
fn command_enum(module: &ScriptModule<'_>) -> TokenStream {
    let runtime = &module.runtime_path;
    let private = quote! { #runtime::__private };
    let serde_path = private_serde_path(&private);
    let module_name = ast::unraw(&module.item.ident);
    let enum_name = format_ident!(
        "{}Command",
        upper_camel_case(&module_name),
        span = module.item.ident.span()
    );
    let group = module
        .functions
        .first()
        .and_then(|function| function.group.as_ref())
        .map_or_else(|| module_name.clone(), LitStr::value);
    let arms: Vec<_> = module
        .functions
        .iter()
        .map(|function| {
            let variant = format_ident!(
                "{}",
                upper_camel_case(&ast::unraw(function.ident())),
                span = function.ident().span()
            );
            (
                variant,
                module_command_name(function),
                function.script_name.value.clone(),
            )
        })
        .collect();
    let variants = arms.iter().map(|(variant, command, script_name)| {
        let doc = format!(" A call of `{script_name}`.");
        quote! {
            #[doc = #doc]
            #[serde(rename = #script_name)]
            #variant(#command)
        }
    });
    let names = arms.iter().map(|(variant, _, script_name)| {
        quote! { Self::#variant(_) => #script_name }
    });
    let dispatches = arms.iter().map(|(variant, command, _)| {
        quote! {
            Self::#variant(command) => __bridge::output_json(
                <#command as __bridge::ScriptCommand>::dispatch(command, env).await,
            )
        }
    });
    let doc = format!(
        " One call of any function of `{module_name}`, as serde data: \
         `{{\"function\": \"name\", \"arguments\": {{...}}}}`. Run one with `Bridge::dispatch`."
    );
    let import = bridge_import(runtime);
    let debug = debug_as_json(&enum_name, &quote! { __bridge });
    quote! {
        #[doc = #doc]
        #[derive(#private::serde::Serialize, #private::serde::Deserialize)]
        #[serde(crate = #serde_path, tag = "function", content = "arguments")]
        pub enum #enum_name {
            #(#variants,)*
        }
        const _: () = {
            #import
            #debug
            #[automatically_derived]
            impl __bridge::CommandSeal for #enum_name {}
            #[automatically_derived]
            impl __bridge::ScriptCommand for #enum_name {
                const SCRIPT_NAME: &'static str = #group;
                type Output = __bridge::JsonValue;
                fn script_name(&self) -> &'static str {
                    match self {
                        #(#names,)*
                    }
                }
                /// Worker side: one arm per function, each awaiting it with the command's arguments.
                async fn dispatch(
                    self,
                    env: __bridge::CallEnv,
                ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
                    match self {
                        #(#dispatches,)*
                    }
                }
            }
        };
    }
}
