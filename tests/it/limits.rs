//! Rhai's own limits, set through the builder, and the sandboxed preset.

use bridge_runtime::{script_async, Bridge, Error, Limits};
use serde_json::json;

#[script_async]
async fn make_text(len: usize) -> String {
    "x".repeat(len)
}

#[script_async]
async fn make_list(len: usize) -> Vec<i64> {
    vec![0; len]
}

fn script_error(result: Result<serde_json::Value, Error>) -> String {
    match result {
        Err(Error::Script { message, .. }) => message,
        other => panic!("expected a script error, got {other:?}"),
    }
}

#[test]
fn max_operations_stops_a_runaway_script() {
    let bridge = Bridge::builder()
        .limits(Limits::default().max_operations(10_000))
        .build()
        .unwrap();
    let message = script_error(bridge.run("let i = 0; loop { i += 1; }"));
    assert!(message.contains("Too many operations"), "{message}");
    assert_eq!(
        bridge
            .run("let s = 0; for i in 0..10 { s += i } s")
            .unwrap(),
        json!(45)
    );
}

#[test]
fn max_call_depth_stops_deep_recursion() {
    let bridge = Bridge::builder()
        .limits(Limits::default().max_call_depth(10))
        .build()
        .unwrap();
    let message =
        script_error(bridge.run("fn down(n) { if n == 0 { 0 } else { down(n - 1) } } down(50)"));
    assert!(message.contains("Stack overflow"), "{message}");
    assert_eq!(
        bridge
            .run("fn down(n) { if n == 0 { 0 } else { down(n - 1) } } down(5)")
            .unwrap(),
        json!(0)
    );
}

#[test]
fn size_limits_apply_to_values_returned_by_async_functions_too() {
    let bridge = Bridge::builder()
        .limits(
            Limits::default()
                .max_string_size(100)
                .max_array_size(100)
                .max_map_size(2),
        )
        .build()
        .unwrap();
    assert!(script_error(bridge.run("make_text(1000)")).contains("Length of string"));
    assert!(script_error(bridge.run("make_list(1000)")).contains("Size of array"));
    let grown = bridge.run("let m = #{}; m.a = 1; m.b = 2; m.c = 3; m");
    assert!(script_error(grown).contains("Size of object map"));
    assert_eq!(bridge.run("make_text(3)").unwrap(), json!("xxx"));
}

#[test]
fn sandboxed_refuses_eval_and_imports_and_bounds_work() {
    let bridge = Bridge::sandboxed().build().unwrap();
    assert!(bridge.run(r#"eval("1 + 1")"#).is_err());
    let message = script_error(bridge.run(r#"import "os" as os; 1"#));
    assert!(message.contains("os"), "{message}");
    let message = script_error(bridge.run("let i = 0; loop { i += 1; }"));
    assert!(message.contains("Too many operations"), "{message}");
    assert_eq!(bridge.run("make_text(2)").unwrap(), json!("xx"));
}

#[test]
fn sandboxed_settings_can_still_be_changed() {
    let bridge = Bridge::sandboxed()
        .limits(Limits::sandboxed().max_operations(50_000_000))
        .build()
        .unwrap();
    let sum = bridge
        .run("let s = 0; for i in 0..1000000 { s += 1 } s")
        .unwrap();
    assert_eq!(sum, json!(1_000_000));
}
