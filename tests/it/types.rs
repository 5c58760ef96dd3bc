//! Every parameter and return type the bridge accepts, converted both ways.

use bridge_runtime::{script_async, Bridge, CallErrorKind, Error};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

fn run(script: &str) -> Result<serde_json::Value, Error> {
    bridge_runtime::run(script)
}

fn argument_error(script: &str) -> (String, String) {
    match run(script) {
        Err(Error::Call(call)) if call.kind == CallErrorKind::Argument => (
            call.param.expect("argument errors name the parameter"),
            call.message,
        ),
        other => panic!("expected an argument error from {script:?}, got {other:?}"),
    }
}

#[script_async]
#[allow(clippy::too_many_arguments)]
async fn integers(a: i8, b: i16, c: i32, d: i64, e: u8, f: u16, g: u32, h: u64, i: usize) -> i64 {
    tokio::task::yield_now().await;
    i64::from(a)
        + i64::from(b)
        + i64::from(c)
        + d
        + i64::from(e)
        + i64::from(f)
        + i64::from(g)
        + h as i64
        + i as i64
}

#[script_async]
async fn floats(x: f32, y: f64) -> f64 {
    f64::from(x) + y
}

#[script_async]
async fn flip(flag: bool, letter: char) -> (char, bool) {
    (letter.to_ascii_uppercase(), !flag)
}

#[script_async]
async fn shout(text: String) -> String {
    text.to_uppercase()
}

#[script_async]
async fn count_chars(text: &str) -> usize {
    text.chars().count()
}

#[script_async]
async fn total(values: &[i64]) -> i64 {
    values.iter().sum()
}

#[script_async]
async fn reverse_list(values: Vec<String>) -> Vec<String> {
    values.into_iter().rev().collect()
}

#[script_async]
async fn invert(map: HashMap<String, i64>) -> BTreeMap<String, String> {
    map.into_iter().map(|(k, v)| (v.to_string(), k)).collect()
}

#[script_async]
async fn maybe_double(value: Option<i64>) -> Option<i64> {
    value.map(|v| v * 2)
}

#[script_async]
async fn swap_pair(pair: (i64, String)) -> (String, i64) {
    (pair.1, pair.0)
}

#[script_async]
async fn echo_json(value: serde_json::Value) -> serde_json::Value {
    json!({ "got": value })
}

#[derive(Serialize, Deserialize)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(Serialize, Deserialize)]
enum Shape {
    Dot,
    Circle { center: Point, radius: f64 },
    Square(f64),
}

#[script_async]
async fn midpoint(a: Point, b: Point) -> Point {
    Point {
        x: (a.x + b.x) / 2.0,
        y: (a.y + b.y) / 2.0,
    }
}

#[script_async]
async fn area(shape: Shape) -> f64 {
    match shape {
        Shape::Dot => 0.0,
        Shape::Circle { radius, .. } => std::f64::consts::PI * radius * radius,
        Shape::Square(side) => side * side,
    }
}

#[script_async]
async fn grow(shape: &Shape) -> Shape {
    match shape {
        Shape::Dot => Shape::Square(1.0),
        Shape::Square(side) => Shape::Square(side * 2.0),
        Shape::Circle { radius, .. } => Shape::Circle {
            center: Point { x: 0.0, y: 0.0 },
            radius: radius * 2.0,
        },
    }
}

#[script_async]
async fn nothing() {}

#[script_async]
async fn explicit_unit() -> () {}

#[script_async]
async fn huge() -> u64 {
    u64::MAX
}

#[script_async]
async fn checked_div(a: i64, b: i64) -> Result<i64, String> {
    a.checked_div(b)
        .ok_or_else(|| format!("cannot divide {a} by {b}"))
}

#[test]
fn all_integer_widths_convert() {
    assert_eq!(
        run("integers(-1, -2, -3, -4, 5, 6, 7, 8, 9)").unwrap(),
        json!(25)
    );
}

#[test]
fn an_integer_that_does_not_fit_is_an_argument_error() {
    let (param, message) = argument_error("integers(0, 0, 0, 0, 300, 0, 0, 0, 0)");
    assert_eq!(param, "e");
    assert_eq!(message, "invalid value: integer `300`, expected u8");
    let (param, message) = argument_error("integers(0, 0, 0, 0, 0, 0, 0, -1, 0)");
    assert_eq!(param, "h");
    assert_eq!(message, "invalid value: integer `-1`, expected u64");
}

#[test]
fn an_integer_is_accepted_where_a_float_is_expected() {
    assert_eq!(run("floats(1, 2.5)").unwrap(), json!(3.5));
}

