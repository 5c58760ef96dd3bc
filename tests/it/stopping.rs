//! Time limits and cancellation: calls and scripts end promptly, and their futures are dropped
//! (seen through drop guards, not assumed). Bounds are generous: each is at least twice the
//! ideal and far below the 10 s the stopped work would otherwise take.

use bridge_runtime::{script_async, Bridge, CallErrorKind, Error, Limits, ScriptContext};
use bridge_suite::observe::DropCounter;
use serde_json::json;
use std::time::{Duration, Instant};

/// Sleeps while holding a guard from the script's drop counter.
#[script_async]
async fn guarded_sleep(counter: ScriptContext<DropCounter>, ms: u64) -> u64 {
    let _guard = counter.guard();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

/// Like `guarded_sleep`, with its own 100 ms limit.
#[script_async(timeout_ms = 100)]
async fn impatient_sleep(counter: ScriptContext<DropCounter>, ms: u64) -> u64 {
    let _guard = counter.guard();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[script_async]
async fn quick() -> i64 {
    1
}

const PROMPT: Duration = Duration::from_secs(2);

/// Runs a script whose one call would sleep 10 s holding a guard: its outcome, how long it took,
/// and the counter that shows whether the sleeping future was dropped.
fn run_long_sleep(bridge: &Bridge) -> (Result<serde_json::Value, Error>, Duration, DropCounter) {
    let counter = DropCounter::default();
    let started = Instant::now();
    let result = bridge
        .script("guarded_sleep(10000)")
        .context(counter.clone())
        .run();
    (result, started.elapsed(), counter)
}

#[test]
fn a_call_past_the_bridge_call_timeout_is_dropped_and_raises_a_timeout() {
    let bridge = Bridge::builder()
        .limits(Limits::default().call_timeout(Duration::from_millis(100)))
        .build()
        .unwrap();
    let (result, elapsed, counter) = run_long_sleep(&bridge);
    assert!(elapsed < PROMPT, "took {elapsed:?}");
    match result {
        Err(Error::Call(call)) => {
            assert_eq!(call.kind, CallErrorKind::Timeout);
            assert_eq!(call.message, "the call did not finish within 100 ms");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    counter.wait_for_drops(1);
}

#[test]
fn a_call_timeout_is_catchable_and_the_script_goes_on() {
    let bridge = Bridge::new().unwrap();
    let outcome = bridge
        .script("let k = (); try { impatient_sleep(10000) } catch (e) { k = e.kind } [k, quick()]")
        .context(DropCounter::default())
        .run()
        .unwrap();
    assert_eq!(outcome, json!(["timeout", 1]));
}

#[test]
fn a_function_timeout_overrides_the_bridge_default() {
    let bridge = Bridge::builder()
        .limits(Limits::default().call_timeout(Duration::from_secs(30)))
        .build()
        .unwrap();
    let started = Instant::now();
    let result = bridge
        .script("impatient_sleep(10000)")
        .context(DropCounter::default())
        .run();
    assert!(matches!(result, Err(Error::Call(ref c)) if c.kind == CallErrorKind::Timeout));
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
}

#[test]
fn a_script_past_its_deadline_ends_promptly_while_blocked_on_a_call() {
    let bridge = Bridge::builder()
        .limits(Limits::default().script_timeout(Duration::from_millis(200)))
        .build()
        .unwrap();
    let (result, elapsed, counter) = run_long_sleep(&bridge);
    assert_eq!(
        result,
        Err(Error::Timeout {
            limit: Duration::from_millis(200)
        })
    );
    assert!(
        elapsed >= Duration::from_millis(200),
        "ended early: {elapsed:?}"
    );
    assert!(elapsed < PROMPT, "took {elapsed:?}");
    counter.wait_for_drops(1);
    assert_eq!(
        Error::Timeout {
            limit: Duration::from_millis(200)
        }
        .to_string(),
        "the script did not finish within its time limit of 200 ms"
    );
}

#[test]
fn a_script_past_its_deadline_ends_even_in_a_busy_loop() {
    let bridge = Bridge::builder()
        .limits(Limits::default().script_timeout(Duration::from_millis(200)))
        .build()
        .unwrap();
    let started = Instant::now();
    let result = bridge.run("let i = 0; loop { i += 1; }");
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
}

#[test]
fn a_deadline_cannot_be_caught_by_the_script() {
    let bridge = Bridge::new().unwrap();
    let result = bridge
        .script("try { guarded_sleep(10000) } catch (e) { 0 }")
        .context(DropCounter::default())
        .timeout(Duration::from_millis(100))
        .run();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
}

#[test]
fn cancelling_a_script_blocked_on_a_call_ends_it_at_once_and_drops_the_call() {
    let bridge = Bridge::new().unwrap();
    let counter = DropCounter::default();
    let handle = bridge
        .script("guarded_sleep(10000)")
        .context(counter.clone())
        .spawn();
    std::thread::sleep(Duration::from_millis(100));
    assert!(!handle.is_finished());
    let started = Instant::now();
    handle.cancel();
    assert_eq!(handle.join(), Err(Error::Cancelled));
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    counter.wait_for_drops(1);
    assert_eq!(bridge.run("quick()").unwrap(), json!(1));
}

#[test]
fn cancelling_a_busy_script_ends_it() {
    let bridge = Bridge::new().unwrap();
    let handle = bridge.spawn("let i = 0; loop { i += 1; }");
    std::thread::sleep(Duration::from_millis(50));
    // Cancelled from another thread than the one that started it.
    let canceller = std::thread::spawn(move || {
        handle.cancel();
        handle.join()
    });
    assert_eq!(canceller.join().unwrap(), Err(Error::Cancelled));
}

#[test]
fn cancelling_a_finished_script_changes_nothing() {
    let bridge = Bridge::new().unwrap();
    let handle = bridge.spawn("quick()");
    while !handle.is_finished() {
        std::thread::sleep(Duration::from_millis(1));
    }
    handle.cancel();
    assert_eq!(handle.join().unwrap(), json!(1));
}

#[tokio::test]
async fn a_script_handle_is_a_future() {
    let bridge = Bridge::new().unwrap();
    let handle = bridge
        .script("guarded_sleep(20)")
        .context(DropCounter::default())
        .spawn();
    assert_eq!(handle.await.unwrap(), json!(20));
}

#[tokio::test]
async fn dropping_the_run_async_future_cancels_the_script() {
    let bridge = Bridge::new().unwrap();
    let counter = DropCounter::default();
    let run = bridge
        .script("guarded_sleep(10000)")
        .context(counter.clone())
        .run_async();
    let started = Instant::now();
    assert!(tokio::time::timeout(Duration::from_millis(100), run)
        .await
        .is_err());
    tokio::task::spawn_blocking(move || counter.wait_for_drops(1))
        .await
        .unwrap();
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
}

#[test]
fn dropping_the_bridge_ends_running_and_queued_scripts_with_an_outcome() {
    let bridge = Bridge::builder().max_concurrent_scripts(1).build().unwrap();
    let counter = DropCounter::default();
    let running = bridge
        .script("guarded_sleep(10000)")
        .context(counter.clone())
        .spawn();
    let busy = bridge.spawn("let i = 0; loop { i += 1; }");
    let queued = bridge.spawn("quick()");
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    drop(bridge);
    assert!(
        started.elapsed() < PROMPT,
        "drop took {:?}",
        started.elapsed()
    );
    for handle in [running, busy, queued] {
        let outcome = handle.join();
        assert!(
            matches!(
                outcome,
                Err(Error::Shutdown)
                    | Err(Error::Call(bridge_runtime::CallError {
                        kind: CallErrorKind::Shutdown,
                        ..
                    }))
            ),
            "{outcome:?}"
        );
    }
    counter.wait_for_drops(1);
}

/// A bridge that runs one script at a time, busy with a script that sleeps until cancelled.
fn bridge_with_one_busy_place() -> (Bridge, bridge_runtime::ScriptHandle) {
    let bridge = Bridge::builder().max_concurrent_scripts(1).build().unwrap();
    let busy = bridge.spawn("sleep(1000); 1");
    (bridge, busy)
}

#[test]
fn a_queued_script_times_out_at_its_own_deadline_counted_from_submission() {
    let (bridge, busy) = bridge_with_one_busy_place();
    let started = Instant::now();
    let queued = bridge
        .script("40 + 2")
        .timeout(Duration::from_millis(100))
        .spawn();
    assert_eq!(
        queued.join(),
        Err(Error::Timeout {
            limit: Duration::from_millis(100)
        })
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1000), "took {elapsed:?}");
    // The busy script was not disturbed, and the queue still serves.
    assert!(!busy.is_finished());
    let next = bridge.spawn("1 + 1");
    busy.cancel();
    assert_eq!(busy.join(), Err(Error::Cancelled));
    assert_eq!(next.join().unwrap(), json!(2));
}

#[test]
fn cancelling_a_queued_script_ends_it_at_once() {
    let (bridge, busy) = bridge_with_one_busy_place();
    let queued = bridge.spawn("40 + 2");
    let behind = bridge.spawn("2 + 2");
    std::thread::sleep(Duration::from_millis(20));
    let started = Instant::now();
    queued.cancel();
    assert_eq!(queued.join(), Err(Error::Cancelled));
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert!(!behind.is_finished(), "the script behind it still waits");
    assert!(!busy.is_finished(), "the running script was not disturbed");
    busy.cancel();
    assert_eq!(busy.join(), Err(Error::Cancelled));
    assert_eq!(behind.join().unwrap(), json!(4));
}
