//! Direct conversions for the commonest types, skipping the general serde route.
//!
//! Both routes give the same results (the tests run every type through both); this one only
//! skips serde's machinery (a deserializer or serializer, and its visitor) for an integer, a
//! float, a bool or a string.

use rhai::{Dynamic, INT};
use std::any::Any;

/// `value` as a `T`, if `T` is one of the fast-path types and `value` holds exactly that.
/// `None` means "take the general route" (which also produces the error messages).
pub(crate) fn script_to_rust<T: 'static>(value: &Dynamic) -> Option<T> {
    let mut slot: Option<T> = None;
    let target = &mut slot as &mut dyn Any;
    if let Some(target) = target.downcast_mut::<Option<i64>>() {
        *target = value.as_int().ok();
    } else if let Some(target) = target.downcast_mut::<Option<f64>>() {
        *target = value
            .as_float()
            .ok()
            .or_else(|| value.as_int().ok().map(|int| int as f64));
    } else if let Some(target) = target.downcast_mut::<Option<bool>>() {
        *target = value.as_bool().ok();
    } else if let Some(target) = target.downcast_mut::<Option<String>>() {
        *target = value
            .read_lock::<rhai::ImmutableString>()
            .map(|text| text.as_str().to_owned());
    }
    slot
}

/// `value` as a script value, if its type is one of the fast-path types.
pub(crate) fn rust_to_script<T: 'static>(value: &T) -> Option<Dynamic> {
    let value = value as &dyn Any;
    if let Some(int) = value.downcast_ref::<i64>() {
        Some(Dynamic::from_int(*int as INT))
    } else if let Some(float) = value.downcast_ref::<f64>() {
        Some(Dynamic::from_float(*float))
    } else if let Some(flag) = value.downcast_ref::<bool>() {
        Some(Dynamic::from_bool(*flag))
    } else if let Some(text) = value.downcast_ref::<String>() {
        Some(Dynamic::from(text.clone()))
    } else if value.is::<()>() {
        Some(Dynamic::UNIT)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{dynamic_to_json, to_script_value};

    fn general<T: serde::de::DeserializeOwned>(value: &Dynamic) -> Option<T> {
        serde_json::from_value(dynamic_to_json(value).ok()?).ok()
    }

    #[test]
    fn fast_and_general_routes_agree_script_to_rust() {
        let values = [
            Dynamic::from_int(42),
            Dynamic::from_float(2.5),
            Dynamic::from_bool(true),
            Dynamic::from("text"),
            Dynamic::UNIT,
        ];
        for value in &values {
            assert_eq!(
                script_to_rust::<i64>(value),
                general::<i64>(value),
                "{value:?}"
            );
            assert_eq!(
                script_to_rust::<f64>(value),
                general::<f64>(value),
                "{value:?}"
            );
            assert_eq!(
                script_to_rust::<bool>(value),
                general::<bool>(value),
                "{value:?}"
            );
            assert_eq!(
                script_to_rust::<String>(value),
                general::<String>(value),
                "{value:?}"
            );
        }
        assert_eq!(script_to_rust::<u8>(&Dynamic::from_int(1)), None);
    }

    #[test]
    fn fast_and_general_routes_agree_rust_to_script() {
        fn same<T: serde::Serialize + 'static>(value: T) {
            let fast = rust_to_script(&value).expect("a fast-path type");
            let general = to_script_value(&value).expect("converts");
            assert_eq!(format!("{fast:?}"), format!("{general:?}"));
        }
        same(7_i64);
        same(1.5_f64);
        same(false);
        same("x".to_owned());
        same(());
        assert!(rust_to_script(&7_u8).is_none());
    }
}
