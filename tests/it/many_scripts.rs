//! Many scripts at once on one bridge, from async code.

use bridge_runtime::{script_async, Bridge, Error};
use bridge_suite::child::in_child;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[script_async]
async fn tick(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

/// Scripts holding at [`hold`] until the test lets them go.
static HOLDING: AtomicUsize = AtomicUsize::new(0);
static RELEASED: AtomicBool = AtomicBool::new(false);
static RELEASE: tokio::sync::Notify = tokio::sync::Notify::const_new();

#[script_async]
async fn hold() {
    let released = RELEASE.notified();
    tokio::pin!(released);
    released.as_mut().enable();
    HOLDING.fetch_add(1, Ordering::SeqCst);
    if !RELEASED.load(Ordering::SeqCst) {
        released.await;
    }
}

/// Each running script's stack is two memory mappings, and Linux allows a process
/// `vm.max_map_count` of them: past that, every `mmap` fails, the allocator's too, and the
/// process aborts. The bridge stops short of it with an error that says so; the scripts already
/// running are unharmed, and once they end new scripts start again. In a child process: if the
/// ceiling were missed, it would be the child that dies.
#[test]
fn scripts_past_the_memory_mapping_ceiling_fail_to_start_with_a_clear_error() {
    const TEST: &str =
        "many_scripts::scripts_past_the_memory_mapping_ceiling_fail_to_start_with_a_clear_error";
    let max_map_count: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .map_or(65_530, |text| text.trim().parse().unwrap());
    // Half the mappings are more stacks than the bridge allows itself; a machine that allows
    // far more than Linux's default would need too many scripts to reach its ceiling.
    let scripts = max_map_count / 2 + 100;
    assert!(
        scripts <= 200_000,
        "vm.max_map_count is {max_map_count}: this test needs Linux's default or near it"
    );
    in_child(TEST, || {
        let bridge = Bridge::builder()
            .script_stack_size(256 * 1024)
            .max_concurrent_scripts(scripts)
            .build()
            .unwrap();
        let handles: Vec<_> = (0..scripts).map(|_| bridge.spawn("hold(); 1")).collect();
        let deadline = Instant::now() + Duration::from_secs(120);
        // Every script either holds or has ended (refused); wait until no more arrive.
        let mut last = usize::MAX;
        while HOLDING.load(Ordering::SeqCst) != last {
            last = HOLDING.load(Ordering::SeqCst);
            assert!(Instant::now() < deadline, "scripts did not settle");
            std::thread::sleep(Duration::from_millis(500));
        }
        RELEASED.store(true, Ordering::SeqCst);
        RELEASE.notify_waiters();
        let (mut finished, mut refused) = (0, 0);
        for handle in handles {
            match handle.join() {
                Ok(value) => {
                    assert_eq!(value, json!(1));
                    finished += 1;
                }
                Err(Error::Resources(message)) => {
                    assert!(
                        message.contains("vm.max_map_count")
                            && message.contains("max_concurrent_scripts"),
                        "{message}"
                    );
                    refused += 1;
                }
                Err(other) => panic!("unexpected error: {other}"),
            }
        }
        println!("{finished} scripts ran, {refused} were refused at the ceiling");
        assert!(refused >= 100, "only {refused} refused");
        assert_eq!(finished, HOLDING.load(Ordering::SeqCst));
        assert!(finished > 25_000, "the ceiling came early: {finished}");
        // The stacks are free again: new scripts start.
        assert_eq!(bridge.run("hold(); 2").unwrap(), json!(2));
    });
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
