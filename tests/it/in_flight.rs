//! Several calls in flight from one script: start, wait, wait_all, wait_any.

use bridge_runtime::{script_async, Bridge, CallErrorKind, Error, Limits, ScriptContext};
use bridge_suite::observe::DropCounter;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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

#[test]
fn one_start_past_max_calls_in_flight_raises_a_catchable_limit_error() {
    let bridge = Bridge::builder()
        .limits(Limits::default().max_calls_in_flight(3))
        .build()
        .unwrap();
    let script = r#"
        let handles = [];
        for i in 0..3 { handles.push(start(Fn("fetch"), [1, `v${i}`])); }
        let refused = ();
        try { start(Fn("fetch"), [1, "v3"]); } catch (e) { refused = [e.kind, e.function, e.message]; }
        [refused, wait_all(handles)]
    "#;
    let outcome = bridge.run(script).unwrap();
    assert_eq!(outcome[0][0], "limit");
    assert_eq!(outcome[0][1], "fetch");
    let message = outcome[0][2].as_str().unwrap();
    assert!(
        message.contains("3 calls in flight") && message.contains("max_calls_in_flight"),
        "{message}"
    );
    assert_eq!(outcome[1], json!(["v0", "v1", "v2"]));
}

#[test]
fn a_waited_handle_frees_its_place_at_once_and_a_dropped_one_when_its_call_ends() {
    let bridge = Bridge::builder()
        .limits(Limits::default().max_calls_in_flight(2))
        .build()
        .unwrap();
    let script = r#"
        let total = 0;
        for round in 0..5 {
            let a = start(Fn("fetch"), [1, "a"]);
            let b = start(Fn("fetch"), [1, "b"]);
            wait(a);
            total += 1;
            // b's handle is dropped with this block; its call ends long before the next round.
            sleep(0.05);
        }
        let dropped_early = start(Fn("fetch"), [2000, "slow"]);
        dropped_early = ();
        let refused = ();
        try { start(Fn("fetch"), [1, "x"]); start(Fn("fetch"), [1, "y"]); } catch (e) { refused = e.kind; }
        [total, refused]
    "#;
    assert_eq!(bridge.run(script).unwrap(), json!([5, "limit"]));
}

/// What `counted_wait` calls saw: how many started, and drop guards for the ones that did.
#[derive(Default)]
struct CallCount {
    started: AtomicUsize,
    dropped: DropCounter,
}

#[script_async]
async fn counted_wait(count: ScriptContext<Arc<CallCount>>, ms: u64) -> u64 {
    count.started.fetch_add(1, Ordering::SeqCst);
    let _guard = count.dropped.guard();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[test]
fn a_sandboxed_loop_of_start_stops_at_the_limit_and_its_calls_are_dropped() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let count = Arc::new(CallCount::default());
    let started = Instant::now();
    let outcome = bridge
        .script("loop { start(Fn(\"counted_wait\"), [10000]); }")
        .context(count.clone())
        .run();
    match outcome {
        Err(Error::Call(call)) => {
            assert_eq!(call.kind, CallErrorKind::Limit);
            assert_eq!(call.function, "counted_wait");
        }
        other => panic!("expected the limit error, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    // At most the 64 calls the sandbox allows reached the function (none may have, if the script
    // ended before the worker took them), and each that did ends with the script.
    let reached = count.started.load(Ordering::SeqCst);
    assert!(reached <= 64, "{reached} calls started");
    count.dropped.wait_for_drops(reached);
}

thread_local! {
    /// A script value a host hook keeps past its script's end (see the test below).
    static STASHED: std::cell::RefCell<Option<bridge_runtime::rhai::Dynamic>> =
        const { std::cell::RefCell::new(None) };
}

#[test]
fn a_handle_kept_past_its_scripts_end_says_so_when_waited_on() {
    let bridge = Bridge::builder()
        .max_engine_threads(1)
        .configure_engine(|engine| {
            engine.register_fn("stash", |value: bridge_runtime::rhai::Dynamic| {
                STASHED.with(|stashed| *stashed.borrow_mut() = Some(value));
            });
            engine.register_fn("unstash", || {
                STASHED.with(|stashed| stashed.borrow_mut().take().unwrap_or_default())
            });
        })
        .build()
        .unwrap();
    let first = r#"stash(start(Fn("fetch"), [2000, "late"])); 1"#;
    assert_eq!(bridge.run(first).unwrap(), 1);
    let error = bridge.run("wait(unstash())").unwrap_err();
    let Error::Script { message, .. } = &error else {
        panic!("expected a script error, got {error:?}")
    };
    assert!(
        message.contains("belongs to a script that has ended"),
        "{message}"
    );
}
