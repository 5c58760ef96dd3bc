//! placeholder
use proc_macro::TokenStream;
#[proc_macro_attribute]
pub fn script_async(_attr: TokenStream, item: TokenStream) -> TokenStream { item }
