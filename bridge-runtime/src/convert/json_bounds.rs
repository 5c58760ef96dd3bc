//! Checks JSON that arrives from outside a script (a dispatched command) against the limits a
//! script's own values keep to: nesting depth, string length, array and map sizes. Walked with
//! a stack of its own, so a value nested 100,000 deep is refused, not recursed into.

use super::rules::MAX_VALUE_DEPTH;
use serde_json::Value;

/// The sizes a value may have; `None` leaves one unbounded.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ValueBounds {
    pub(crate) max_string_size: Option<usize>,
    pub(crate) max_array_size: Option<usize>,
    pub(crate) max_map_size: Option<usize>,
}

/// Whether `value` keeps within `bounds` and [`MAX_VALUE_DEPTH`]; if not, what it passes.
pub(crate) fn check_json_bounds(value: &Value, bounds: &ValueBounds) -> Result<(), String> {
    let over = |what: &str, size: usize, limit: usize| {
        Err(format!(
            "it holds {what} of {size}, more than this bridge's limit of {limit}"
        ))
    };
    let mut pending = vec![(value, 0_usize)];
    while let Some((value, depth)) = pending.pop() {
        if depth > MAX_VALUE_DEPTH {
            return Err(format!("it is nested deeper than {MAX_VALUE_DEPTH} levels"));
        }
        match value {
            Value::String(text) => {
                if let Some(limit) = bounds.max_string_size.filter(|limit| text.len() > *limit) {
                    return over("a string", text.len(), limit);
                }
            }
            Value::Array(items) => {
                if let Some(limit) = bounds.max_array_size.filter(|limit| items.len() > *limit) {
                    return over("an array", items.len(), limit);
                }
                pending.extend(items.iter().map(|item| (item, depth + 1)));
            }
            Value::Object(entries) => {
                if let Some(limit) = bounds.max_map_size.filter(|limit| entries.len() > *limit) {
                    return over("a map", entries.len(), limit);
                }
                for (key, item) in entries {
                    if let Some(limit) = bounds.max_string_size.filter(|limit| key.len() > *limit) {
                        return over("a key", key.len(), limit);
                    }
                    pending.push((item, depth + 1));
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(depth: usize) -> Value {
        let mut value = json!(1);
        for _ in 0..depth {
            value = Value::Array(vec![value]);
        }
        value
    }

    #[test]
    fn depth_is_bounded_without_recursing() {
        let bounds = ValueBounds::default();
        assert!(check_json_bounds(&nested(MAX_VALUE_DEPTH), &bounds).is_ok());
        let deep = nested(100_000);
        let refused = check_json_bounds(&deep, &bounds).unwrap_err();
        assert!(refused.contains("deeper than 128"), "{refused}");
        // Dropping it recurses (serde_json's own `Drop`): leak it rather than test that.
        std::mem::forget(deep);
    }

    #[test]
    fn sizes_are_bounded_inside_nested_values() {
        let bounds = ValueBounds {
            max_string_size: Some(4),
            max_array_size: Some(2),
            max_map_size: Some(1),
        };
        assert!(check_json_bounds(&json!({"a": [1, "abcd"]}), &bounds).is_ok());
        let long = check_json_bounds(&json!({"a": [1, "abcde"]}), &bounds).unwrap_err();
        assert_eq!(
            long,
            "it holds a string of 5, more than this bridge's limit of 4"
        );
        assert!(check_json_bounds(&json!([[1, 2, 3]]), &bounds).is_err());
        assert!(check_json_bounds(&json!([{"a": 1, "b": 2}]), &bounds).is_err());
        assert!(check_json_bounds(&json!({"abcde": 1}), &bounds).is_err());
    }
}
