//! Script value → Rust value, directly: a serde `Deserializer` over `Dynamic`.
//!
//! It reads the script value itself and behaves exactly as serde_json's `Value` deserializer does
//! on the value's JSON form: every type accepts what it would there (integers as floats, objects
//! as structs, one-entry maps as enums), range and type errors read the same (serde_json's
//! `Error` is the error type), and a value with no JSON form anywhere inside it (a function
//! pointer, a NaN, nesting deeper than the limit) is refused first, with its place.

use super::rules::{ConversionError, MAX_VALUE_DEPTH};
use rhai::{Array, Blob, Dynamic, ImmutableString, Map};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Error as _, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, Visitor,
};
use serde_json::Error;

/// `value` as a `T`; the error is the message to show.
///
/// The deserializer refuses what has no JSON form wherever it goes (and checks what it skips),
/// so a success is one the JSON route would have had too. On failure the JSON route's own error
/// wins if there is one, as it came first there.
pub(crate) fn deserialize<T: DeserializeOwned>(value: &Dynamic) -> Result<T, String> {
    T::deserialize(ScriptValue::at(value, 0)).map_err(|error| match check_json_form(value, 0) {
        Err(no_json_form) => no_json_form.to_string(),
        Ok(()) => error.to_string(),
    })
}

/// Refuses what has no JSON form, as converting the value to JSON would, with the same message
/// and place: values of other types, non-finite floats, nesting deeper than the limit.
fn check_json_form(value: &Dynamic, depth: usize) -> Result<(), ConversionError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(ConversionError::too_deep());
    }
    if let Ok(float) = value.as_float() {
        if !float.is_finite() {
            return Err(ConversionError::new(format!(
                "the float {float} has no JSON form"
            )));
        }
        return Ok(());
    }
    if value.is_unit()
        || value.is_bool()
        || value.is_int()
        || value.is_char()
        || value.is_string()
        || value.is_blob()
    {
        return Ok(());
    }
    if let Some(array) = value.read_lock::<Array>() {
        for (index, item) in array.iter().enumerate() {
            check_json_form(item, depth + 1).map_err(|e| e.inside(format!("[{index}]")))?;
        }
        return Ok(());
    }
    if let Some(map) = value.read_lock::<Map>() {
        for (key, item) in map.iter() {
            check_json_form(item, depth + 1).map_err(|e| e.inside(format!(".{key}")))?;
        }
        return Ok(());
    }
    Err(ConversionError::new(format!(
        "a value of type `{}` has no JSON form",
        value.type_name()
    )))
}

/// A script value being deserialized, `depth` levels inside the argument.
#[derive(Clone, Copy)]
struct ScriptValue<'a> {
    value: &'a Dynamic,
    depth: usize,
}

/// The error of a value with no JSON form: [`deserialize`] replaces it with
/// [`check_json_form`]'s, which says where.
fn no_json_form() -> Error {
    Error::custom("a value with no JSON form")
}

impl<'a> ScriptValue<'a> {
    fn at(value: &'a Dynamic, depth: usize) -> Self {
        Self { value, depth }
    }

    /// The depth of the items inside this value, if they may nest that deep.
    fn inner_depth(&self) -> Result<usize, Error> {
        let depth = self.depth + 1;
        if depth > MAX_VALUE_DEPTH {
            Err(no_json_form())
        } else {
            Ok(depth)
        }
    }

