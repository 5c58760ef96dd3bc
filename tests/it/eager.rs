//! `#[script_async(eager)]`: polled once on the engine thread, handed over only if unfinished.

use bridge_runtime::{script_async, Bridge, CallErrorKind, Error, ScriptContext, State};
use bridge_suite::observe::DropCounter;
use serde_json::json;
use std::time::{Duration, Instant};

struct Config {
    greeting: String,
}

/// Finishes on its first poll: never crosses to the worker.
#[script_async(eager)]
async fn eager_add(a: i64, b: i64) -> i64 {
    a + b
}

/// Returns the name of the thread its first and last polls ran on.
#[script_async(eager)]
async fn eager_threads(sleep_ms: u64) -> (String, String) {
    let first = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_owned();
    if sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
    }
    let last = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_owned();
    (first, last)
}

#[script_async(eager)]
async fn eager_fail(after_ms: u64) -> Result<i64, String> {
    if after_ms > 0 {
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
    }
    Err(format!("failed after {after_ms} ms"))
}

#[script_async(eager)]
async fn eager_panic() -> i64 {
    panic!("eager panic")
}

#[script_async(eager)]
async fn eager_greet(config: State<Config>, name: String) -> String {
    format!("{}, {name}", config.greeting)
}

#[script_async(eager, timeout_ms = 50)]
async fn eager_guarded(counter: ScriptContext<DropCounter>, ms: u64) -> u64 {
    let _guard = counter.guard();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[script_async(eager)]
async fn eager_spawn(x: i64) -> Result<i64, String> {
    tokio::spawn(async move { x * 2 })
        .await
        .map_err(|e| e.to_string())
}

#[test]
fn a_ready_call_is_answered_on_the_engine_thread() {
    assert_eq!(bridge_runtime::run("eager_add(40, 2)").unwrap(), json!(42));
    assert_eq!(
        bridge_runtime::run("eager_threads(0)").unwrap(),
        json!(["bridge-engine", "bridge-engine"])
    );
}

#[test]
fn an_unfinished_call_moves_to_the_worker() {
    assert_eq!(
        bridge_runtime::run("eager_threads(5)").unwrap(),
        json!(["bridge-engine", "bridge-worker"])
    );
}

#[test]
fn errors_and_panics_are_the_same_catchable_errors_either_way() {
    for after in [0, 5] {
        let caught = bridge_runtime::run(format!(
            "let e = (); try {{ eager_fail({after}) }} catch (err) {{ e = err }} e"
        ))
        .unwrap();
        assert_eq!(
            caught,
            json!({ "function": "eager_fail", "kind": "error", "message": format!("failed after {after} ms") })
        );
    }
    match bridge_runtime::run("eager_panic()") {
        Err(Error::Call(call)) => {
            assert_eq!(call.kind, CallErrorKind::Panic);
            assert_eq!(call.message, "eager panic");
        }
        other => panic!("expected a panic error, got {other:?}"),
    }
    assert_eq!(bridge_runtime::run("eager_add(1, 1)").unwrap(), json!(2));
}

#[test]
fn state_reaches_eager_calls() {
    let bridge = Bridge::builder()
        .state(Config {
            greeting: "Hi".to_owned(),
        })
        .build()
        .unwrap();
    assert_eq!(
        bridge.run(r#"eager_greet("Ada")"#).unwrap(),
        json!("Hi, Ada")
    );
}

#[test]
fn the_worker_runtime_context_is_current_on_the_first_poll() {
    assert_eq!(bridge_runtime::run("eager_spawn(21)").unwrap(), json!(42));
}

#[test]
fn timeouts_apply_once_the_call_is_on_the_worker() {
    let counter = DropCounter::default();
    let bridge = Bridge::new().unwrap();
    let started = Instant::now();
    let result = bridge
        .script("eager_guarded(10000)")
        .context(counter.clone())
        .run();
    assert!(
        matches!(result, Err(Error::Call(ref c)) if c.kind == CallErrorKind::Timeout),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(counter.dropped(), 1);
}

#[test]
fn cancelling_drops_an_eager_call_waiting_on_the_worker() {
    let counter = DropCounter::default();
    let bridge = Bridge::builder().build().unwrap();
    let handle = bridge
        .script("eager_threads(10000)")
        .context(counter.clone())
        .spawn();
    std::thread::sleep(Duration::from_millis(50));
    handle.cancel();
    assert_eq!(handle.join(), Err(Error::Cancelled));
}

#[test]
fn start_and_wait_work_with_eager_functions() {
    let script = r#"
        let a = start(Fn("eager_threads"), [30]);
        let b = start(Fn("eager_add"), [1, 2]);
        [wait(a), wait(b)]
    "#;
    assert_eq!(
        bridge_runtime::run(script).unwrap(),
        json!([["bridge-worker", "bridge-worker"], 3])
    );
}
