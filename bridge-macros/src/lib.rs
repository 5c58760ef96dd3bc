//! The `#[script_async]` attribute. Use it through `bridge-runtime`, which re-exports it together
//! with everything the generated code needs.
//!
//! The macro runs in three stages, one module each: `ast` reads the function into our own model
//! (keeping the user's tokens for error spans), `valid` checks the model and collects every
//! problem, and `expand` writes the output. `module` does the same for an inline `mod` of
//! functions, through the same three, and `resource_impl` for an `impl` block of a resource
//! type's methods.

#![deny(missing_docs)]

mod ast;
mod attr;
mod errors;
mod expand;
mod module;
mod reserved;
mod resource_impl;
mod script_type;
mod type_text;
mod valid;

#[cfg(test)]
mod golden_tests;

use proc_macro2::TokenStream as TokenStream2;
use quote::ToTokens;

/// Lets Rhai scripts call an `async fn`: see `bridge_runtime::script_async`.
///
/// # Types recognised by name
///
/// A macro sees tokens, not types, so three types are recognised by how they are written:
///
/// - a parameter `State<T>` or `ScriptContext<T>` (any path ending so: `bridge_runtime::State<T>`)
///   is passed in by the bridge, not by the script;
/// - a return type `Result<T, E>` (any path ending in `Result`, so `io::Result<T>`, `anyhow::Result<T>`
///   and a crate's own `type Result<T> = ...` work) gives the script `T`, and an `Err` becomes a
///   script error.
///
/// Under another name (`use bridge_runtime::State as S`, `type Outcome<T> = Result<T, E>`) they
/// would silently become a script argument or a map returned to the script, so the compiler checks
/// every other parameter's type and the return type, and refuses these on the type with a message
/// saying to write the name.
#[proc_macro_attribute]
pub fn script_async(
    attr: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    script_async_tokens(attr.into(), item.into()).into()
}

/// The whole macro as an ordinary function, so unit tests can call it.
///
/// On any error it returns the original item unchanged plus the errors, so IDE completion and
/// go-to-definition keep working while the errors are shown.
pub(crate) fn script_async_tokens(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    match expand_item(attr, item.clone()) {
        Ok(tokens) => tokens,
        Err(error) => {
            let mut tokens = item;
            tokens.extend(error.to_compile_error());
            tokens
        }
    }
}

fn expand_item(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    if let Ok(module) = syn::parse2::<syn::ItemMod>(item.clone()) {
        return expand_module(attr, &module);
    }
    if let Ok(block) = syn::parse2::<syn::ItemImpl>(item.clone()) {
        return resource_impl::expand_impl(attr, &block);
    }
    let function: syn::ItemFn = syn::parse2(item).map_err(|error| {
        syn::Error::new(
            error.span(),
            "#[script_async] goes on an `async fn` (a free function), on an inline `mod` of \
             them, or on an `impl T` block whose `async fn` methods scripts call on a `T` they \
             hold",
        )
    })?;
    let mut errors = errors::Errors::default();
    let args = attr::parse(attr, &mut errors);
    let model = ast::ScriptFn::from_syn(&function, args);
    valid::check(&model, &mut errors);
    errors.finish()?;
    let mut tokens = function.to_token_stream();
    tokens.extend(expand::expand(&model));
    Ok(tokens)
}

fn expand_module(attr: TokenStream2, module: &syn::ItemMod) -> syn::Result<TokenStream2> {
    let mut errors = errors::Errors::default();
    let args = attr::parse(attr, &mut errors);
    let model = module::read(module, args, &mut errors);
    match errors.finish() {
        Ok(()) => Ok(module::expand(&model)),
        // The module as written, less the inner `#[script_async]`s already reported (they would
        // add "cannot find attribute" errors of their own).
        Err(error) => {
            let mut tokens = module::without_inner_attributes(module).to_token_stream();
            tokens.extend(error.to_compile_error());
            Ok(tokens)
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn on_error_the_original_function_is_still_emitted() {
        let item = quote! { fn not_async(x: i64) -> i64 { x } };
        let output = super::script_async_tokens(quote! { name = "let" }, item.clone()).to_string();
        assert!(output.starts_with(&item.to_string()), "{output}");
        assert!(output.contains("compile_error"), "{output}");
        // Both mistakes are reported at once.
        assert_eq!(output.matches("compile_error").count(), 2, "{output}");
    }

    #[test]
    fn on_error_a_module_is_still_emitted_with_every_mistake() {
        let item = quote! {
            mod api {
                async fn ok(x: i64) -> i64 { x }
                fn helper() {}
                async fn wait() {}
            }
        };
        let output = super::script_async_tokens(quote! {}, item).to_string();
        assert!(output.starts_with("mod api {"), "{output}");
        assert!(output.contains("fn helper"), "{output}");
        assert_eq!(output.matches("compile_error").count(), 2, "{output}");
    }
}