    /// What the value is, as serde_json's error messages describe its JSON form.
    fn unexpected(&self) -> Unexpected<'static> {
        let value = self.value;
        if value.is_unit() {
            Unexpected::Unit
        } else if let Ok(flag) = value.as_bool() {
            Unexpected::Bool(flag)
        } else if let Ok(int) = value.as_int() {
            match u64::try_from(int) {
                Ok(unsigned) => Unexpected::Unsigned(unsigned),
                Err(_) => Unexpected::Signed(int),
            }
        } else if let Ok(float) = value.as_float() {
            Unexpected::Float(float)
        } else if value.is_map() {
            Unexpected::Map
        } else if value.is_array() || value.is_blob() {
            Unexpected::Seq
        } else {
            // A string or a char: serde_json quotes the text, which outlives no borrow here,
            // so it is formatted into the message by `invalid_type` below instead.
            Unexpected::Other("string")
        }
    }

    fn invalid_type<'de, V: Visitor<'de>>(&self, visitor: &V) -> Error {
        if let Some(text) = self.text() {
            return Error::invalid_type(Unexpected::Str(&text), visitor);
        }
        Error::invalid_type(self.unexpected(), visitor)
    }

    /// The value's text, if it is a string or a char (a one-character string in JSON).
    fn text(&self) -> Option<ImmutableString> {
        if let Ok(ch) = self.value.as_char() {
            return Some(ch.to_string().into());
        }
        self.value
            .read_lock::<ImmutableString>()
            .map(|text| text.clone())
    }

    fn visit_number<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Ok(int) = self.value.as_int() {
            return match u64::try_from(int) {
                Ok(unsigned) => visitor.visit_u64(unsigned),
                Err(_) => visitor.visit_i64(int),
            };
        }
        match self.value.as_float() {
            Ok(float) if float.is_finite() => visitor.visit_f64(float),
            Ok(_) => Err(no_json_form()),
            Err(_) => Err(self.invalid_type(&visitor)),
        }
    }

    /// An array's items, or a blob's bytes, as a sequence; `None` for anything else.
    fn visit_sequence<'de, V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<Result<V::Value, Error>, V> {
        if let Some(array) = self.value.read_lock::<Array>() {
            let items = array.iter().map(ItemRef::Value);
            return Ok(self
                .inner_depth()
                .and_then(|depth| visit_items(items, depth, visitor)));
        }
        if let Some(blob) = self.value.read_lock::<Blob>() {
            let bytes = blob
                .iter()
                .map(|byte| ItemRef::Owned(Dynamic::from_int(*byte as i64)));
            return Ok(self
                .inner_depth()
                .and_then(|depth| visit_items(bytes, depth, visitor)));
        }
        Err(visitor)
    }

    /// A map's entries; `None` for anything else.
    fn visit_entries<'de, V: Visitor<'de>>(self, visitor: V) -> Result<Result<V::Value, Error>, V> {
        match self.value.read_lock::<Map>() {
            Some(map) => {
                let depth = match self.inner_depth() {
                    Ok(depth) => depth,
                    Err(error) => return Ok(Err(error)),
                };
                let len = map.len();
                let mut entries = Entries {
                    iter: map.iter(),
                    value: None,
                    depth,
                };
                let result = visitor.visit_map(&mut entries);
                Ok(result.and_then(|value| {
                    if entries.iter.len() == 0 {
                        Ok(value)
                    } else {
                        Err(Error::invalid_length(len, &"fewer elements in map"))
                    }
                }))
            }
            None => Err(visitor),
        }
    }
}

/// An item of a sequence: borrowed from an array, or made for a blob's byte.
enum ItemRef<'a> {
    Value(&'a Dynamic),
    Owned(Dynamic),
}

fn visit_items<'a, 'de, V: Visitor<'de>>(
    items: impl ExactSizeIterator<Item = ItemRef<'a>>,
    depth: usize,
    visitor: V,
) -> Result<V::Value, Error> {
    let len = items.len();
    let mut items = Items(items, depth);
    let value = visitor.visit_seq(&mut items)?;
    if items.0.len() == 0 {
        Ok(value)
    } else {
        Err(Error::invalid_length(len, &"fewer elements in array"))
    }
}

/// A sequence's items, and their depth.
/// A sequence's items, and their depth.
struct Items<I>(I, usize);

