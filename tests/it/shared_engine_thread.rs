//! Scripts sharing one engine thread as fibers: their waits overlap, a busy script cannot starve
//! the others, and stops and deadlines reach a script while others hold the thread.
//!
//! Every bridge here has `max_engine_threads(1)`, so all its scripts are on one thread. Timing
//! bounds are generous (at least twice the ideal) and only prove overlap.

use bridge_runtime::{script_async, Bridge, Error, ScriptHandle};
use serde_json::json;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[script_async]
async fn doze(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[script_async]
async fn plus(a: i64, b: i64) -> i64 {
    a + b
}

fn one_thread_bridge() -> Arc<Bridge> {
    let bridge = Bridge::builder().max_engine_threads(1).build().unwrap();
    Arc::new(bridge)
}

#[test]
fn scripts_on_one_engine_thread_overlap_their_waits() {
    let bridge = one_thread_bridge();
    let started = Instant::now();
    let runs: Vec<_> = (0..3)
        .map(|i| {
            let bridge = bridge.clone();
            std::thread::spawn(move || bridge.run(format!("doze(100) + doze(100) + {i}")))
        })
        .collect();
    for (i, run) in runs.into_iter().enumerate() {
        assert_eq!(run.join().unwrap().unwrap(), json!(200 + i));
    }
    let elapsed = started.elapsed();
    // One after another: 600 ms. Overlapping: about 200 ms.
    assert!(elapsed < Duration::from_millis(450), "took {elapsed:?}");
    assert_eq!(bridge.engine_threads(), 1);
}

#[test]
fn quick_calls_of_interleaved_scripts_all_get_their_own_replies() {
    let bridge = one_thread_bridge();
    let runs: Vec<_> = (0..4)
        .map(|i| {
            let bridge = bridge.clone();
            std::thread::spawn(move || {
                bridge.run(format!(
                    "let s = 0; for n in 0..5000 {{ s = plus(s, {i} + 1) }} s"
                ))
            })
        })
        .collect();
    for (i, run) in runs.into_iter().enumerate() {
        assert_eq!(run.join().unwrap().unwrap(), json!(5000 * (i + 1)));
    }
}

/// Runs `script` on `bridge` from another thread; its outcome, or `None` after `limit`.
fn run_within(
    bridge: &Arc<Bridge>,
    script: &str,
    limit: Duration,
) -> Option<Result<serde_json::Value, Error>> {
    let (sender, outcome) = mpsc::channel();
    let (bridge, script) = (bridge.clone(), script.to_owned());
    std::thread::spawn(move || {
        let _ = sender.send(bridge.run(&script));
    });
    outcome.recv_timeout(limit).ok()
}

#[test]
fn a_busy_script_takes_turns_with_the_others_on_its_thread() {
    let bridge = one_thread_bridge();
    let busy = bridge.spawn("let n = 0; loop { n += 1; }");
    std::thread::sleep(Duration::from_millis(50));
    // Without time slices, the busy loop would hold the thread and this would never run.
    let outcome = run_within(&bridge, "doze(1) + plus(1, 2)", Duration::from_secs(10));
    assert_eq!(
        outcome.expect("starved by the busy script").unwrap(),
        json!(4)
    );
    busy.cancel();
    assert!(matches!(busy.join(), Err(Error::Cancelled)));
}

#[test]
fn a_deadline_ends_a_waiting_script_while_another_waits_beside_it() {
    let bridge = one_thread_bridge();
    let long = bridge.spawn("doze(10000)");
    std::thread::sleep(Duration::from_millis(20));
    let started = Instant::now();
    let outcome = bridge
        .script("doze(10000)")
        .timeout(Duration::from_millis(100))
        .run();
    assert!(matches!(outcome, Err(Error::Timeout { .. })), "{outcome:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    long.cancel();
    assert!(matches!(long.join(), Err(Error::Cancelled)));
}

#[test]
fn cancelling_one_waiting_script_leaves_its_neighbour_running() {
    let bridge = one_thread_bridge();
    let doomed = bridge.spawn("doze(10000)");
    let survivor = bridge.spawn("doze(150) + 1");
    std::thread::sleep(Duration::from_millis(20));
    let cancelled = Instant::now();
    doomed.cancel();
    assert!(matches!(doomed.join(), Err(Error::Cancelled)));
    assert!(cancelled.elapsed() < Duration::from_secs(2));
    assert_eq!(survivor.join().unwrap(), json!(151));
}

#[test]
fn dropping_the_bridge_ends_every_script_on_the_thread() {
    let bridge = Bridge::builder().max_engine_threads(1).build().unwrap();
    let waiting = bridge.spawn("doze(10000)");
    let busy = bridge.spawn("loop { }");
    std::thread::sleep(Duration::from_millis(50));
    let dropping = Instant::now();
    drop(bridge);
    assert!(
        dropping.elapsed() < Duration::from_secs(5),
        "{:?}",
        dropping.elapsed()
    );
    assert!(waiting.join().is_err());
    assert!(matches!(busy.join(), Err(Error::Shutdown)));
}

#[test]
fn more_engine_threads_spread_scripts_over_them() {
    let bridge = Arc::new(Bridge::builder().max_engine_threads(3).build().unwrap());
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| assert_eq!(bridge.run("doze(100)").unwrap(), json!(100)));
        }
    });
    assert_eq!(bridge.engine_threads(), 3);
}

