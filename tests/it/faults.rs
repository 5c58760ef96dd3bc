//! Faults in functions and their types are that call's error; the worker and the engine threads
//! outlive every one of them. Scenarios that could take the process down run in a child process.

use bridge_runtime::{script_async, Bridge, CallErrorKind, Error, ScriptContext};
use bridge_suite::child::{assert_no_panic, in_child};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A panic payload whose own `Drop` panics.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("the panic payload panicked as it was dropped");
    }
}

#[script_async]
async fn panics_with_a_bad_payload() -> i64 {
    std::panic::panic_any(PanicsOnDrop)
}

#[script_async]
async fn answer() -> i64 {
    42
}

/// Deserializes by panicking.
#[derive(Serialize)]
struct ExplodesOnDeserialize;

impl<'de> Deserialize<'de> for ExplodesOnDeserialize {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        panic!("no deserializing this")
    }
}

/// Serializes by panicking.
#[derive(Deserialize)]
struct ExplodesOnSerialize;

impl Serialize for ExplodesOnSerialize {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("no serializing this")
    }
}

#[script_async]
async fn takes_exploding(_value: ExplodesOnDeserialize) -> i64 {
    1
}

#[script_async]
async fn returns_exploding() -> ExplodesOnSerialize {
    ExplodesOnSerialize
}

/// A future that never finishes and panics when dropped.
struct PanicsWhenCancelled;

impl std::future::Future for PanicsWhenCancelled {
    type Output = i64;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<i64> {
        std::task::Poll::Pending
    }
}

impl Drop for PanicsWhenCancelled {
    fn drop(&mut self) {
        panic!("dropped while pending");
    }
}

#[script_async(timeout_ms = 100)]
async fn hangs_and_panics_when_dropped() -> i64 {
    PanicsWhenCancelled.await
}

/// Holds the last handle to a bridge, to be let go inside one of that bridge's own calls.
struct LastHandle(Mutex<Option<Arc<Bridge>>>);

#[script_async]
async fn let_go_of_the_bridge(handle: ScriptContext<LastHandle>) -> i64 {
    tokio::time::sleep(Duration::from_millis(50)).await;
    let bridge = handle.0.lock().unwrap().take();
    drop(bridge);
    1
}

#[script_async]
async fn blocking_run_inside() -> String {
    match bridge_runtime::run("answer()") {
        Err(error) => error.to_string(),
        Ok(value) => format!("unexpectedly ran: {value}"),
    }
}

#[script_async]
async fn nested_run_async(bridge: ScriptContext<Arc<Bridge>>, x: i64) -> Result<i64, String> {
    let inner = bridge
        .run_async(&format!("answer() + {x}"))
        .await
        .map_err(|e| e.to_string())?;
    inner
        .as_i64()
        .ok_or_else(|| format!("not an integer: {inner}"))
}

/// Runs `call` in a script that catches its error, and returns the caught error map.
fn caught_error(bridge: &Bridge, call: &str) -> serde_json::Value {
    let script = format!("let caught = (); try {{ {call} }} catch (e) {{ caught = e }} caught");
    bridge.run(&script).unwrap()
}

#[test]
fn a_panic_whose_payload_panics_on_drop_is_the_calls_error_and_the_worker_lives_on() {
    const TEST: &str =
        "faults::a_panic_whose_payload_panics_on_drop_is_the_calls_error_and_the_worker_lives_on";
    in_child(TEST, || {
        let bridge = Bridge::new().unwrap();
        for _ in 0..3 {
            let caught = bridge
                .run("let caught = (); try { panics_with_a_bad_payload() } catch (e) { caught = e.kind } caught")
                .unwrap();
            assert_eq!(caught, json!("panic"));
            assert_eq!(bridge.run("answer()").unwrap(), json!(42));
        }
    });
}

