//! [`SendableValue`]: a script value that can cross threads, for inputs and globals.
//!
//! A script value (`Dynamic`) is not `Send`, and JSON cannot tell a blob from an array of
//! numbers or keep a non-finite float. The host's value is converted to a script value on the
//! host's thread (by the same serializer as a function's return value, so with the same rules and
//! limits), copied into this plain tree, and rebuilt as a script value on the engine thread.

use super::rules::ConversionError;
use super::size_limits::{SizeLimits, SizeTally};
use super::to_script::{to_script_value, to_script_value_within};
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

    /// `value` as [`from_rust`](Self::from_rust) makes it, refused as soon as it passes one of
    /// `limits` (so a huge string is never copied).
    pub(crate) fn from_rust_within<T: Serialize + ?Sized>(
        value: &T,
        limits: &SizeLimits,
    ) -> Result<Self, ConversionError> {
        if !limits.is_limited() {
            return Self::from_rust(value);
        }
        let tally = SizeTally::new(*limits);
        Ok(Self::copy(&to_script_value_within(value, &tally)?))
    }

    /// Checks this value against `limits`, counting as Rhai counts a value: an error says which
    /// limit it passes and where.
    pub(crate) fn check_sizes(&self, limits: &SizeLimits) -> Result<(), ConversionError> {
        if !limits.is_limited() {
            return Ok(());
        }
        self.count_into(&SizeTally::new(*limits), true)
    }

    fn count_into(&self, tally: &SizeTally, top: bool) -> Result<(), ConversionError> {
        match self {
            Self::String(text) => tally.add_string(text.len()),
            // Rhai counts a nested blob as one item more than its bytes.
            Self::Blob(bytes) => tally.add_array_items(bytes.len() + usize::from(!top)),
            Self::Array(items) => items.iter().enumerate().try_for_each(|(index, item)| {
                tally
                    .add_array_items(1)
                    .and_then(|()| item.count_into(tally, false))
                    .map_err(|e| e.inside(format!("[{index}]")))
            }),
            Self::Map(entries) => entries.iter().try_for_each(|(key, value)| {
                tally
                    .add_map_entries(1)
                    .and_then(|()| value.count_into(tally, false))
                    .map_err(|e| e.inside(format!(".{key}")))
            }),
            _ => Ok(()),
        }
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

    /// Whether Rhai itself would hold `value` within `limits`.
    fn rhai_accepts(value: &SendableValue, limits: &SizeLimits) -> bool {
        let mut engine = rhai::Engine::new_raw();
        engine.set_max_string_size(limits.max_string_size.unwrap_or(0));
        engine.set_max_array_size(limits.max_array_size.unwrap_or(0));
        engine.set_max_map_size(limits.max_map_size.unwrap_or(0));
        engine
            .ensure_data_size_within_limits(&value.to_dynamic())
            .is_ok()
    }

    #[test]
    fn size_checks_count_as_rhai_counts() {
        let strings = serde_json::json!({"a": "xxxx", "b": ["yyy", {"c": "zz"}]});
        let nested = serde_json::json!([[1, 2], [3, [4, 5]], {"k": [6]}]);
        let maps = serde_json::json!({"a": {"b": {"c": 1}, "d": 2}, "e": [{"f": 1}]});
        let blob_in_map = BTreeMap::from([("data", serde_bytes_like_value(vec![1, 2, 3]))]);
        let blob_in_array = vec![serde_bytes_like_value(vec![1, 2, 3])];
        let values = [
            SendableValue::from_rust(&strings).unwrap(),
            SendableValue::from_rust(&nested).unwrap(),
            SendableValue::from_rust(&maps).unwrap(),
            SendableValue::from_rust(&blob_in_map).unwrap(),
            SendableValue::from_rust(&blob_in_array).unwrap(),
            SendableValue::from_rust(&serde_bytes_like_value(vec![0; 5])).unwrap(),
            SendableValue::from_rust(&Sample {
                name: "n",
                ratio: 1.0,
                data: vec![1, 2],
                tags: vec!['a'],
                extra: BTreeMap::from([("x", Some(1))]),
            })
            .unwrap(),
        ];
        let mut checked = 0;
        for value in &values {
            for limit in 1..12 {
                for limits in [
                    SizeLimits {
                        max_string_size: Some(limit),
                        ..SizeLimits::default()
                    },
                    SizeLimits {
                        max_array_size: Some(limit),
                        ..SizeLimits::default()
                    },
                    SizeLimits {
                        max_map_size: Some(limit),
                        ..SizeLimits::default()
                    },
                ] {
                    let expected = rhai_accepts(value, &limits);
                    assert_eq!(
                        value.check_sizes(&limits).is_ok(),
                        expected,
                        "{value:?} within {limits:?}"
                    );
                    checked += usize::from(!expected);
                }
            }
        }
        assert!(checked > 30, "some values must be over some limits");
    }

    /// Bytes that serialize with `serialize_bytes`.
    #[derive(Debug)]
    struct BytesValue(Vec<u8>);

    impl Serialize for BytesValue {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(&self.0)
        }
    }

    fn serde_bytes_like_value(bytes: Vec<u8>) -> BytesValue {
        BytesValue(bytes)
    }

    #[test]
    fn a_value_over_a_limit_is_refused_while_it_is_converted() {
        let limits = SizeLimits {
            max_string_size: Some(10),
            max_array_size: Some(100),
            max_map_size: Some(5),
        };
        let long = "x".repeat(11);
        let error = SendableValue::from_rust_within(&long, &limits).unwrap_err();
        assert!(error.is_over_limit());
        assert_eq!(
            error.to_string(),
            "its strings hold at least 11 bytes in all, more than this bridge's max_string_size of 10 (everything nested in a value counts together, as Rhai counts it)"
        );
        // Ten short strings under a map: together over the limit, and the error says where.
        let parts = BTreeMap::from([("a", "xxxxx"), ("b", "xxxxx"), ("c", "x")]);
        let error = SendableValue::from_rust_within(&parts, &limits).unwrap_err();
        assert!(
            error.to_string().starts_with("at .c: its strings"),
            "{error}"
        );
        let nested = vec![vec![0; 60], vec![0; 60]];
        let error = SendableValue::from_rust_within(&nested, &limits).unwrap_err();
        assert!(
            error.to_string().contains("max_array_size of 100"),
            "{error}"
        );
        // Every value the converter accepts, Rhai accepts too, and the other way round.
        for value in [
            serde_json::json!(["xxxxx", "xxxxx"]),
            serde_json::json!({"a": 1, "b": {"c": 2, "d": 3}, "e": 4}),
            serde_json::json!({"a": 1, "b": {"c": 2, "d": 3}}),
            serde_json::json!([vec![0; 50], vec![0; 48]]),
            serde_json::json!([vec![0; 50], vec![0; 49]]),
        ] {
            let converted = SendableValue::from_rust_within(&value, &limits);
            let unlimited = SendableValue::from_rust(&value).unwrap();
            assert_eq!(
                converted.is_ok(),
                rhai_accepts(&unlimited, &limits),
                "{value}"
            );
        }
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