/// The script's outcome, failing the test (instead of hanging it) if it takes over 10 s.
fn join_within(handle: ScriptHandle) -> Result<serde_json::Value, Error> {
    let started = Instant::now();
    while !handle.is_finished() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the script never ended: its engine thread missed a wake-up"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    handle.join()
}

/// Beyond a few dozen scripts a thread resumes only the scripts that were woken (by a reply, a
/// stop) or whose deadline came. Each way of ending a wait, with 100 scripts waiting beside it.
#[test]
fn among_a_hundred_waiting_scripts_replies_stops_deadlines_and_sleeps_each_reach_theirs() {
    let bridge = one_thread_bridge();
    let crowd: Vec<_> = (0..100).map(|_| bridge.spawn("doze(10000)")).collect();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();

    let replied = bridge.spawn("doze(50) + 1");
    let slept = bridge.spawn("sleep(0.05); 2");
    let doomed = bridge.spawn("doze(10000)");
    let late = bridge
        .script("doze(10000)")
        .timeout(Duration::from_millis(100))
        .spawn();
    std::thread::sleep(Duration::from_millis(20));
    doomed.cancel();

    assert_eq!(join_within(replied).unwrap(), json!(51));
    assert_eq!(join_within(slept).unwrap(), json!(2));
    assert!(matches!(join_within(doomed), Err(Error::Cancelled)));
    assert!(matches!(join_within(late), Err(Error::Timeout { .. })));
    // Ideal: 100 ms (the time limit); each ends within 2 s or the thread missed its wake-up.
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");

    // The crowd still waits; a stop reaches every one of them.
    for script in &crowd {
        assert!(!script.is_finished());
        script.cancel();
    }
    for script in crowd {
        assert!(matches!(join_within(script), Err(Error::Cancelled)));
    }
    // Down to one script again, the thread serves quick calls as before.
    assert_eq!(bridge.run("plus(40, 2)").unwrap(), json!(42));
}

/// Crossing the few-scripts line both ways while replies are in flight loses none of them.
#[test]
fn scripts_arriving_and_ending_across_the_polling_line_all_get_their_replies() {
    let bridge = one_thread_bridge();
    for round in 0..5 {
        let handles: Vec<_> = (0..60)
            .map(|i| {
                bridge.spawn(format!(
                    "let t = 0; for n in 0..20 {{ t += plus(n, {i}) }} t"
                ))
            })
            .collect();
        for (i, handle) in handles.into_iter().enumerate() {
            let expected = (0..20).sum::<i64>() + 20 * i as i64;
            assert_eq!(
                join_within(handle).unwrap(),
                json!(expected),
                "round {round}"
            );
        }
    }
}
