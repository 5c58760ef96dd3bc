//! Resources: host values a script holds (`Resource<T>`), whose `#[script_async] impl` methods
//! it calls, kept on the worker and released however the script ends.

use bridge_runtime::{script_async, Bridge, Resource};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How many `HoCounter`s exist now.
static LIVE_COUNTERS: AtomicUsize = AtomicUsize::new(0);

/// How many were dropped off the bridge's worker thread (never, if all is well).
static DROPPED_ELSEWHERE: AtomicUsize = AtomicUsize::new(0);

/// A counter a script holds.
pub struct HoCounter {
    total: i64,
    /// Dropped on the worker thread only.
    _live: LiveGuard,
}

struct LiveGuard;

impl Drop for LiveGuard {
    fn drop(&mut self) {
        if std::thread::current().name() != Some("bridge-worker") {
            DROPPED_ELSEWHERE.fetch_add(1, Ordering::SeqCst);
        }
        LIVE_COUNTERS.fetch_sub(1, Ordering::SeqCst);
    }
}

#[script_async]
impl HoCounter {
    /// Adds `n`; the new total.
    async fn add(&mut self, n: i64) -> i64 {
        self.total += n;
        self.total
    }

    /// The total now, after `ms` milliseconds.
    async fn read_after(&self, ms: u64) -> i64 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.total
    }

    /// Adds `n` after `ms` milliseconds.
    async fn add_after(&mut self, ms: u64, n: i64) -> Result<i64, String> {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.total += n;
        Ok(self.total)
    }

    /// Consumes the counter: its final total.
    async fn finish(self) -> i64 {
        self.total
    }

    /// A second counter starting where this one is.
    async fn fork(&self) -> Resource<Self> {
        ho_new(self.total)
    }
}

fn ho_new(start: i64) -> Resource<HoCounter> {
    LIVE_COUNTERS.fetch_add(1, Ordering::SeqCst);
    Resource::new(HoCounter {
        total: start,
        _live: LiveGuard,
    })
}

/// A new counter.
#[script_async]
async fn ho_counter(start: i64) -> Resource<HoCounter> {
    ho_new(start)
}

#[test]
fn methods_change_the_value_the_script_holds() {
    let value = bridge_runtime::run("let c = ho_counter(1); c.add(2); c.add(3); c.read_after(0)")
        .unwrap();
    assert_eq!(value, 6);
}

#[test]
fn type_of_and_print_name_the_resource_type() {
    let value = bridge_runtime::run("let c = ho_counter(1); [type_of(c), `${c}`.starts_with(\"HoCounter#\")]")
        .unwrap();
    assert_eq!(value, serde_json::json!(["HoCounter", true]));
}

#[test]
fn a_consumed_resource_is_a_closed_error_naming_the_method() {
    let value = bridge_runtime::run(
        r#"
        let c = ho_counter(5);
        let total = c.finish();
        let seen = ();
        try { c.add(1); } catch (e) { seen = [total, e.function, e.kind, e.message]; }
        seen
        "#,
    )
    .unwrap();
    assert_eq!(
        value,
        serde_json::json!([5, "HoCounter.add", "closed", "this HoCounter was closed by `finish`"])
    );
}

#[test]
fn returning_a_resource_as_the_result_is_a_clear_error() {
    let error = bridge_runtime::run("ho_counter(1)").unwrap_err();
    assert!(
        error.to_string().contains("a HoCounter is a resource"),
        "{error}"
    );
}

#[test]
fn two_started_mut_calls_run_in_order_and_shared_calls_overlap() {
    let bridge = Bridge::new().unwrap();
    let started = Instant::now();
    let value = bridge
        .run(
            r#"
            let c = ho_counter(0);
            let a = start(Fn("add_after"), [c, 100, 1]);
            let b = start(Fn("add_after"), [c, 0, 10]);
            let r1 = start(Fn("read_after"), [c, 100]);
            let r2 = start(Fn("read_after"), [c, 100]);
            [wait(a), wait(b), wait(r1), wait(r2)]
            "#,
        )
        .unwrap();
    assert_eq!(value, serde_json::json!([1, 11, 11, 11]));
    // 100 ms of `add_after`, then both reads at once: about 200 ms, never 300.
    assert!(started.elapsed() < Duration::from_millis(290), "{:?}", started.elapsed());
}

/// Counted on their own: no other test makes them.
pub struct HoTracked;

static LIVE_TRACKED: AtomicUsize = AtomicUsize::new(0);

impl Drop for HoTracked {
    fn drop(&mut self) {
        if std::thread::current().name() != Some("bridge-worker") {
            DROPPED_ELSEWHERE.fetch_add(1, Ordering::SeqCst);
        }
        LIVE_TRACKED.fetch_sub(1, Ordering::SeqCst);
    }
}

#[script_async]
impl HoTracked {
    /// A second one.
    async fn another(&self) -> Resource<Self> {
        ho_tracked().await
    }
}

/// A tracked resource.
#[script_async]
async fn ho_tracked() -> Resource<HoTracked> {
    LIVE_TRACKED.fetch_add(1, Ordering::SeqCst);
    Resource::new(HoTracked)
}

/// Waits up to 5 s for no `HoTracked` to be left: a script's resources are closed on the
/// worker a moment after the script ends.
fn wait_until_no_tracked_left() {
    let deadline = Instant::now() + Duration::from_secs(5);
    while LIVE_TRACKED.load(Ordering::SeqCst) != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(LIVE_TRACKED.load(Ordering::SeqCst), 0, "resources left open");
}

#[test]
fn every_resource_is_dropped_on_the_worker_however_the_script_ends() {
    let bridge = Bridge::builder()
        .limits(bridge_runtime::Limits::default().script_timeout(Duration::from_millis(200)))
        .build()
        .unwrap();
    let endings = [
        "let c = ho_tracked(); let d = c.another(); 1",
        "let c = ho_tracked(); throw \"no\"",
        "let c = ho_tracked(); loop {}",
        "let c = ho_tracked(); c = (); let d = ho_tracked(); 2",
    ];
    for script in endings {
        let _ = bridge.run(script);
        wait_until_no_tracked_left();
    }
    // Cancelled, and held when the bridge drops.
    let handle = bridge.spawn("let c = ho_tracked(); loop {}");
    std::thread::sleep(Duration::from_millis(50));
    handle.cancel();
    let _ = handle.join();
    wait_until_no_tracked_left();
    let _held = bridge.spawn("let c = ho_tracked(); let d = c.another(); loop {}");
    std::thread::sleep(Duration::from_millis(50));
    drop(bridge);
    assert_eq!(LIVE_TRACKED.load(Ordering::SeqCst), 0, "left open by the bridge's drop");
    assert_eq!(DROPPED_ELSEWHERE.load(Ordering::SeqCst), 0);
}