#[test]
fn a_panicking_deserialize_of_an_argument_is_a_catchable_panic_naming_the_parameter() {
    let bridge = Bridge::new().unwrap();
    let caught = caught_error(&bridge, "takes_exploding(#{})");
    assert_eq!(caught["kind"], "panic");
    assert_eq!(caught["function"], "takes_exploding");
    assert_eq!(caught["param"], "_value");
    let message = caught["message"].as_str().unwrap();
    assert!(message.contains("no deserializing this"), "{message}");
    match bridge.run("takes_exploding(#{})") {
        Err(Error::Call(call)) => {
            assert_eq!(call.kind, CallErrorKind::Panic);
            assert_eq!(call.param.as_deref(), Some("_value"));
        }
        other => panic!("expected a call error, got {other:?}"),
    }
}

#[test]
fn a_panicking_serialize_of_a_return_value_is_a_catchable_panic() {
    let bridge = Bridge::new().unwrap();
    let caught = caught_error(&bridge, "returns_exploding()");
    assert_eq!(caught["kind"], "panic");
    assert_eq!(caught["function"], "returns_exploding");
    let message = caught["message"].as_str().unwrap();
    assert!(message.contains("no serializing this"), "{message}");
    assert_eq!(bridge.run("answer()").unwrap(), json!(42));
}

#[test]
fn a_future_that_panics_when_dropped_at_its_timeout_reports_the_timeout_and_the_panic() {
    let bridge = Bridge::new().unwrap();
    let caught = caught_error(&bridge, "hangs_and_panics_when_dropped()");
    assert_eq!(caught["kind"], "timeout");
    let message = caught["message"].as_str().unwrap();
    assert!(
        message.contains("100 ms") && message.contains("dropped while pending"),
        "{message}"
    );
    assert_eq!(bridge.run("answer()").unwrap(), json!(42));
}

#[test]
fn a_future_that_panics_when_its_script_is_cancelled_leaves_the_bridge_serving() {
    let bridge = Bridge::new().unwrap();
    let handle = bridge.spawn("hangs_and_panics_when_dropped()");
    std::thread::sleep(Duration::from_millis(20));
    handle.cancel();
    assert_eq!(handle.join(), Err(Error::Cancelled));
    assert_eq!(bridge.run("answer()").unwrap(), json!(42));
}

#[test]
fn the_last_bridge_handle_dropped_inside_its_own_call_shuts_it_down_without_a_panic() {
    const TEST: &str =
        "faults::the_last_bridge_handle_dropped_inside_its_own_call_shuts_it_down_without_a_panic";
    let output = in_child(TEST, || {
        let bridge = Arc::new(Bridge::new().unwrap());
        let holder = LastHandle(Mutex::new(Some(bridge.clone())));
        let handle = bridge
            .script("let_go_of_the_bridge()")
            .context(holder)
            .spawn();
        drop(bridge);
        let started = Instant::now();
        let outcome = handle.join();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            matches!(outcome, Ok(_) | Err(Error::Shutdown) | Err(Error::Call(_))),
            "{outcome:?}"
        );
    });
    output.iter().for_each(assert_no_panic);
}

#[test]
fn the_last_bridge_handle_dropped_on_an_engine_thread_shuts_it_down_without_a_panic() {
    const TEST: &str =
        "faults::the_last_bridge_handle_dropped_on_an_engine_thread_shuts_it_down_without_a_panic";
    let output = in_child(TEST, || {
        let bridge = Arc::new(Bridge::new().unwrap());
        // The script's context holds the last handle; the engine thread lets go of it when the
        // script ends.
        let handle = bridge
            .script("sleep(0.05); 1")
            .context(bridge.clone())
            .spawn();
        drop(handle);
        drop(bridge);
        std::thread::sleep(Duration::from_millis(300));
    });
    output.iter().for_each(assert_no_panic);
}

#[test]
fn a_blocking_run_inside_an_async_function_returns_an_error_at_once() {
    let started = Instant::now();
    let message = bridge_runtime::run("blocking_run_inside()").unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    let message = message.as_str().unwrap();
    assert!(
        message.contains("own thread") && message.contains("run_async"),
        "{message}"
    );
}

#[test]
fn run_async_awaited_inside_an_async_function_runs_a_script_with_calls() {
    let bridge = Arc::new(Bridge::new().unwrap());
    let outcome = bridge
        .script("nested_run_async(8)")
        .context(bridge.clone())
        .timeout(Duration::from_secs(5))
        .run();
    assert_eq!(outcome.unwrap(), json!(50));
}
