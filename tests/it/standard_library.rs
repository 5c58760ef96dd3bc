//! The bridge's checked versions of Rhai standard-library functions, and the sandbox's rules for
//! closures: the ordinary uses still work, the size-multiplying ones fail before they allocate.

use bridge_runtime::{Bridge, Error, Limits};
use serde_json::json;

fn script_error(result: Result<serde_json::Value, Error>) -> (String, Option<usize>) {
    match result {
        Err(Error::Script { message, position }) => (message, position.line()),
        other => panic!("expected a script error, got {other:?}"),
    }
}

#[test]
fn replace_works_as_in_rhai_for_every_argument_shape() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let script = r#"
        let a = "hello, world"; a.replace("l", "LL");
        let b = "hello"; b.replace("l", '*');
        let c = "hello"; c.replace('l', "()");
        let d = "hello"; d.replace('l', 'L');
        let e = "ab"; e.replace("", "-");
        let f = ""; f.replace("", "x");
        let g = "héllo"; g.replace("é", "e");
        [a, b, c, d, e, f, g]
    "#;
    assert_eq!(
        bridge.run(script).unwrap(),
        json!([
            "heLLLLo, worLLd",
            "he**o",
            "he()()o",
            "heLLo",
            "-a-b-",
            "",
            "hello"
        ])
    );
}

#[test]
fn a_replace_that_would_pass_max_string_size_fails_before_allocating() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let script = r#"let s = " "; s.pad(65536, " "); let t = s; s.replace(" ", t); s.len()"#;
    let started = std::time::Instant::now();
    let (message, line) = script_error(bridge.run(script));
    assert!(message.contains("Length of string"), "{message}");
    assert_eq!(line, Some(1));
    // Building the 4 GiB result took seconds; counting the matches takes microseconds.
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let empty_find = r#"let s = " "; s.pad(60000, " "); let t = "xx"; s.replace("", t); s.len()"#;
    let (message, _) = script_error(bridge.run(empty_find));
    assert!(message.contains("Length of string"), "{message}");
}

#[test]
fn a_replace_within_the_limit_may_still_grow_the_string() {
    let bridge = Bridge::builder()
        .limits(Limits::default().max_string_size(10))
        .build()
        .unwrap();
    assert_eq!(
        bridge
            .run(r#"let s = "aaaaa"; s.replace("a", "bb"); s"#)
            .unwrap(),
        json!("bbbbbbbbbb")
    );
    let (message, _) = script_error(bridge.run(r#"let s = "aaaaaa"; s.replace("a", "bb"); s"#));
    assert!(message.contains("Length of string"), "{message}");
}

#[test]
fn the_sandbox_refuses_a_closure_that_captures_a_variable_naming_it() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let (message, line) = script_error(bridge.run("let m = #{};\nlet f = || m;\nm.f = f;"));
    assert!(
        message.contains("captures the variable `m`") && message.contains("parameter"),
        "{message}"
    );
    assert_eq!(line, Some(2));
    // Inside a function body too.
    let (message, _) = script_error(bridge.run("fn make() { let n = 1; || n } make()"));
    assert!(message.contains("`n`"), "{message}");
}

#[test]
fn closures_that_capture_nothing_work_in_the_sandbox() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let script = "let double = |x| x * 2; [1, 2, 3].map(double).reduce(|sum, x| sum + x, 0)";
    assert_eq!(bridge.run(script).unwrap(), json!(12));
}

#[test]
fn the_default_bridge_allows_capturing_closures_and_the_sandbox_can_too() {
    let script = "let n = 40; let add = |x| x + n; add.call(2)";
    assert_eq!(Bridge::new().unwrap().run(script).unwrap(), json!(42));
    let bridge = Bridge::sandboxed()
        .limits(Limits::sandboxed().capturing_closures(true))
        .build()
        .unwrap();
    assert_eq!(bridge.run(script).unwrap(), json!(42));
}

#[test]
fn the_sandbox_bounds_variables_in_scope() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let many: String = (0..300).map(|i| format!("let v{i} = {i};\n")).collect();
    let (message, _) = script_error(bridge.run(&many));
    assert!(message.contains("variables"), "{message}");
    let few: String = (0..200).map(|i| format!("let v{i} = {i};\n")).collect();
    assert!(bridge.run(&few).is_ok());
}
