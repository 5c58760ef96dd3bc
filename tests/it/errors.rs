//! How failures reach scripts (catchable error maps) and hosts (`Error` with position).

use bridge_runtime::{script_async, Bridge, CallErrorKind, Error, ScriptPosition};
use serde_json::json;
use std::time::Duration;

#[script_async]
async fn fail_with(message: String) -> Result<i64, String> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    Err(message)
}

#[derive(Debug)]
struct NotFound(i64);

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "user {} not found", self.0)
    }
}

impl std::error::Error for NotFound {}

/// The error type is neither `Send` nor `String`: only its `Display` crosses back.
#[script_async]
async fn find(id: i64) -> Result<String, Box<dyn std::error::Error>> {
    match id {
        1 => Ok("one".to_owned()),
        other => Err(Box::new(NotFound(other))),
    }
}

#[script_async]
async fn explode(after_ms: u64) -> i64 {
    tokio::time::sleep(Duration::from_millis(after_ms)).await;
    panic!("exploded after {after_ms} ms");
}

#[script_async]
async fn square(x: i64) -> i64 {
    x * x
}

fn call_error(result: Result<serde_json::Value, Error>) -> bridge_runtime::CallError {
    match result {
        Err(Error::Call(call)) => call,
        other => panic!("expected a call error, got {other:?}"),
    }
}

#[test]
fn err_from_async_fn_is_catchable_in_script() {
    let caught = bridge_runtime::run(
        r#"
        let caught = ();
        try { fail_with("disk full"); } catch (err) { caught = err; }
        caught
        "#,
    )
    .unwrap();
    assert_eq!(
        caught,
        json!({ "function": "fail_with", "kind": "error", "message": "disk full" })
    );
}

#[test]
fn uncaught_err_names_function_message_and_position() {
    let call = call_error(bridge_runtime::run(
        "let x = 1;\nlet y = fail_with(\"disk full\");",
    ));
    assert_eq!(call.function, "fail_with");
    assert_eq!(call.kind, CallErrorKind::Error);
    assert_eq!(call.message, "disk full");
    assert_eq!(call.position, ScriptPosition::new(2, 9));
    assert_eq!(
        Error::Call(call).to_string(),
        "fail_with failed: disk full (line 2, position 9)"
    );
}

#[test]
fn a_non_send_error_type_crosses_as_its_display() {
    assert_eq!(bridge_runtime::run("find(1)").unwrap(), json!("one"));
    let call = call_error(bridge_runtime::run("find(2)"));
    assert_eq!(call.message, "user 2 not found");
}

#[test]
fn panic_in_async_fn_is_catchable_and_the_bridge_keeps_serving() {
    let bridge = Bridge::new().unwrap();
    let caught = bridge
        .run("let e = (); try { explode(1) } catch (err) { e = err } e")
        .unwrap();
    assert_eq!(
        caught,
        json!({ "function": "explode", "kind": "panic", "message": "exploded after 1 ms" })
    );
    assert_eq!(bridge.run("square(12)").unwrap(), json!(144));
}

#[test]
fn uncaught_panic_ends_the_script_with_a_call_error() {
    let bridge = Bridge::new().unwrap();
    let call = call_error(bridge.run("explode(0); 1"));
    assert_eq!(call.kind, CallErrorKind::Panic);
    assert_eq!(
        Error::Call(call).to_string(),
        "explode panicked: exploded after 0 ms (line 1, position 1)"
    );
    assert_eq!(bridge.run("square(3)").unwrap(), json!(9));
}

#[test]
fn argument_error_is_catchable_and_names_the_parameter() {
    let caught =
        bridge_runtime::run(r#"let e = (); try { square("x") } catch (err) { e = err } e"#)
            .unwrap();
    assert_eq!(
        caught,
        json!({
            "function": "square",
            "kind": "argument",
            "param": "x",
            "message": "invalid type: string \"x\", expected i64",
        })
    );
}

#[test]
fn uncaught_argument_error_says_function_parameter_and_position() {
    let error = bridge_runtime::run("\n  square(())").unwrap_err();
    assert_eq!(
        error.to_string(),
        "square: bad argument `x`: invalid type: null, expected i64 (line 2, position 3)"
    );
}

#[test]
fn a_call_error_inside_a_script_function_keeps_its_own_position() {
    let call = call_error(bridge_runtime::run(
        "fn relay(m) {\n  fail_with(m)\n}\nrelay(\"deep\")",
    ));
    assert_eq!(call.message, "deep");
    assert_eq!(call.position, ScriptPosition::new(2, 3));
}

#[test]
fn syntax_errors_have_a_position() {
    match bridge_runtime::run("let x = ;") {
        Err(Error::Syntax { position, .. }) => assert_eq!(position, ScriptPosition::new(1, 9)),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn rhai_runtime_errors_have_a_position() {
    match bridge_runtime::run("let x = 1;\nno_such_function(x)") {
        Err(Error::Script { message, position }) => {
            assert!(message.contains("no_such_function"), "{message}");
            assert_eq!(position, ScriptPosition::new(2, 1));
        }
        other => panic!("expected a script error, got {other:?}"),
    }
}

#[test]
fn a_thrown_value_is_a_script_error() {
    match bridge_runtime::run(r#"throw "custom""#) {
        Err(Error::Script { message, .. }) => assert!(message.contains("custom"), "{message}"),
        other => panic!("expected a script error, got {other:?}"),
    }
}

#[test]
fn wrong_argument_count_is_function_not_found() {
    match bridge_runtime::run("square(1, 2)") {
        Err(Error::Script { message, .. }) => {
            assert!(
                message.starts_with("Function not found: square"),
                "{message}"
            )
        }
        other => panic!("expected a script error, got {other:?}"),
    }
}

#[test]
fn a_map_the_script_builds_in_the_shape_of_a_call_error_stays_a_script_error() {
    let forged = r#"throw #{ function: "explode", kind: "error", message: "forged" }"#;
    match bridge_runtime::run(forged) {
        Err(Error::Script { message, .. }) => assert!(message.contains("forged"), "{message}"),
        other => panic!("expected a plain script error, got {other:?}"),
    }
    // Even after a genuine error of the same function, a map with other content stays forged.
    let after_genuine = r#"
        try { explode(0) } catch (e) {}
        throw #{ function: "explode", kind: "panic", message: "forged" }
    "#;
    assert!(matches!(
        bridge_runtime::run(after_genuine),
        Err(Error::Script { .. })
    ));
}

#[test]
fn a_caught_call_error_thrown_again_is_still_the_call_error_at_the_throw() {
    let rethrown = "let err = (); try { explode(0) } catch (e) { err = e }\nthrow err;";
    match bridge_runtime::run(rethrown) {
        Err(Error::Call(call)) => {
            assert_eq!(call.function, "explode");
            assert_eq!(call.kind, CallErrorKind::Panic);
            assert_eq!(call.position.line(), Some(2));
        }
        other => panic!("expected the call error, got {other:?}"),
    }
}
