//! Script value → JSON, with bounded depth and no silent losses.
//!
//! Used for every script argument (JSON is the data model serde then deserializes the parameter
//! type from) and for the script's final value.

use super::rules::{ConversionError, MAX_VALUE_DEPTH};
use rhai::{Array, Blob, Dynamic, Map};
use serde_json::{Map as JsonMap, Number, Value};

/// Converts a script value to JSON.
///
/// `()` becomes `null`, a char a one-character string, a blob an array of byte values. Values with
/// no JSON form (functions, timestamps, non-finite floats, custom types) are errors naming the
/// type and where it sits inside the value.
pub(crate) fn dynamic_to_json(value: &Dynamic) -> Result<Value, ConversionError> {
    convert(value, 0)
}

fn convert(value: &Dynamic, depth: usize) -> Result<Value, ConversionError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(ConversionError::too_deep());
    }
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if let Ok(int) = value.as_int() {
        return Ok(Value::Number(int.into()));
    }
    if let Ok(float) = value.as_float() {
        return Number::from_f64(float)
            .map(Value::Number)
            .ok_or_else(|| ConversionError::new(format!("the float {float} has no JSON form")));
    }
    if let Ok(ch) = value.as_char() {
        return Ok(Value::String(ch.to_string()));
    }
    if let Some(text) = value.read_lock::<rhai::ImmutableString>() {
        return Ok(Value::String(text.as_str().to_owned()));
    }
    if let Some(array) = value.read_lock::<Array>() {
        return convert_array(&array, depth);
    }
    if let Some(blob) = value.read_lock::<Blob>() {
        return Ok(Value::Array(
            blob.iter().map(|byte| Value::from(*byte)).collect(),
        ));
    }
    if let Some(map) = value.read_lock::<Map>() {
        return convert_map(&map, depth);
    }
    if let Some(resource) = super::host_types::resource_name(value.type_id()) {
        return Err(ConversionError::new(format!(
            "a {resource} is a resource, which stays with its script and has no JSON form; \
             give back plain values read from it instead"
        )));
    }
    Err(ConversionError::new(format!(
        "a value of type `{}` has no JSON form",
        value.type_name()
    )))
}

fn convert_array(array: &Array, depth: usize) -> Result<Value, ConversionError> {
    array
        .iter()
        .enumerate()
        .map(|(index, item)| convert(item, depth + 1).map_err(|e| e.inside(format!("[{index}]"))))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

fn convert_map(map: &Map, depth: usize) -> Result<Value, ConversionError> {
    let mut object = JsonMap::new();
    for (key, item) in map {
        let item = convert(item, depth + 1).map_err(|e| e.inside(format!(".{key}")))?;
        object.insert(key.to_string(), item);
    }
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_values_convert() {
        let engine = rhai::Engine::new();
        let value: Dynamic = engine
            .eval(r#"#{ a: [1, 2.5, true, ()], b: 'x', c: "text" }"#)
            .unwrap();
        assert_eq!(
            dynamic_to_json(&value).unwrap(),
            serde_json::json!({ "a": [1, 2.5, true, null], "b": "x", "c": "text" })
        );
    }

    #[test]
    fn a_function_pointer_is_an_error_with_its_place() {
        let engine = rhai::Engine::new();
        let value: Dynamic = engine.eval(r#"#{ list: [1, Fn("abs")] }"#).unwrap();
        let error = dynamic_to_json(&value).unwrap_err();
        assert_eq!(
            error.to_string(),
            "at .list[1]: a value of type `Fn` has no JSON form"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let mut value = Dynamic::from_array(Array::new());
        for _ in 0..10_000 {
            value = Dynamic::from_array(vec![value]);
        }
        let error = dynamic_to_json(&value).unwrap_err();
        assert!(error.to_string().contains("nested deeper than"), "{error}");
    }

    #[test]
    fn nan_is_an_error() {
        let error = dynamic_to_json(&Dynamic::from_float(f64::NAN)).unwrap_err();
        assert_eq!(error.to_string(), "the float NaN has no JSON form");
    }
}
