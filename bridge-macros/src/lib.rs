//! The `#[script_async]` attribute. Use it through `bridge-runtime`, which re-exports it together
//! with everything the generated code needs.
//!
//! The macro runs in three stages, one module each: `ast` reads the function into our own model
//! (keeping the user's tokens for error spans), `valid` checks the model and collects every
//! problem, and `expand` writes the output.

#![deny(missing_docs)]

mod ast;
mod attr;
mod errors;
mod expand;
mod reserved;
mod script_type;
mod type_text;
mod valid;

#[cfg(test)]
mod golden_tests;

use proc_macro2::TokenStream as TokenStream2;
use quote::ToTokens;

/// Lets Rhai scripts call an `async fn`: see `bridge_runtime::script_async`.
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
    let function: syn::ItemFn = syn::parse2(item).map_err(|error| {
        syn::Error::new(
            error.span(),
            "#[script_async] goes on an `async fn` (a free function, not a method, struct or module)",
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
}
