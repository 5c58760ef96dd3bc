//! The attribute's own arguments:
//! `#[script_async(name = "...", group = "...", timeout_ms = N, eager)]`, each optional.

use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitInt, LitStr, Meta, Path, Token};

/// What the attribute said.
#[derive(Clone, Default)]
pub(crate) struct ScriptAsyncArgs {
    /// `name = "..."`: the name scripts call the function by.
    pub(crate) name: Option<LitStr>,
    /// `group = "..."`: the group `allow_group` exposes it with.
    pub(crate) group: Option<LitStr>,
    /// `timeout_ms = N`: the call's own time limit.
    pub(crate) timeout_ms: Option<LitInt>,
    /// `eager`: poll the call once on the engine thread before handing it over.
    pub(crate) eager: Option<Path>,
    /// `crate = "path"`: where `bridge_runtime` is, if renamed or re-exported.
    pub(crate) runtime_path: Option<Path>,
}

const USAGE: &str = "#[script_async] takes `name = \"script_name\"`, `group = \"group_name\"`, \
                     `timeout_ms = 2000`, `eager` and `crate = \"path::to::bridge_runtime\"`";

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
        let key = meta.path().get_ident().map(ToString::to_string);
        match key.as_deref() {
            Some("name") => set_once(&mut args.name, string_value(&meta), &meta, "name", errors),
            Some("group") => set_once(&mut args.group, string_value(&meta), &meta, "group", errors),
            Some("timeout_ms") => {
                let millis = int_value(&meta);
                if let Some(millis) = &millis {
                    if millis
                        .base10_parse::<u64>()
                        .map_or(true, |value| value == 0)
                    {
                        errors.at(
                            millis,
                            "`timeout_ms` is a whole number of milliseconds, above 0",
                        );
                    }
                }
                set_once(&mut args.timeout_ms, millis, &meta, "timeout_ms", errors);
            }
            Some("crate") => {
                let path = string_value(&meta).map(|text| (text.parse::<Path>(), text));
                match path {
                    Some((Ok(path), _)) if args.runtime_path.is_none() => {
                        args.runtime_path = Some(path)
                    }
                    Some((Ok(path), _)) => errors.at(path, "`crate` is given twice; keep one"),
                    Some((Err(_), text)) => errors.at(
                        text,
                        "write the path the runtime crate is reachable by: `crate = \"my_bridge\"`",
                    ),
                    None => errors.at(&meta, "write it as `crate = \"path::to::bridge_runtime\"`"),
                }
            }
            Some("eager") => match &meta {
                Meta::Path(path) if args.eager.is_some() => {
                    errors.at(path, "`eager` is given twice; keep one")
                }
                Meta::Path(path) => args.eager = Some(path.clone()),
                _ => errors.at(&meta, "write just `eager`, with no value"),
            },
            _ => {
                let shown = key.map_or_else(|| "this".to_owned(), |key| format!("`{key}`"));
                errors.at(meta.path(), format!("unknown argument {shown}; {USAGE}"));
            }
        }
    }
    args
}

/// Stores `value` in `slot`, or records why it cannot (missing, of the wrong kind, or repeated).
fn set_once<T: ToTokens>(
    slot: &mut Option<T>,
    value: Option<T>,
    meta: &Meta,
    key: &str,
    errors: &mut Errors,
) {
    match value {
        Some(value) if slot.is_some() => {
            errors.at(value, format!("`{key}` is given twice; keep one"))
        }
        Some(value) => *slot = Some(value),
        None => {
            let example = if key == "timeout_ms" {
                "2000"
            } else {
                "\"...\""
            };
            errors.at(meta, format!("write it as `{key} = {example}`"));
        }
    }
}

fn literal(meta: &Meta) -> Option<&Lit> {
    match meta {
        Meta::NameValue(pair) => match &pair.value {
            Expr::Lit(ExprLit { lit, .. }) => Some(lit),
            _ => None,
        },
        _ => None,
    }
}

fn string_value(meta: &Meta) -> Option<LitStr> {
    match literal(meta)? {
        Lit::Str(text) => Some(text.clone()),
        _ => None,
    }
}

fn int_value(meta: &Meta) -> Option<LitInt> {
    match literal(meta)? {
        Lit::Int(number) => Some(number.clone()),
        _ => None,
    }
}
