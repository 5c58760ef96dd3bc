//! Many scripts at once: from several threads, and from async code without blocking it.
//!
//! Timing bounds are generous (at least twice the ideal) and only prove overlap: the one-by-one
//! time they must beat is far above them.

use bridge_runtime::{script_async, Bridge};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[script_async]
async fn nap(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[test]
fn scripts_from_several_threads_run_concurrently() {
    let bridge = Arc::new(Bridge::new().unwrap());
    let started = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let bridge = bridge.clone();
            std::thread::spawn(move || bridge.run("nap(250)"))
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap().unwrap(), json!(250));
    }
    let elapsed = started.elapsed();
    // One by one would take 1,000 ms; together, about 250 ms.
    assert!(elapsed < Duration::from_millis(600), "took {elapsed:?}");
}

#[test]
fn one_bridge_can_be_shared_by_reference_across_scoped_threads() {
    let bridge = Bridge::new().unwrap();
    std::thread::scope(|scope| {
        for i in 0..3 {
            let bridge = &bridge;
            scope.spawn(move || assert_eq!(bridge.run(format!("nap({i})")).unwrap(), json!(i)));
        }
    });
}

#[tokio::test(flavor = "current_thread")]
async fn run_async_works_on_a_current_thread_runtime_without_blocking_it() {
    let bridge = Bridge::new().unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let started = Instant::now();
    let (a, b) = tokio::join!(bridge.run_async("nap(200)"), bridge.run_async("nap(200)"));
    let elapsed = started.elapsed();
    ticker.abort();
    assert_eq!((a.unwrap(), b.unwrap()), (json!(200), json!(200)));
    assert!(elapsed < Duration::from_millis(400), "took {elapsed:?}");
    // The runtime's only thread kept serving other tasks while the scripts waited.
    assert!(
        ticks.load(Ordering::SeqCst) >= 5,
        "ticks: {}",
        ticks.load(Ordering::SeqCst)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_async_works_on_a_multi_thread_runtime() {
    let bridge = Arc::new(Bridge::new().unwrap());
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let bridge = bridge.clone();
            tokio::spawn(async move { bridge.run_async("nap(200)").await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), json!(200));
    }
    let elapsed = started.elapsed();
    // More scripts than runtime threads: one by one would take 1,600 ms.
    assert!(elapsed < Duration::from_millis(600), "took {elapsed:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn blocking_run_inside_a_runtime_does_not_panic() {
    // Blocking a runtime thread is the caller's choice; it must still work, not panic.
    let bridge = Bridge::new().unwrap();
    assert_eq!(bridge.run("nap(1)").unwrap(), json!(1));
}

#[test]
fn the_default_bridge_is_shared_across_threads() {
    let threads: Vec<_> = (0..4)
        .map(|i| std::thread::spawn(move || bridge_runtime::run(format!("nap({i}) + 1"))))
        .collect();
    for (i, thread) in threads.into_iter().enumerate() {
        assert_eq!(thread.join().unwrap().unwrap(), json!(i + 1));
    }
}

#[test]
fn bridge_and_error_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Bridge>();
    assert_send_sync::<bridge_runtime::Error>();
}

#[test]
fn min_engine_threads_start_with_the_bridge_and_stay() {
    let bridge = Bridge::builder()
        .min_engine_threads(3)
        .engine_idle_timeout(Duration::from_millis(20))
        .build()
        .unwrap();
    assert_eq!(bridge.engine_threads(), 3);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| assert_eq!(bridge.run("nap(30)").unwrap(), json!(30)));
        }
    });
    // Used at once by three scripts, no thread had to start; idle well past the timeout,
    // none retires below the minimum.
    assert_eq!(bridge.engine_threads(), 3);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(bridge.engine_threads(), 3);
}

#[test]
fn idle_engine_threads_above_the_minimum_retire() {
    let bridge = Arc::new(
        Bridge::builder()
            .max_engine_threads(3)
            .engine_idle_timeout(Duration::from_millis(20))
            .build()
            .unwrap(),
    );
    std::thread::scope(|scope| {
        for _ in 0..3 {
            let bridge = bridge.clone();
            scope.spawn(move || bridge.run("nap(30)").unwrap());
        }
    });
    assert!(bridge.engine_threads() >= 2, "{}", bridge.engine_threads());
    let deadline = Instant::now() + Duration::from_secs(5);
    while bridge.engine_threads() > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(bridge.engine_threads(), 1);
}
