//! The script-side name of a Rust type (`i64` → `int`, a struct → `map`), spelled as Rhai spells
//! types in the signatures, metadata and `.d.rhai` files it generates (its short names, which
//! it leaves as they are, so every place shows the same text).
//!
//! The macro sees tokens, not types, so this goes by the last path segment: the standard types
//! scripts exchange are recognised by name, and any other named type is shown as `map`, which is
//! what a struct becomes (an enum of unit variants becomes a string: a rare case the name cannot
//! tell apart).

use crate::ast::first_type_argument;
use syn::{PathArguments, Type};

/// How a value of `ty` looks to a script.
pub(crate) fn script_type(ty: &Type) -> &'static str {
    match ty {
        Type::Reference(reference) => script_type(&reference.elem),
        Type::Paren(paren) => script_type(&paren.elem),
        Type::Group(group) => script_type(&group.elem),
        Type::Slice(_) | Type::Array(_) => "array",
        Type::Tuple(tuple) if tuple.elems.is_empty() => "()",
        Type::Tuple(_) => "array",
        Type::Path(path) if path.qself.is_none() => match path.path.segments.last() {
            Some(last) => named_type(&last.ident.to_string(), &last.arguments),
            None => "?",
        },
        _ => "?",
    }
}

fn named_type(name: &str, arguments: &PathArguments) -> &'static str {
    match name {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "INT" => "int",
        "f32" | "f64" | "FLOAT" => "float",
        "bool" => "bool",
        "ScriptCallback" => "Fn",
        "char" => "char",
        "String" | "str" | "ImmutableString" | "PathBuf" | "Path" => "string",
        "Vec" | "VecDeque" | "LinkedList" | "HashSet" | "BTreeSet" | "BinaryHeap" | "Array" => {
            "array"
        }
        "HashMap" | "BTreeMap" | "Map" => "map",
        "ScriptStream" => "Stream",
        "Bytes" | "BytesMut" | "ByteBuf" | "ByteArray" | "Blob" => "blob",
        // `None` is `()`, so an optional value may be either: Rhai's spelling for "any type".
        "Option" | "Value" | "Dynamic" => "?",
        // Smart pointers and `Cow` serialize as what they hold; `Result` returns its `Ok` value.
        "Box" | "Arc" | "Rc" | "Cow" | "Result" => {
            first_type_argument(arguments).map_or("?", script_type)
        }
        _ => "map",
    }
}

#[cfg(test)]
mod tests {
    use super::script_type;

    fn of(source: &str) -> &'static str {
        script_type(&syn::parse_str(source).unwrap())
    }

    #[test]
    fn standard_types_read_as_rhai_spells_them() {
        assert_eq!(of("i64"), "int");
        assert_eq!(of("u8"), "int");
        assert_eq!(of("f32"), "float");
        assert_eq!(of("&str"), "string");
        assert_eq!(of("std::string::String"), "string");
        assert_eq!(of("Vec<User>"), "array");
        assert_eq!(of("&[i64]"), "array");
        assert_eq!(of("(i64, bool)"), "array");
        assert_eq!(of("HashMap<String, i64>"), "map");
        assert_eq!(of("bytes::Bytes"), "blob");
        assert_eq!(of("rhai::Array"), "array");
        assert_eq!(of("rhai::Map"), "map");
        assert_eq!(of("Option<i64>"), "?");
        assert_eq!(of("serde_json::Value"), "?");
        assert_eq!(of("()"), "()");
    }

    #[test]
    fn wrappers_show_what_they_hold_and_other_types_are_maps() {
        assert_eq!(of("Box<str>"), "string");
        assert_eq!(of("Arc<Vec<u8>>"), "array");
        assert_eq!(of("Result<User, String>"), "map");
        assert_eq!(of("Result<i64, MyError>"), "int");
        assert_eq!(of("User"), "map");
        assert_eq!(of("crate::users::User"), "map");
    }
}
