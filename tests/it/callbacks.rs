//! Callbacks: an async function taking a script function (`ScriptCallback`) and calling it while
//! its call is in flight, on the script's own engine thread. Time bounds are generous: at least
//! twice the ideal and far below what the stopped work would otherwise take.

use bridge_runtime::record::RecordAndReplay;
use bridge_runtime::{
    script_async, Bridge, CallErrorKind, CallbackErrorKind, Error, ScriptCallback,
};
use bridge_suite::child::in_child;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const PROMPT: Duration = Duration::from_secs(3);

/// Calls `attempt` until it succeeds, at most `times` times; fails with the last error.
#[script_async]
async fn cb_retry(times: i64, attempt: ScriptCallback) -> Result<i64, String> {
    let mut last = String::from("no attempt");
    for _ in 0..times {
        match attempt.call::<i64>(()).await {
            Ok(value) => return Ok(value),
            Err(error) => last = error.to_string(),
        }
    }
    Err(last)
}

/// Fails the first `failures` times it is called for `key`, then gives the number of calls.
#[script_async]
async fn cb_flaky(key: String, failures: i64) -> Result<i64, String> {
    static CALLS: Mutex<Vec<(String, i64)>> = Mutex::new(Vec::new());
    tokio::task::yield_now().await;
    let mut calls = CALLS.lock().unwrap();
    let count = match calls.iter_mut().find(|(k, _)| *k == key) {
        Some((_, count)) => {
            *count += 1;
            *count
        }
        None => {
            calls.push((key, 1));
            1
        }
    };
    if count <= failures {
        Err(format!("attempt {count} failed"))
    } else {
        Ok(count)
    }
}

/// Sums `f(i)` for `i` in `0..n`, one call after another.
#[script_async]
async fn cb_sum_calls(n: i64, f: ScriptCallback) -> Result<i64, String> {
    let mut sum = 0;
    for i in 0..n {
        sum += f.call::<i64>((i,)).await.map_err(|e| e.to_string())?;
    }
    Ok(sum)
}

/// Calls `f(i)` for `i` in `0..n`, all at once, and gives the results in order.
#[script_async]
async fn cb_join_all(n: i64, f: ScriptCallback) -> Result<Vec<i64>, String> {
    let calls = (0..n).map(|i| {
        let f = f.clone();
        async move { f.call::<i64>((i,)).await }
    });
    let results = futures_join_all(calls.collect()).await;
    results
        .into_iter()
        .map(|r| r.map_err(|e| e.to_string()))
        .collect()
}

/// `futures::future::join_all` in a few lines (the suite does not depend on `futures`): every
/// call as its own tokio task, so they really are in flight together.
async fn futures_join_all<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("the task finished"));
    }
    outputs
}

/// Doubles `x` after a moment: an async function a callback calls.
#[script_async]
async fn cb_double_later(x: i64) -> i64 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    x * 2
}

/// Calls `f` twice: reports how the first call failed, then what the second gave.
#[script_async]
async fn cb_try_twice(f: ScriptCallback) -> String {
    let first = match f.call::<i64>((1,)).await {
        Ok(value) => format!("ok {value}"),
        Err(error) => format!("{:?}: {}", error.kind(), error.message()),
    };
    let second = match f.call::<i64>((2,)).await {
        Ok(value) => format!("ok {value}"),
        Err(error) => format!("{:?}: {}", error.kind(), error.message()),
    };
    format!("{first}; {second}")
}

#[derive(Deserialize)]
struct Order {
    id: i64,
    items: Vec<String>,
    paid: bool,
}

/// Asks `make` for an order, a map converted to a struct.
#[script_async]
async fn cb_order_summary(make: ScriptCallback) -> Result<String, String> {
    let order: Order = make.call((7, "pen")).await.map_err(|e| e.to_string())?;
    Ok(format!(
        "{} {} {}",
        order.id,
        order.items.join("+"),
        order.paid
    ))
}

