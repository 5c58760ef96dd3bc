//! The attribute's own arguments: `#[script_async]` or `#[script_async(name = "script_name")]`.

use crate::errors::Errors;
use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Token};

/// What the attribute said.
#[derive(Default)]
pub(crate) struct ScriptAsyncArgs {
    /// `name = "..."`: the name scripts call the function by.
    pub(crate) name: Option<LitStr>,
}

const USAGE: &str = "#[script_async] takes `name = \"script_name\"`";

/// Reads the arguments, recording every problem in `errors` and keeping what was understood.
pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> ScriptAsyncArgs {
    let mut args = ScriptAsyncArgs::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(metas) => metas,
        Err(error) => {
            errors.push(syn::Error::new(error.span(), format!("{error}; {USAGE}")));
            return args;
        }
    };
    for meta in metas {
        if meta.path().is_ident("name") {
            match string_value(&meta) {
                Some(name) if args.name.is_some() => {
                    errors.at(name, "`name` is given twice; keep one")
                }
                Some(name) => args.name = Some(name),
                None => errors.at(
                    &meta,
                    "write the script name as a string: `name = \"script_name\"`",
                ),
            }
        } else {
            let path = meta.path();
            let shown = path
                .get_ident()
                .map_or_else(|| "this".to_owned(), |i| format!("`{i}`"));
            errors.at(path, format!("unknown argument {shown}; {USAGE}"));
        }
    }
    args
}

fn string_value(meta: &Meta) -> Option<LitStr> {
    match meta {
        Meta::NameValue(pair) => match &pair.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(name),
                ..
            }) => Some(name.clone()),
            _ => None,
        },
        _ => None,
    }
}
