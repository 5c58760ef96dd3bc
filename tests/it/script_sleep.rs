//! Rhai's `sleep` waits like a call: deadlines, cancellation, shutdown and the neighbours on its
//! engine thread are never held up by it. Bounds are generous: at least twice the ideal, far below
//! the sleeps that would otherwise run.

use bridge_runtime::{Bridge, Error, Limits};
use serde_json::json;
use std::time::{Duration, Instant};

const PROMPT: Duration = Duration::from_secs(2);

#[test]
fn sleep_waits_and_returns_unit() {
    let bridge = Bridge::new().unwrap();
    let started = Instant::now();
    assert_eq!(bridge.run("sleep(0.05); 7").unwrap(), json!(7));
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(
        bridge.run("sleep(-1); sleep(0); sleep(-0.5); 1").unwrap(),
        json!(1)
    );
}

#[test]
fn a_sleep_past_the_script_timeout_ends_at_the_deadline() {
    let bridge = Bridge::sandboxed()
        .limits(Limits::sandboxed().script_timeout(Duration::from_millis(200)))
        .build()
        .unwrap();
    let started = Instant::now();
    let outcome = bridge.run("sleep(20); 1");
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(
        outcome,
        Err(Error::Timeout {
            limit: Duration::from_millis(200)
        })
    );
}

#[test]
fn cancel_ends_a_sleep_of_a_billion_seconds() {
    let bridge = Bridge::new().unwrap();
    let handle = bridge.spawn("sleep(1000000000)");
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    handle.cancel();
    assert_eq!(handle.join(), Err(Error::Cancelled));
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
}

#[test]
fn a_sleep_too_long_for_a_duration_still_ends_on_cancel() {
    let bridge = Bridge::new().unwrap();
    let handle = bridge.spawn("sleep(1e300)");
    std::thread::sleep(Duration::from_millis(50));
    handle.cancel();
    assert_eq!(handle.join(), Err(Error::Cancelled));
}

#[test]
fn dropping_the_bridge_ends_a_sleeping_script_promptly() {
    let bridge = Bridge::new().unwrap();
    let handle = bridge.spawn("sleep(1000000000)");
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    drop(bridge);
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(handle.join(), Err(Error::Shutdown));
}

#[test]
fn a_sleeping_script_does_not_hold_up_its_neighbours_on_one_engine_thread() {
    let bridge = Bridge::builder().max_engine_threads(1).build().unwrap();
    let sleeper = bridge.spawn("sleep(5); 1");
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    assert_eq!(bridge.run("40 + 2").unwrap(), json!(42));
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(bridge.engine_threads(), 1);
    sleeper.cancel();
    assert_eq!(sleeper.join(), Err(Error::Cancelled));
}

#[test]
fn sleeping_scripts_beside_each_other_sleep_at_the_same_time() {
    let bridge = Bridge::builder().max_engine_threads(1).build().unwrap();
    let started = Instant::now();
    let handles: Vec<_> = (0..3)
        .map(|i| bridge.spawn(format!("sleep(0.2); {i}")))
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.join().unwrap(), json!(i));
    }
    // One after another would take 600 ms.
    assert!(
        started.elapsed() < Duration::from_millis(450),
        "took {:?}",
        started.elapsed()
    );
}