impl<'a, 'de, I: ExactSizeIterator<Item = ItemRef<'a>>> SeqAccess<'de> for Items<I> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(ItemRef::Value(item)) => seed.deserialize(ScriptValue::at(item, self.1)).map(Some),
            Some(ItemRef::Owned(item)) => {
                seed.deserialize(ScriptValue::at(&item, self.1)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'a, I> {
    iter: I,
    value: Option<&'a Dynamic>,
    /// The depth of the values.
    depth: usize,
}

impl<'a, 'de, I> MapAccess<'de> for Entries<'a, I>
where
    I: ExactSizeIterator<Item = (&'a rhai::Identifier, &'a Dynamic)>,
{
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(KeyDeserializer(key.as_str())).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(ScriptValue::at(value, self.depth)),
            None => Err(Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Every number type reads a script number as serde_json reads a JSON one (the visitor checks the
/// range).
macro_rules! numbers {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.visit_number(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ScriptValue<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let value = self.value;
        if value.is_unit() {
            return visitor.visit_unit();
        }
        if let Ok(flag) = value.as_bool() {
            return visitor.visit_bool(flag);
        }
        if value.is_int() || value.is_float() {
            return self.visit_number(visitor);
        }
        if let Some(text) = self.text() {
            return visitor.visit_str(&text);
        }
        let visitor = match self.visit_sequence(visitor) {
            Ok(result) => return result,
            Err(visitor) => visitor,
        };
        match self.visit_entries(visitor) {
            Ok(result) => result,
            Err(visitor) => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value.as_bool() {
            Ok(flag) => visitor.visit_bool(flag),
            Err(_) => Err(self.invalid_type(&visitor)),
        }
    }

    numbers!(
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64
    );

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.text() {
            Some(text) => visitor.visit_str(&text),
            None => Err(self.invalid_type(&visitor)),
        }
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_byte_buf(visitor)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Some(text) = self.text() {
            return visitor.visit_str(&text);
        }
        match self.visit_sequence(visitor) {
            Ok(result) => result,
            Err(visitor) => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.value.is_unit() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.value.is_unit() {
            visitor.visit_unit()
        } else {
            Err(self.invalid_type(&visitor))
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.visit_sequence(visitor) {
            Ok(result) => result,
            Err(visitor) => Err(self.invalid_type(&visitor)),
        }
    }
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.visit_entries(visitor) {
            Ok(result) => result,
            Err(visitor) => Err(self.invalid_type(&visitor)),
        }
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let visitor = match self.visit_entries(visitor) {
            Ok(result) => return result,
            Err(visitor) => visitor,
        };
        match self.visit_sequence(visitor) {
            Ok(result) => result,
            Err(visitor) => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // Rare enough to take the JSON route, which gives serde_json's own enum rules.
        let json = super::dynamic_to_json(self.value).map_err(|e| Error::custom(e.to_string()))?;
        de::Deserializer::deserialize_enum(json, name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // Skipped, but the JSON route refused a skipped value with no JSON form too.
        check_json_form(self.value, self.depth).map_err(|_| no_json_form())?;
        visitor.visit_unit()
    }
}

/// A map key, as serde_json reads an object's keys: text, or a number or bool written as text.
struct KeyDeserializer<'a>(&'a str);

impl KeyDeserializer<'_> {
    /// The key as a JSON number, if it is one written alone.
    fn number(&self) -> Result<serde_json::Number, Error> {
        let key = self.0;
        let not_numeric = || Error::custom("invalid value: expected key to be a number in quotes");
        let starts_numeric = matches!(key.as_bytes().first(), Some(b'0'..=b'9' | b'-'));
        if !starts_numeric || key.trim_end().len() != key.len() {
            return Err(not_numeric());
        }
        serde_json::from_str(key).map_err(|_| not_numeric())
    }
}

macro_rules! numeric_key {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            de::Deserializer::$method(self.number()?, visitor).map_err(|error| {
                // serde_json reads the key with a parser, whose errors say where it stopped.
                Error::custom(format!("{error} at line 1 column {}", self.0.chars().count()))
            })
        }
    )*};
}

impl<'de> de::Deserializer<'de> for KeyDeserializer<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str(self.0)
    }

    numeric_key!(
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64
    );

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            other => Err(Error::invalid_type(Unexpected::Str(other), &visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // Map keys cannot be null.
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let key: de::value::StrDeserializer<'_, Error> = self.0.into_deserializer();
        de::Deserializer::deserialize_enum(key, name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct
        map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    /// The route arguments took before: the value's JSON form, deserialized by serde_json.
    fn through_json<T: DeserializeOwned>(value: &Dynamic) -> Result<T, String> {
        let json = crate::convert::dynamic_to_json(value).map_err(|e| e.to_string())?;
        serde_json::from_value(json).map_err(|e| e.to_string())
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Point {
        x: f64,
        y: f64,
        label: String,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct WithDefaults {
        #[serde(default)]
        count: u8,
        note: Option<String>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        a: i64,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    enum Shape {
        Dot,
        Circle(f64),
        Rect { w: i32, h: i32 },
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Meters(f64);

    #[derive(Deserialize, Debug, PartialEq)]
    struct Pair(i64, String);

    #[derive(Deserialize, Debug, PartialEq)]
    struct Marker;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(untagged)]
    enum Either {
        Number(i64),
        Text(String),
        List(Vec<Either>),
    }

    fn values() -> Vec<Dynamic> {
        let engine = rhai::Engine::new();
        let sources = [
            "()",
            "true",
            "0",
            "1",
            "-1",
            "255",
            "256",
            "300",
            "-129",
            "9007199254740993",
            "1.5",
            "2.0",
            "-0.5",
            "'c'",
            "\"text\"",
            "\"\"",
            "\"1\"",
            "\"-7\"",
            "\"1 \"",
            "\"Dot\"",
            "\"Nope\"",
            "[]",
            "[1, 2]",
            "[1, \"a\"]",
            "[1.0, 2.0, \"p\"]",
            "[1]",
            "[300]",
            "#{}",
            "#{x: 1.0, y: 2, label: \"p\"}",
            "#{x: 1}",
            "#{\"1\": \"a\", \"2\": \"b\"}",
            "#{\"-3\": 1, \"x\": 2}",
            "#{\"true\": 1}",
            "#{Circle: 2.5}",
            "#{Rect: #{w: 1, h: 2}}",
            "#{Dot: ()}",
            "#{a: 1, b: 2}",
            "#{a: 1}",
            "#{count: 3}",
            "#{count: 300, note: \"n\"}",
            "blob(3, 7)",
            "blob()",
            "[[1, 2], [\"a\"]]",
            "#{list: [1, Fn(\"abs\")]}",
            "Fn(\"abs\")",
            "timestamp()",
            "#{nested: #{deeper: [1, 2.5, ()]}}",
        ];
        let mut values: Vec<Dynamic> = sources
            .iter()
            .map(|source| engine.eval::<Dynamic>(source).unwrap())
            .collect();
        values.push(Dynamic::from_float(f64::NAN));
        values.push(Dynamic::from_array(vec![
            1.into(),
            Dynamic::from_float(f64::INFINITY),
        ]));
        let mut deep = Dynamic::from_array(Array::new());
        for _ in 0..200 {
            deep = Dynamic::from_array(vec![deep]);
        }
        // What a struct skips must have a JSON form too: a NaN, a function pointer, deep nesting
        // in fields that `WithDefaults` and `Point` ignore, and a NaN after a type error.
        for odd in [
            Dynamic::from_float(f64::NAN),
            engine.eval::<Dynamic>("Fn(\"abs\")").unwrap(),
            deep.clone(),
        ] {
            let mut map = rhai::Map::new();
            map.insert("x".into(), Dynamic::from_float(1.0));
            map.insert("y".into(), Dynamic::from_int(2));
            map.insert("label".into(), Dynamic::from("p"));
            map.insert("zzz".into(), odd);
            values.push(Dynamic::from_map(map));
        }
        let mut mixed = rhai::Map::new();
        mixed.insert("a".into(), Dynamic::from("not a number"));
        mixed.insert("b".into(), Dynamic::from_float(f64::NAN));
        values.push(Dynamic::from_map(mixed));
        values.push(deep);
        values
    }

    macro_rules! same_as_json {
        ($value:expr, $($ty:ty),* $(,)?) => {$(
            let direct = deserialize::<$ty>($value);
            let json = through_json::<$ty>($value);
            assert_eq!(
                format!("{direct:?}"),
                format!("{json:?}"),
                "{} as {}",
                $value,
                stringify!($ty)
            );
        )*};
    }

    #[test]
    fn every_value_as_every_type_converts_exactly_as_through_json() {
        for value in &values() {
            same_as_json!(
                value, (), bool, i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, f32, f64,
                char, String, Option<i64>, Option<String>, Vec<i64>, Vec<u8>, Vec<f64>,
                Vec<String>, Vec<Option<i64>>, (i64, String), (f64, f64, String),
                BTreeMap<String, i64>, BTreeMap<i32, String>, BTreeMap<i64, i64>,
                BTreeMap<u8, i64>, BTreeMap<bool, i64>, BTreeMap<u64, f64>,
                BTreeMap<String, Vec<i64>>, Point, WithDefaults, Strict, Shape, Meters, Pair,
                Marker, Either, serde_json::Value, Box<str>,
                std::net::Ipv4Addr, std::time::Duration,
            );
        }
    }
}