#[test]
fn a_float_is_not_accepted_where_an_integer_is_expected() {
    let (param, message) = argument_error("shout(1.5)");
    assert_eq!(param, "text");
    assert_eq!(
        message,
        "invalid type: floating point `1.5`, expected a string"
    );
}

#[test]
fn bools_chars_and_tuples_convert() {
    assert_eq!(run("flip(true, 'q')").unwrap(), json!(["Q", false]));
}

#[test]
fn owned_and_borrowed_strings_convert() {
    assert_eq!(run(r#"shout("hi")"#).unwrap(), json!("HI"));
    assert_eq!(run(r#"count_chars("héllo")"#).unwrap(), json!(5));
}

#[test]
fn slices_and_vecs_convert_from_arrays() {
    assert_eq!(run("total([1, 2, 3])").unwrap(), json!(6));
    assert_eq!(
        run(r#"let r = reverse_list(["a", "b"]); r[0] + r.len()"#).unwrap(),
        json!("b2")
    );
}

#[test]
fn maps_convert_both_ways() {
    assert_eq!(
        run("let m = invert(#{ one: 1, two: 2 }); m[\"2\"]").unwrap(),
        json!("two")
    );
}

#[test]
fn options_are_unit_in_scripts() {
    assert_eq!(run("maybe_double(4)").unwrap(), json!(8));
    assert_eq!(run("maybe_double(())").unwrap(), json!(null));
    assert_eq!(run("type_of(maybe_double(()))").unwrap(), json!("()"));
}

#[test]
fn tuples_convert_from_arrays() {
    assert_eq!(run(r#"swap_pair([1, "one"])"#).unwrap(), json!(["one", 1]));
}

#[test]
fn json_values_pass_through() {
    assert_eq!(
        run(r#"echo_json(#{ list: [1, "two", ()], flag: true })"#).unwrap(),
        json!({ "got": { "list": [1, "two", null], "flag": true } })
    );
}

#[test]
fn structs_are_object_maps_in_scripts() {
    assert_eq!(
        run("let m = midpoint(#{ x: 0, y: 0 }, #{ x: 2.0, y: 4 }); m.x + m.y").unwrap(),
        json!(3.0)
    );
}

#[test]
fn a_map_missing_a_field_is_an_argument_error() {
    let (param, message) = argument_error("midpoint(#{ x: 0 }, #{ x: 1, y: 1 })");
    assert_eq!(param, "a");
    assert_eq!(message, "missing field `y`");
}

#[test]
fn enums_use_serde_external_tagging() {
    assert_eq!(run(r#"area("Dot")"#).unwrap(), json!(0.0));
    assert_eq!(run("area(#{ Square: 3 })").unwrap(), json!(9.0));
    assert_eq!(
        run(
            "let s = grow(#{ Circle: #{ center: #{ x: 1, y: 1 }, radius: 1.5 } }); s.Circle.radius"
        )
        .unwrap(),
        json!(3.0)
    );
    assert_eq!(run(r#"grow("Dot")"#).unwrap(), json!({ "Square": 1.0 }));
}

#[test]
fn unit_returns_are_unit_in_scripts() {
    assert_eq!(run("type_of(nothing())").unwrap(), json!("()"));
    assert_eq!(run("type_of(explicit_unit())").unwrap(), json!("()"));
}

#[test]
fn a_returned_integer_beyond_i64_is_an_error_not_a_float() {
    match run("huge()") {
        Err(Error::Call(call)) => {
            assert_eq!(call.kind, CallErrorKind::Return);
            assert_eq!(
                call.message,
                "the return value has no script form: the integer 18446744073709551615 does not \
                 fit a script integer (i64)"
            );
        }
        other => panic!("expected a return error, got {other:?}"),
    }
}

#[test]
fn result_ok_is_the_value() {
    assert_eq!(run("checked_div(7, 2)").unwrap(), json!(3));
}

#[test]
fn a_script_final_value_without_json_form_is_an_error() {
    assert!(matches!(
        run(r#"Fn("shout")"#),
        Err(Error::ResultNotJson { .. })
    ));
    match run("[1, 0.0 / 0.0]") {
        Err(Error::ResultNotJson { message }) => {
            assert_eq!(message, "at [1]: the float NaN has no JSON form")
        }
        other => panic!("expected a result error, got {other:?}"),
    }
}

#[test]
fn deeply_nested_script_data_is_an_argument_error_not_a_crash() {
    let (param, message) = argument_error("let a = []; for i in 0..2000 { a = [a]; } echo_json(a)");
    assert_eq!(param, "value");
    assert_eq!(message, "the value is nested deeper than 128 levels");
}

#[test]
fn a_bridge_built_by_hand_converts_the_same_way() {
    let bridge = Bridge::new().unwrap();
    assert_eq!(bridge.run(r#"count_chars("abc")"#).unwrap(), json!(3));
}