/// Asks `make` for an order, which it returns as the wrong type.
#[script_async]
async fn cb_order_kind(make: ScriptCallback) -> String {
    match make.call::<Order>(()).await {
        Ok(order) => format!("order {}", order.id),
        Err(error) => format!("{:?}: {error}", error.kind()),
    }
}

/// Calls `f` once and gives what it returned.
#[script_async]
async fn cb_apply(x: i64, f: ScriptCallback) -> Result<i64, String> {
    f.call::<i64>((x,)).await.map_err(|e| e.to_string())
}

/// An eager function taking a callback: sent to the worker as any call, its callback served.
#[script_async(eager)]
async fn cb_eager_apply(x: i64, f: ScriptCallback) -> Result<i64, String> {
    f.call::<i64>((x,)).await.map_err(|e| e.to_string())
}

/// Calls `f` once after sleeping `ms`.
#[script_async]
async fn cb_sleep_then_call(ms: u64, f: ScriptCallback) -> Result<i64, String> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    f.call::<i64>(()).await.map_err(|e| e.to_string())
}

/// Calls `f` once and waits for its answer (the scripts below give one that never comes).
#[script_async]
async fn cb_endless_wait(f: ScriptCallback) -> Result<i64, String> {
    f.call::<i64>(()).await.map_err(|e| e.to_string())
}

/// What the callbacks kept by `cb_keep_for_later` said when called after their call returned.
static LATE_OUTCOMES: Mutex<Vec<(String, CallbackErrorKind)>> = Mutex::new(Vec::new());
static LATE_DONE: AtomicUsize = AtomicUsize::new(0);

/// Keeps `f` in a spawned task that calls it after `ms`, and returns at once.
#[script_async]
async fn cb_keep_for_later(tag: String, ms: u64, f: ScriptCallback) -> i64 {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let outcome = f.call::<i64>(()).await;
        let kind = outcome.expect_err("a late callback cannot run").kind();
        LATE_OUTCOMES.lock().unwrap().push((tag, kind));
        LATE_DONE.fetch_add(1, Ordering::SeqCst);
    });
    1
}

