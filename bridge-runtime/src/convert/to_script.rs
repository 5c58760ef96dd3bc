//! Rust value → script value, through serde, with no silent losses.
//!
//! Rhai's own `to_dynamic` turns an integer beyond `i64` into a float; a returned `u64` id that
//! quietly loses its low digits is worse than an error, so this serializer refuses instead. It also
//! bounds nesting depth.

use super::rules::{ConversionError, MAX_VALUE_DEPTH};
use super::size_limits::SizeTally;
use rhai::{Array, Dynamic, Map, INT};
use serde::ser::{self, Serialize};

/// Converts any `Serialize` value to a script value.
///
/// Structs and maps become object maps, sequences and tuples arrays, `None` and `()` become `()`,
/// unit enum variants their name, and other variants a one-entry map `#{ Variant: data }` (serde's
/// external tagging, as in JSON).
pub(crate) fn to_script_value<T: Serialize + ?Sized>(
    value: &T,
) -> Result<Dynamic, ConversionError> {
    value.serialize(ScriptValueSerializer {
        depth: 0,
        tally: None,
    })
}

/// Converts a `Serialize` value to a script value as [`to_script_value`] does, counting its
/// strings, array items and map entries in `tally` and stopping at the first limit it passes,
/// before the rest of the value is built.
pub(crate) fn to_script_value_within<T: Serialize + ?Sized>(
    value: &T,
    tally: &SizeTally,
) -> Result<Dynamic, ConversionError> {
    value.serialize(ScriptValueSerializer {
        depth: 0,
        tally: Some(tally),
    })
}

struct ScriptValueSerializer<'t> {
    depth: usize,
    /// The value's size so far, when it must stay within size limits.
    tally: Option<&'t SizeTally>,
}

impl<'t> ScriptValueSerializer<'t> {
    /// A serializer for a value nested at `depth`, counting into the same tally.
    fn at(depth: usize, tally: Option<&'t SizeTally>) -> Self {
        Self { depth, tally }
    }

    /// Counts what a variant's one-entry map `#{ Variant: ... }` adds.
    fn count_variant_map(&self) -> Result<(), ConversionError> {
        self.tally.map_or(Ok(()), |tally| tally.add_map_entries(1))
    }

    fn nested(&self) -> Result<usize, ConversionError> {
        let depth = self.depth + 1;
        if depth > MAX_VALUE_DEPTH {
            Err(ConversionError::too_deep())
        } else {
            Ok(depth)
        }
    }
}

fn integer<T: TryInto<INT> + std::fmt::Display + Copy>(
    value: T,
) -> Result<Dynamic, ConversionError> {
    value.try_into().map(Dynamic::from_int).map_err(|_| {
        ConversionError::new(format!(
            "the integer {value} does not fit a script integer (i64)"
        ))
    })
}

fn tagged(variant: &'static str, value: Dynamic) -> Dynamic {
    let mut map = Map::new();
    map.insert(variant.into(), value);
    Dynamic::from_map(map)
}

impl<'t> ser::Serializer for ScriptValueSerializer<'t> {
    type Ok = Dynamic;
    type Error = ConversionError;
    type SerializeSeq = SeqBuilder<'t>;
    type SerializeTuple = SeqBuilder<'t>;
    type SerializeTupleStruct = SeqBuilder<'t>;
    type SerializeTupleVariant = SeqBuilder<'t>;
    type SerializeMap = MapBuilder<'t>;
    type SerializeStruct = MapBuilder<'t>;
    type SerializeStructVariant = MapBuilder<'t>;

