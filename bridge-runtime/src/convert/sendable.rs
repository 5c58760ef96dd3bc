//! [`SendableValue`]: a script value that can cross threads, for inputs and globals.
//!
//! A script value (`Dynamic`) is not `Send`, and JSON cannot tell a blob from an array of
//! numbers or keep a non-finite float. The host's value is converted to a script value on the
//! host's thread (by the same serializer as a function's return value, so with the same rules and
//! limits), copied into this plain tree, and rebuilt as a script value on the engine thread.

use super::rules::ConversionError;
use super::to_script::to_script_value;
use rhai::{Array, Blob, Dynamic, ImmutableString, Map, FLOAT, INT};
use serde::Serialize;

/// A script value made only of `Send` parts: the shapes the serializer produces.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SendableValue {
    Unit,
    Bool(bool),
    Int(INT),
    Float(FLOAT),
    Char(char),
    String(String),
    Blob(Vec<u8>),
    Array(Vec<SendableValue>),
    Map(Vec<(String, SendableValue)>),
}

impl SendableValue {
    /// `value` as a script value would be, in a form that can cross threads.
    pub(crate) fn from_rust<T: Serialize + ?Sized>(value: &T) -> Result<Self, ConversionError> {
        Ok(Self::copy(&to_script_value(value)?))
    }

    /// A copy of `value`, made by the serializer: its depth is bounded by `MAX_VALUE_DEPTH`.
    fn copy(value: &Dynamic) -> Self {
        if value.is_unit() {
            Self::Unit
        } else if let Ok(flag) = value.as_bool() {
            Self::Bool(flag)
        } else if let Ok(int) = value.as_int() {
            Self::Int(int)
        } else if let Ok(float) = value.as_float() {
            Self::Float(float)
        } else if let Ok(ch) = value.as_char() {
            Self::Char(ch)
        } else if let Some(text) = value.read_lock::<ImmutableString>() {
            Self::String(text.as_str().to_owned())
        } else if let Some(blob) = value.read_lock::<Blob>() {
            Self::Blob(blob.clone())
        } else if let Some(array) = value.read_lock::<Array>() {
            Self::Array(array.iter().map(Self::copy).collect())
        } else if let Some(map) = value.read_lock::<Map>() {
            Self::Map(
                map.iter()
                    .map(|(key, value)| (key.to_string(), Self::copy(value)))
                    .collect(),
            )
        } else {
            // The serializer makes nothing else.
            Self::Unit
        }
    }

    /// The script value, on the thread that will use it.
    pub(crate) fn to_dynamic(&self) -> Dynamic {
        match self {
            Self::Unit => Dynamic::UNIT,
            Self::Bool(flag) => Dynamic::from_bool(*flag),
            Self::Int(int) => Dynamic::from_int(*int),
            Self::Float(float) => Dynamic::from_float(*float),
            Self::Char(ch) => Dynamic::from_char(*ch),
            Self::String(text) => Dynamic::from(text.clone()),
            Self::Blob(bytes) => Dynamic::from_blob(bytes.clone()),
            Self::Array(items) => Dynamic::from_array(items.iter().map(Self::to_dynamic).collect()),
            Self::Map(entries) => Dynamic::from_map(
                entries
                    .iter()
                    .map(|(key, value)| (key.into(), value.to_dynamic()))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    struct Sample {
        name: &'static str,
        ratio: f64,
        #[serde(with = "serde_bytes_like")]
        data: Vec<u8>,
        tags: Vec<char>,
        extra: BTreeMap<&'static str, Option<i64>>,
    }

    /// Serializes bytes with `serialize_bytes`, as `serde_bytes` does.
    mod serde_bytes_like {
        pub(super) fn serialize<S: serde::Serializer>(
            bytes: &[u8],
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(bytes)
        }
    }

    #[test]
    fn a_value_survives_the_trip_with_blobs_and_non_finite_floats() {
        let sample = Sample {
            name: "n",
            ratio: f64::INFINITY,
            data: vec![0, 255],
            tags: vec!['a'],
            extra: BTreeMap::from([("none", None), ("some", Some(3))]),
        };
        let sendable = SendableValue::from_rust(&sample).unwrap();
        let value = sendable.to_dynamic();
        let map = value.cast::<Map>();
        assert_eq!(map["name"].clone().into_string().unwrap(), "n");
        assert_eq!(map["ratio"].as_float().unwrap(), f64::INFINITY);
        assert_eq!(map["data"].clone().into_blob().unwrap(), [0, 255]);
        assert_eq!(
            map["tags"].clone().into_array().unwrap()[0].as_char(),
            Ok('a')
        );
        let extra = map["extra"].clone().cast::<Map>();
        assert!(extra["none"].is_unit());
        assert_eq!(extra["some"].as_int(), Ok(3));
    }

    #[test]
    fn the_serializer_rules_apply() {
        assert!(SendableValue::from_rust(&u64::MAX).is_err());
        let mut deep = serde_json::json!(0);
        for _ in 0..200 {
            deep = serde_json::json!([deep]);
        }
        assert!(SendableValue::from_rust(&deep).is_err());
    }
}