/// Waits for the late callback of `tag` to report, for at most `limit`.
fn late_outcome(tag: &str, limit: Duration) -> Option<CallbackErrorKind> {
    let started = Instant::now();
    while started.elapsed() < limit {
        let outcomes = LATE_OUTCOMES.lock().unwrap();
        if let Some((_, kind)) = outcomes.iter().find(|(t, _)| t == tag) {
            return Some(*kind);
        }
        drop(outcomes);
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// A module's function taking a callback, for `Bridge::dispatch_json`.
#[script_async]
mod cb_hosted {
    use bridge_runtime::ScriptCallback;

    /// Calls `f` with `x`.
    pub async fn cb_hosted_apply(x: i64, f: ScriptCallback) -> Result<i64, String> {
        f.call::<i64>((x,)).await.map_err(|e| e.to_string())
    }
}

fn call_error(result: Result<serde_json::Value, Error>) -> bridge_runtime::CallError {
    match result {
        Err(Error::Call(call)) => call,
        other => panic!("expected a call error, got {other:?}"),
    }
}

#[test]
fn retry_calls_the_callback_until_the_flaky_call_in_it_succeeds() {
    let bridge = Bridge::new().unwrap();
    let value = bridge
        .run(r#"cb_retry(3, || cb_flaky("retry-ok", 2))"#)
        .unwrap();
    assert_eq!(value, json!(3), "two failures, then the third attempt");
    let error = call_error(bridge.run(r#"cb_retry(3, || cb_flaky("retry-fails", 5))"#));
    assert_eq!(error.function, "cb_retry");
    assert_eq!(error.kind, CallErrorKind::Error);
    assert_eq!(error.message, "the callback failed: attempt 3 failed");
}

#[test]
fn a_callback_called_a_thousand_times_in_a_loop_gives_every_result() {
    let bridge = Bridge::new().unwrap();
    let value = bridge.run("cb_sum_calls(1000, |i| i * 2)").unwrap();
    assert_eq!(value, json!(999 * 1000));
}

#[test]
fn a_callback_called_concurrently_answers_every_call() {
    let bridge = Bridge::new().unwrap();
    let value = bridge.run("cb_join_all(50, |i| i * i)").unwrap();
    let expected: Vec<i64> = (0..50).map(|i| i * i).collect();
    assert_eq!(value, json!(expected));
}

#[test]
fn a_callback_may_call_async_functions_even_concurrently() {
    let bridge = Bridge::new().unwrap();
    let value = bridge
        .run("[cb_apply(5, |x| cb_double_later(x) + 1), cb_join_all(8, |i| cb_double_later(i))]")
        .unwrap();
    assert_eq!(value, json!([11, [0, 2, 4, 6, 8, 10, 12, 14]]));
}

#[test]
fn a_callback_may_call_the_function_that_called_it() {
    let bridge = Bridge::new().unwrap();
    let value = bridge
        .run("cb_apply(1, |x| cb_apply(x + 1, |y| cb_apply(y * 10, |z| z + 3)))")
        .unwrap();
    assert_eq!(value, json!(23));
}

#[test]
fn a_callback_that_throws_is_an_err_the_function_handles_and_the_script_goes_on() {
    let bridge = Bridge::new().unwrap();
    let value = bridge
        .run(r#"let said = cb_try_twice(|x| if x == 1 { throw "first fails" } else { x * 21 }); [said, 1 + 1]"#)
        .unwrap();
    assert_eq!(value, json!(["Script: first fails; ok 42", 2]));
}

#[test]
fn a_failed_call_inside_a_callback_is_the_callbacks_error_by_its_message() {
    let bridge = Bridge::new().unwrap();
    let value = bridge
        .run(r#"cb_try_twice(|x| cb_flaky("inner-" + x, 1))"#)
        .unwrap();
    assert_eq!(
        value,
        json!("Script: attempt 1 failed; Script: attempt 1 failed")
    );
}

#[test]
fn a_callbacks_map_result_converts_to_a_struct() {
    let bridge = Bridge::new().unwrap();
    let value = bridge
        .run("cb_order_summary(|id, item| #{ id: id, items: [item, \"ink\"], paid: true })")
        .unwrap();
    assert_eq!(value, json!("7 pen+ink true"));
    let value = bridge.run(r#"cb_order_kind(|| "not an order")"#).unwrap();
    let text = value.as_str().unwrap();
    assert!(
        text.starts_with("Return: the callback's result is not the type expected"),
        "{text}"
    );
}

#[test]
fn a_number_where_a_callback_is_expected_is_an_argument_error_naming_function_and_param() {
    let bridge = Bridge::new().unwrap();
    let error = call_error(bridge.run("cb_apply(1, 2)"));
    assert_eq!(error.function, "cb_apply");
    assert_eq!(error.kind, CallErrorKind::Argument);
    assert_eq!(error.param.as_deref(), Some("f"));
    assert_eq!(
        error.message,
        "expected a function (a closure such as `|x| x + 1`, or `Fn(\"name\")`), got a value \
         of type `i64`"
    );
    let caught = bridge
        .run("let c = (); try { cb_apply(1, \"x\") } catch (e) { c = [e.kind, e.param] } c")
        .unwrap();
    assert_eq!(caught, json!(["argument", "f"]));
}

#[test]
fn a_deadline_ends_a_script_whose_function_waits_before_calling_back() {
    let bridge = Bridge::new().unwrap();
    let started = Instant::now();
    let result = bridge
        .script("cb_sleep_then_call(10000, || 1)")
        .timeout(Duration::from_millis(200))
        .run();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(bridge.run("cb_apply(2, |x| x)").unwrap(), json!(2));
}

#[test]
fn a_deadline_ends_a_callback_in_an_endless_loop() {
    let bridge = Bridge::new().unwrap();
    let started = Instant::now();
    let result = bridge
        .script("cb_endless_wait(|| { let i = 0; loop { i += 1; } })")
        .timeout(Duration::from_millis(200))
        .run();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
}

#[test]
fn cancel_ends_a_script_while_its_callback_loops_or_its_function_waits() {
    let bridge = Bridge::new().unwrap();
    for script in [
        "cb_endless_wait(|| { let i = 0; loop { i += 1; } })",
        "cb_sleep_then_call(10000, || 1)",
    ] {
        let handle = bridge.spawn(script);
        std::thread::sleep(Duration::from_millis(100));
        assert!(!handle.is_finished(), "{script}");
        let started = Instant::now();
        handle.cancel();
        assert_eq!(handle.join(), Err(Error::Cancelled), "{script}");
        assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    }
    assert_eq!(bridge.run("cb_apply(3, |x| x)").unwrap(), json!(3));
}

#[test]
fn a_function_taking_a_callback_cannot_be_started() {
    let bridge = Bridge::new().unwrap();
    let caught = bridge
        .run("let c = (); try { start(Fn(\"cb_apply\"), [1, |x| x]) } catch (e) { c = [e.function, e.kind, e.param, e.message] } c")
        .unwrap();
    let message = caught[3].as_str().unwrap();
    assert_eq!(
        [&caught[0], &caught[1], &caught[2]],
        [&json!("cb_apply"), &json!("argument"), &json!("f")]
    );
    assert!(message.contains("cannot be started"), "{message}");
}

#[test]
fn a_bridge_that_records_or_mocks_refuses_a_call_taking_a_callback_clearly() {
    let bridge = Bridge::builder()
        .mock("cb_double_later", |_| Ok(json!(0)))
        .build()
        .unwrap();
    let error = call_error(bridge.run("cb_apply(1, |x| x)"));
    assert_eq!(error.kind, CallErrorKind::Recording);
    assert!(
        error.message.contains("takes a callback"),
        "{}",
        error.message
    );
    assert_eq!(bridge.run("cb_double_later(4)").unwrap(), json!(0));
    let recording = Bridge::builder().record(std::io::sink()).build().unwrap();
    let error = call_error(recording.run("cb_apply(1, |x| x)"));
    assert_eq!(error.kind, CallErrorKind::Recording);
    assert_eq!(error.param.as_deref(), Some("f"));
    assert!(
        error.message.contains("takes a callback"),
        "{}",
        error.message
    );
}

#[test]
fn a_callback_kept_past_its_call_is_a_clear_error_not_a_hang() {
    let bridge = Bridge::new().unwrap();
    // The call returns at once; its callback is called 50 ms later, while the script sleeps.
    let value = bridge
        .run("let one = cb_keep_for_later(\"during\", 50, || 5); sleep(0.3); one")
        .unwrap();
    assert_eq!(value, json!(1));
    assert_eq!(
        late_outcome("during", PROMPT),
        Some(CallbackErrorKind::CallReturned)
    );
}

#[test]
fn sandboxed_a_callback_called_after_its_script_ended_is_a_clear_error() {
    let bridge = Bridge::sandboxed().build().unwrap();
    assert_eq!(
        bridge
            .run("cb_keep_for_later(\"after\", 100, || 5)")
            .unwrap(),
        json!(1)
    );
    assert_eq!(
        late_outcome("after", PROMPT),
        Some(CallbackErrorKind::CallReturned)
    );
}

#[test]
fn sandboxed_fn_pointers_and_plain_closures_work() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let value = bridge
        .run("fn triple(x) { x * 3 } [cb_apply(2, Fn(\"triple\")), cb_apply(2, |x| x + 1), cb_sum_calls(4, Fn(\"triple\"))]")
        .unwrap();
    assert_eq!(value, json!([6, 3, 18]));
}

#[test]
fn sandboxed_a_capturing_closure_is_refused() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let result = bridge.run("let k = 10; cb_apply(2, |x| x + k)");
    let text = result.unwrap_err().to_string();
    assert!(
        text.contains("this closure captures the variable `k`"),
        "{text}"
    );
}

#[test]
fn sandboxed_a_callback_recursing_through_its_function_ends_at_the_call_depth_limit() {
    in_child(
        "callbacks::sandboxed_a_callback_recursing_through_its_function_ends_at_the_call_depth_limit",
        || {
            let bridge = Bridge::sandboxed().build().unwrap();
            let script = r#"
                fn down(n) { cb_apply(n + 1, Fn("down")) }
                let caught = ();
                try { down(0) } catch (e) { caught = e }
                caught
            "#;
            let started = Instant::now();
            // Rhai's call-depth limit (the sandbox keeps it small) stops the recursion. A limit
            // is never catchable by a script, and a callback does not make it so: each level's
            // function is told its callback failed, and the script ends with the limit's error.
            let error = bridge.run(script).unwrap_err();
            let text = error.to_string();
            assert!(matches!(error, Error::Script { .. }), "{error:?}");
            assert!(text.contains("Stack overflow"), "{text}");
            assert!(started.elapsed() < Duration::from_secs(30));
            assert_eq!(bridge.run("cb_apply(3, |x| x)").unwrap(), json!(3));
        },
    );
}

#[test]
fn dispatching_a_function_taking_a_callback_says_callbacks_need_a_script() {
    let bridge = Bridge::new().unwrap();
    let error = bridge
        .dispatch_json::<cb_hosted::CbHostedCommand>(json!({
            "function": "cb_hosted_apply",
            "arguments": { "x": 1, "f": "|x| x" },
        }))
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("a callback is a script function, so it needs a script"),
        "{text}"
    );
    assert_eq!(
        bridge.run("cb_hosted_apply(4, |x| x * 2)").unwrap(),
        json!(8)
    );
}

#[test]
fn an_eager_function_taking_a_callback_runs_it() {
    let bridge = Bridge::new().unwrap();
    assert_eq!(
        bridge.run("cb_eager_apply(4, |x| x + 1)").unwrap(),
        json!(5)
    );
}

#[test]
fn a_callback_past_the_operation_limit_ends_the_script_and_cannot_be_caught() {
    let bridge = Bridge::builder()
        .limits(bridge_runtime::Limits::default().max_operations(10_000))
        .build()
        .unwrap();
    let result = bridge.run(
        "let r = (); try { r = cb_apply(1, |x| { let i = 0; loop { i += 1; } }) } catch (e) { r = e } r",
    );
    let text = result.unwrap_err().to_string();
    assert!(text.contains("Too many operations"), "{text}");
    assert_eq!(bridge.run("cb_apply(6, |x| x)").unwrap(), json!(6));
}

#[test]
fn a_callback_parameter_is_typed_fn_in_signatures_and_definitions() {
    let apply = bridge_runtime::registry::registered_functions()
        .into_iter()
        .find(|function| function.name() == "cb_apply")
        .expect("cb_apply is registered");
    assert_eq!(apply.signature(), "cb_apply(x: int, f: Fn) -> int");
    assert_eq!(apply.params()[1].rust_type(), "ScriptCallback");
    let definitions = Bridge::new().unwrap().definitions().unwrap();
    let text = definitions.single_file();
    assert!(
        text.contains("fn cb_apply(x: int, f: Fn) -> int;"),
        "{text}"
    );
}

#[test]
fn scripts_sharing_one_engine_thread_each_serve_their_own_callbacks() {
    let bridge = Bridge::builder()
        .max_engine_threads(1)
        .spin_wait(false)
        .build()
        .unwrap();
    let handles: Vec<_> = (0..20)
        .map(|k| bridge.spawn(format!("cb_sum_calls(20, |i| cb_double_later(i) + {k})")))
        .collect();
    for (k, handle) in handles.into_iter().enumerate() {
        let expected = (0..20).map(|i| i * 2 + k as i64).sum::<i64>();
        assert_eq!(handle.join().unwrap(), json!(expected), "script {k}");
    }
}
