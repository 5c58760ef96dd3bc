//! Many scripts at once on one bridge, from async code.

use bridge_runtime::{script_async, Bridge};
use bridge_suite::observe::assert_registered_once;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[script_async]
async fn tick(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[test]
fn every_function_here_is_registered_once() {
    assert_registered_once(&["tick"]);
}

#[tokio::test(flavor = "current_thread")]
async fn scripts_256_at_once_each_awaiting_10ms_calls_run_concurrently() {
    let bridge = Arc::new(Bridge::new().unwrap());
    let started = Instant::now();
    let runs: Vec<_> = (0..256)
        .map(|i| {
            let bridge = bridge.clone();
            tokio::spawn(async move {
                bridge
                    .run_async(&format!(
                        "let t = 0; for n in 0..3 {{ t += tick(10) }} t + {i}"
                    ))
                    .await
            })
        })
        .collect();
    for (i, run) in runs.into_iter().enumerate() {
        assert_eq!(run.await.unwrap().unwrap(), json!(30 + i));
    }
    let elapsed = started.elapsed();
    // One by one: 256 × 30 ms ≈ 7.7 s. Together: ~30 ms plus starting the engine threads.
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_concurrency_bound_queues_the_rest() {
    let bridge = Arc::new(Bridge::builder().max_concurrent_scripts(4).build().unwrap());
    let started = Instant::now();
    let runs: Vec<_> = (0..12)
        .map(|_| {
            let bridge = bridge.clone();
            tokio::spawn(async move { bridge.run_async("tick(50)").await })
        })
        .collect();
    for run in runs {
        assert_eq!(run.await.unwrap().unwrap(), json!(50));
    }
    let elapsed = started.elapsed();
    // Three waves of four: at least 150 ms.
    assert!(elapsed >= Duration::from_millis(150), "took {elapsed:?}");
    assert!(bridge.engine_threads() <= 4);
}
