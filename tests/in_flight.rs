//! Several calls in flight from one script: start, wait, wait_all, wait_any.

use bridge_runtime::{script_async, Bridge, CallErrorKind, Error, ScriptContext};
use bridge_suite::observe::{assert_registered_once, DropCounter};
use serde_json::json;
use std::time::{Duration, Instant};

#[script_async]
async fn fetch(ms: u64, value: String) -> String {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    value
}

#[script_async]
async fn failing_fetch(ms: u64) -> Result<String, String> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Err(format!("failed after {ms} ms"))
}

#[script_async]
async fn guarded_wait(counter: ScriptContext<DropCounter>, ms: u64) -> u64 {
    let _guard = counter.guard();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

fn run(script: &str) -> Result<serde_json::Value, Error> {
    bridge_runtime::run(script)
}

#[test]
fn every_function_here_is_registered_once() {
    assert_registered_once(&["fetch", "failing_fetch", "guarded_wait"]);
}

#[test]
fn three_100ms_calls_started_together_finish_in_about_100ms() {
    let script = r#"
        let a = start(Fn("fetch"), [100, "a"]);
        let b = start(Fn("fetch"), [100, "b"]);
        let c = Fn("fetch").start([100, "c"]);
        [wait(a), wait(b), wait(c)]
    "#;
    let started = Instant::now();
    assert_eq!(run(script).unwrap(), json!(["a", "b", "c"]));
    let elapsed = started.elapsed();
    // One by one: 300 ms.
    assert!(elapsed < Duration::from_millis(250), "took {elapsed:?}");
}

#[test]
fn wait_all_returns_results_in_order() {
    let script = r#"
        let handles = [];
        for (ms, i) in [60, 10, 30] { handles.push(start(Fn("fetch"), [ms, `r${i}`])); }
        wait_all(handles)
    "#;
    let started = Instant::now();
    assert_eq!(run(script).unwrap(), json!(["r0", "r1", "r2"]));
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn wait_any_returns_the_first_to_finish_with_its_index() {
    let script = r#"
        let slow = start(Fn("fetch"), [400, "slow"]);
        let fast = start(Fn("fetch"), [10, "fast"]);
        wait_any([slow, fast])
    "#;
    assert_eq!(run(script).unwrap(), json!({ "index": 1, "value": "fast" }));
}

#[test]
fn an_error_surfaces_when_its_handle_is_waited_on_and_is_catchable() {
    let script = r#"
        let h = start(Fn("failing_fetch"), [5]);
        let before = "started without error";
        let caught = ();
        try { wait(h) } catch (err) { caught = err }
        [before, caught]
    "#;
    assert_eq!(
        run(script).unwrap(),
        json!([
            "started without error",
            { "function": "failing_fetch", "kind": "error", "message": "failed after 5 ms" }
        ])
    );
}

#[test]
fn an_uncaught_error_from_wait_all_ends_the_script_at_the_wait() {
    let script =
        "let h = [start(Fn(\"fetch\"), [1, \"ok\"]), start(Fn(\"failing_fetch\"), [1])];\n\
                  wait_all(h)";
    match run(script) {
        Err(Error::Call(call)) => {
            assert_eq!(call.function, "failing_fetch");
            assert_eq!(call.kind, CallErrorKind::Error);
            assert_eq!(call.position.line(), Some(2));
        }
        other => panic!("expected a call error, got {other:?}"),
    }
}

#[test]
fn argument_errors_are_raised_by_start_itself() {
    let caught =
        run(r#"let e = (); try { start(Fn("fetch"), ["x", "y"]) } catch (err) { e = err } e"#)
            .unwrap();
    assert_eq!(caught["kind"], json!("argument"));
    assert_eq!(caught["param"], json!("ms"));
    let caught =
        run(r#"let e = (); try { start(Fn("fetch"), [1]) } catch (err) { e = err } e"#).unwrap();
    assert_eq!(
        caught["message"],
        json!("fetch takes 2 argument(s), start() was given 1")
    );
}

#[test]
fn curried_arguments_come_first() {
    assert_eq!(
        run(r#"wait(Fn("fetch").curry(5).start(["curried"]))"#).unwrap(),
        json!("curried")
    );
}

#[test]
fn start_refuses_what_is_not_an_async_function() {
    let result = run(r#"fn local() { 1 } start(Fn("local"), [])"#);
    match result {
        Err(Error::Script { message, .. }) => {
            assert!(message.contains("`local` is not one"), "{message}")
        }
        other => panic!("expected a script error, got {other:?}"),
    }
}

#[test]
fn a_handle_can_be_waited_on_once() {
    let result = run(r#"let h = start(Fn("fetch"), [1, "x"]); wait(h); wait(h)"#);
    match result {
        Err(Error::Script { message, .. }) => {
            assert!(message.contains("already waited on"), "{message}")
        }
        other => panic!("expected a script error, got {other:?}"),
    }
}

#[test]
fn handles_never_waited_on_are_cancelled_when_the_script_ends() {
    let bridge = Bridge::new().unwrap();
    let counter = DropCounter::default();
    let started = Instant::now();
    let outcome = bridge
        // The second call gives the forgotten one time to start (and take its guard).
        .script(r#"let forgotten = start(Fn("guarded_wait"), [10000]); fetch(50, "done")"#)
        .context(counter.clone())
        .run()
        .unwrap();
    assert_eq!(outcome, json!("done"));
    counter.wait_for_drops(1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn cancelling_a_script_in_wait_any_ends_it() {
    let bridge = Bridge::new().unwrap();
    let counter = DropCounter::default();
    let handle = bridge
        .script(
            r#"wait_any([start(Fn("guarded_wait"), [10000]), start(Fn("guarded_wait"), [10000])])"#,
        )
        .context(counter.clone())
        .spawn();
    std::thread::sleep(Duration::from_millis(50));
    handle.cancel();
    assert_eq!(handle.join(), Err(Error::Cancelled));
    counter.wait_for_drops(2);
}
