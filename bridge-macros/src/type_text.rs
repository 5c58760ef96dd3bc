//! A type as readable text (`Vec<i64>`, not `Vec < i64 >`), for the registry's documentation.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;

/// `tokens` as compact Rust text: a space only between two words and after `,` and `;`.
pub(crate) fn type_text(tokens: &impl ToTokens) -> String {
    let mut text = String::new();
    write_tokens(tokens.to_token_stream(), &mut text);
    text
}

fn write_tokens(tokens: TokenStream, text: &mut String) {
    let mut previous_was_word = false;
    for token in tokens {
        match token {
            TokenTree::Ident(_) | TokenTree::Literal(_) => {
                if previous_was_word {
                    text.push(' ');
                }
                text.push_str(&token.to_string());
                previous_was_word = true;
            }
            TokenTree::Punct(punct) => {
                text.push(punct.as_char());
                if matches!(punct.as_char(), ',' | ';') {
                    text.push(' ');
                }
                // `'a str`: the lifetime's name is a word that the next word must not touch.
                previous_was_word = false;
            }
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                text.push_str(open);
                write_tokens(group.stream(), text);
                text.push_str(close);
                previous_was_word = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(source: &str) -> String {
        type_text(&syn::parse_str::<syn::Type>(source).unwrap())
    }

    #[test]
    fn types_read_as_written() {
        assert_eq!(text_of("Vec < i64 >"), "Vec<i64>");
        assert_eq!(
            text_of("HashMap<String, (u8, bool)>"),
            "HashMap<String, (u8, bool)>"
        );
        assert_eq!(text_of("&'a str"), "&'a str");
        assert_eq!(text_of("[u8 ; 4]"), "[u8; 4]");
        assert_eq!(
            text_of("std::result::Result<(), String>"),
            "std::result::Result<(), String>"
        );
    }
}
