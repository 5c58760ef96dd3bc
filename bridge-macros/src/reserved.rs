//! Which names a Rhai script can call a function by.
//!
//! Taken from rhai 1.27's tokenizer: its keywords, the words it reserves for future use, and the
//! names it handles itself (`print`, `Fn`, `call`, ...). A function registered under one of these
//! could never be called, so the macro rejects it at compile time.

const RHAI_KEYWORDS_AND_RESERVED: &[&str] = &[
    "Fn",
    "as",
    "async",
    "await",
    "break",
    "call",
    "case",
    "catch",
    "const",
    "continue",
    "curry",
    "debug",
    "default",
    "do",
    "else",
    "eval",
    "export",
    "false",
    "fn",
    "for",
    "global",
    "go",
    "goto",
    "if",
    "import",
    "in",
    "is",
    "is_def_fn",
    "is_def_var",
    "is_shared",
    "let",
    "loop",
    "match",
    "module",
    "new",
    "nil",
    "null",
    "package",
    "print",
    "private",
    "protected",
    "public",
    "return",
    "shared",
    "spawn",
    "static",
    "super",
    "switch",
    "sync",
    "this",
    "thread",
    "throw",
    "true",
    "try",
    "type_of",
    "until",
    "use",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// The bridge's own script functions, for calls in flight (`start(Fn("f"), [..])`, `wait(h)`).
const BRIDGE_FUNCTIONS: &[&str] = &["start", "wait", "wait_all", "wait_any"];

/// Why `name` cannot be called from a script, or `None` if it can.
pub(crate) fn script_name_problem(name: &str) -> Option<String> {
    if BRIDGE_FUNCTIONS.contains(&name) {
        return Some(format!(
            "`{name}` is one of the bridge's own script functions (start, wait, wait_all, \
             wait_any), so a script call could reach the wrong one"
        ));
    }
    if RHAI_KEYWORDS_AND_RESERVED.contains(&name) {
        return Some(format!(
            "`{name}` is a Rhai keyword or reserved word, so scripts could never call it"
        ));
    }
    if !is_rhai_identifier(name) {
        return Some(format!(
            "`{name}` is not a Rhai identifier (ASCII letters, digits and `_`, with a letter \
             before any digit), so scripts could never call it"
        ));
    }
    None
}

/// Rhai's identifier rule (without its optional `unicode-xid-ident` feature).
fn is_rhai_identifier(name: &str) -> bool {
    let mut seen_letter = false;
    for ch in name.chars() {
        match ch {
            '_' => {}
            _ if ch.is_ascii_alphabetic() => seen_letter = true,
            _ if ch.is_ascii_digit() && seen_letter => {}
            _ => return false,
        }
    }
    seen_letter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_are_fine() {
        for name in ["fetch_user", "_private", "get2", "Add"] {
            assert_eq!(script_name_problem(name), None, "{name}");
        }
    }

    #[test]
    fn keywords_reserved_words_and_odd_shapes_are_not() {
        for name in [
            "let",
            "spawn",
            "await",
            "print",
            "",
            "_",
            "2fast",
            "_1",
            "with-dash",
            "naïve",
        ] {
            assert!(script_name_problem(name).is_some(), "{name}");
        }
    }
}