    fn serialize_bool(self, v: bool) -> Result<Dynamic, ConversionError> {
        Ok(Dynamic::from_bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Dynamic, ConversionError> {
        integer(v)
    }
    fn serialize_i16(self, v: i16) -> Result<Dynamic, ConversionError> {
        integer(v)
    }
    fn serialize_i32(self, v: i32) -> Result<Dynamic, ConversionError> {
        integer(v)
    }
    fn serialize_i64(self, v: i64) -> Result<Dynamic, ConversionError> {
        integer(v)
    }
    fn serialize_i128(self, v: i128) -> Result<Dynamic, ConversionError> {
        integer(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Dynamic, ConversionError> {
        integer(v)
    }
    fn serialize_u16(self, v: u16) -> Result<Dynamic, ConversionError> {
        integer(v)
    }
    fn serialize_u32(self, v: u32) -> Result<Dynamic, ConversionError> {
        integer(v)
    }
    fn serialize_u64(self, v: u64) -> Result<Dynamic, ConversionError> {
        integer(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Dynamic, ConversionError> {
        integer(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Dynamic, ConversionError> {
        Ok(Dynamic::from_float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Dynamic, ConversionError> {
        Ok(Dynamic::from_float(v))
    }
    fn serialize_char(self, v: char) -> Result<Dynamic, ConversionError> {
        Ok(Dynamic::from_char(v))
    }
    fn serialize_str(self, v: &str) -> Result<Dynamic, ConversionError> {
        if let Some(tally) = self.tally {
            tally.add_string(v.len())?;
        }
        Ok(Dynamic::from(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Dynamic, ConversionError> {
        if let Some(tally) = self.tally {
            // Rhai counts a nested blob as one array item more than its bytes.
            tally.add_array_items(v.len() + usize::from(self.depth > 0))?;
        }
        Ok(Dynamic::from_blob(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Dynamic, ConversionError> {
        Ok(Dynamic::UNIT)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Dynamic, ConversionError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Dynamic, ConversionError> {
        Ok(Dynamic::UNIT)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Dynamic, ConversionError> {
        Ok(Dynamic::UNIT)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Dynamic, ConversionError> {
        if let Some(tally) = self.tally {
            tally.add_string(variant.len())?;
        }
        Ok(Dynamic::from(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Dynamic, ConversionError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Dynamic, ConversionError> {
        let depth = self.nested()?;
        self.count_variant_map()?;
        let inner = value
            .serialize(ScriptValueSerializer::at(depth, self.tally))
            .map_err(|e| e.inside(format!(".{variant}")))?;
        Ok(tagged(variant, inner))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder<'t>, ConversionError> {
        Ok(SeqBuilder::new(
            self.nested()?,
            len.unwrap_or(0),
            None,
            self.tally,
        ))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder<'t>, ConversionError> {
        Ok(SeqBuilder::new(self.nested()?, len, None, self.tally))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqBuilder<'t>, ConversionError> {
        Ok(SeqBuilder::new(self.nested()?, len, None, self.tally))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder<'t>, ConversionError> {
        let depth = self.nested()?;
        self.count_variant_map()?;
        Ok(SeqBuilder::new(depth, len, Some(variant), self.tally))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapBuilder<'t>, ConversionError> {
        Ok(MapBuilder::new(self.nested()?, None, self.tally))
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<MapBuilder<'t>, ConversionError> {
        Ok(MapBuilder::new(self.nested()?, None, self.tally))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<MapBuilder<'t>, ConversionError> {
        let depth = self.nested()?;
        self.count_variant_map()?;
        Ok(MapBuilder::new(depth, Some(variant), self.tally))
    }
}

/// Builds an array (or, for a tuple variant, `#{ Variant: [...] }`).
pub(crate) struct SeqBuilder<'t> {
    depth: usize,
    items: Array,
    variant: Option<&'static str>,
    tally: Option<&'t SizeTally>,
}

impl<'t> SeqBuilder<'t> {
    fn new(
        depth: usize,
        capacity: usize,
        variant: Option<&'static str>,
        tally: Option<&'t SizeTally>,
    ) -> Self {
        Self {
            depth,
            tally,
            // A length hint from a serializer is not a promise: cap what it may reserve.
            items: Array::with_capacity(capacity.min(4096)),
            variant,
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConversionError> {
        let index = self.items.len();
        let inside = |e: ConversionError| e.inside(format!("[{index}]"));
        if let Some(tally) = self.tally {
            tally.add_array_items(1).map_err(inside)?;
        }
        let item = value
            .serialize(ScriptValueSerializer::at(self.depth, self.tally))
            .map_err(inside)?;
        self.items.push(item);
        Ok(())
    }

    fn finish(self) -> Result<Dynamic, ConversionError> {
        let array = Dynamic::from_array(self.items);
        Ok(match self.variant {
            Some(variant) => tagged(variant, array),
            None => array,
        })
    }
}

/// serde's four sequence-like traits differ only in their names and their element method's.
macro_rules! sequence_like {
    ($($trait_name:ident :: $method:ident),*) => {$(
        impl ser::$trait_name for SeqBuilder<'_> {
            type Ok = Dynamic;
            type Error = ConversionError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
                self.push(value)
            }
            fn end(self) -> Result<Dynamic, ConversionError> {
                self.finish()
            }
        }
    )*};
}

sequence_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// Builds an object map (or, for a struct variant, `#{ Variant: #{...} }`).
pub(crate) struct MapBuilder<'t> {
    depth: usize,
    entries: Map,
    variant: Option<&'static str>,
    pending_key: Option<String>,
    tally: Option<&'t SizeTally>,
}

impl<'t> MapBuilder<'t> {
    fn new(depth: usize, variant: Option<&'static str>, tally: Option<&'t SizeTally>) -> Self {
        Self {
            depth,
            tally,
            entries: Map::new(),
            variant,
            pending_key: None,
        }
    }

    fn insert<T: Serialize + ?Sized>(
        &mut self,
        key: rhai::Identifier,
        value: &T,
    ) -> Result<(), ConversionError> {
        let inside = |e: ConversionError| e.inside(format!(".{key}"));
        if let Some(tally) = self.tally {
            tally.add_map_entries(1).map_err(inside)?;
        }
        let item = value
            .serialize(ScriptValueSerializer::at(self.depth, self.tally))
            .map_err(inside)?;
        self.entries.insert(key, item);
        Ok(())
    }

    fn finish(self) -> Result<Dynamic, ConversionError> {
        let map = Dynamic::from_map(self.entries);
        Ok(match self.variant {
            Some(variant) => tagged(variant, map),
            None => map,
        })
    }
}

impl ser::SerializeMap for MapBuilder<'_> {
    type Ok = Dynamic;
    type Error = ConversionError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Self::Error> {
        self.pending_key = Some(map_key(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        let key = self
            .pending_key
            .take()
            .ok_or_else(|| ConversionError::new("a map value was serialized before its key"))?;
        self.insert(key.into(), value)
    }
    fn end(self) -> Result<Dynamic, ConversionError> {
        self.finish()
    }
}

/// serde's struct and struct-variant traits differ only in their names.
macro_rules! struct_like {
    ($($trait_name:ident),*) => {$(
        impl ser::$trait_name for MapBuilder<'_> {
            type Ok = Dynamic;
            type Error = ConversionError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Self::Error> {
                // Field names are short: an identifier holds them inline, with no allocation.
                self.insert(key.into(), value)
            }
            fn end(self) -> Result<Dynamic, ConversionError> {
                self.finish()
            }
        }
    )*};
}

struct_like!(SerializeStruct, SerializeStructVariant);

/// Object map keys are strings; like JSON, integer, char and bool keys are written as text.
fn map_key<T: Serialize + ?Sized>(key: &T) -> Result<String, ConversionError> {
    // Serialized at the depth limit, so that a compound key (a tuple, a struct) is refused on its
    // first nested level instead of being built.
    let key = key
        .serialize(ScriptValueSerializer::at(MAX_VALUE_DEPTH, None))
        .map_err(|error| {
            if error.is_too_deep() {
                ConversionError::new(
                    "a map key must be a string, integer, char or bool, not a compound value",
                )
            } else {
                error
            }
        })?;
    if key.is_string() || key.is_int() || key.is_char() || key.is_bool() {
        Ok(key.to_string())
    } else {
        Err(ConversionError::new(format!(
            "a map key must be a string, integer, char or bool, not `{}`",
            key.type_name()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    struct Point {
        x: i32,
        y: f64,
        label: Option<String>,
    }

    #[derive(Serialize)]
    enum Shape {
        Empty,
        Circle(f64),
        Rect { w: u8, h: u8 },
    }

    fn show(value: &Dynamic) -> String {
        format!("{value:?}")
    }

    #[test]
    fn structs_become_maps() {
        let value = to_script_value(&Point {
            x: 1,
            y: 2.5,
            label: None,
        })
        .unwrap();
        assert_eq!(show(&value), "#{\"label\": (), \"x\": 1, \"y\": 2.5}");
    }

    #[test]
    fn enums_use_external_tagging() {
        let value = to_script_value(&vec![
            Shape::Empty,
            Shape::Circle(1.0),
            Shape::Rect { w: 2, h: 3 },
        ])
        .unwrap();
        assert_eq!(
            show(&value),
            "[\"Empty\", #{\"Circle\": 1.0}, #{\"Rect\": #{\"h\": 3, \"w\": 2}}]"
        );
    }

    #[test]
    fn integers_beyond_i64_are_errors_not_floats() {
        let error = to_script_value(&vec![1_u64, u64::MAX]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "at [1]: the integer 18446744073709551615 does not fit a script integer (i64)"
        );
    }

    #[test]
    fn integer_map_keys_become_strings() {
        let value = to_script_value(&BTreeMap::from([(1, "a"), (2, "b")])).unwrap();
        assert_eq!(show(&value), "#{\"1\": \"a\", \"2\": \"b\"}");
    }

    #[test]
    fn nan_survives() {
        let value = to_script_value(&f64::NAN).unwrap();
        assert!(value.as_float().unwrap().is_nan());
    }
}
