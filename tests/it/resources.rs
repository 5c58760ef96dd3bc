//! Resources: host values a script holds (`Resource<T>`), whose `#[script_async] impl` methods
//! it calls, kept on the worker and released however the script ends.

use bridge_runtime::{script_async, Bridge, Resource};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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
    let value =
        bridge_runtime::run("let c = ho_counter(1); c.add(2); c.add(3); c.read_after(0)").unwrap();
    assert_eq!(value, 6);
}

#[test]
fn type_of_and_print_name_the_resource_type() {
    let value = bridge_runtime::run(
        "let c = ho_counter(1); [type_of(c), `${c}`.starts_with(\"HoCounter#\")]",
    )
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
        serde_json::json!([
            5,
            "HoCounter.add",
            "closed",
            "this HoCounter was closed by `finish`"
        ])
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
    // Order: the slow `&mut` call asked first finishes first, whatever their durations.
    let value = bridge
        .run(
            r#"
            let c = ho_counter(0);
            let a = start(Fn("add_after"), [c, 100, 1]);
            let b = start(Fn("add_after"), [c, 0, 10]);
            [wait(a), wait(b)]
            "#,
        )
        .unwrap();
    assert_eq!(value, serde_json::json!([1, 11]));
    // Overlap: two 300 ms `&self` calls together take about 300 ms; one after the other, 600.
    let started = Instant::now();
    let value = bridge
        .run(
            r#"
            let c = ho_counter(5);
            let r1 = start(Fn("read_after"), [c, 300]);
            let r2 = start(Fn("read_after"), [c, 300]);
            [wait(r1), wait(r2)]
            "#,
        )
        .unwrap();
    assert_eq!(value, serde_json::json!([5, 5]));
    assert!(
        started.elapsed() < Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
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
    assert_eq!(
        LIVE_TRACKED.load(Ordering::SeqCst),
        0,
        "resources left open"
    );
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
    assert_eq!(
        LIVE_TRACKED.load(Ordering::SeqCst),
        0,
        "left open by the bridge's drop"
    );
    assert_eq!(DROPPED_ELSEWHERE.load(Ordering::SeqCst), 0);
}

/// A counter whose methods misbehave, and whose close hook is observed.
pub struct HoFlaky {
    closed: Arc<AtomicUsize>,
}

#[script_async]
impl HoFlaky {
    /// Panics while holding the resource.
    async fn explode(&mut self) -> i64 {
        panic!("the method blew up")
    }

    /// Fails with the message given.
    async fn fail(&self, message: String) -> Result<i64, String> {
        Err(message)
    }

    /// Answers after the panic, proving the resource is still usable.
    async fn ping(&mut self) -> i64 {
        7
    }
}

/// How many `HoFlaky` close hooks finished.
static FLAKY_CLOSED: AtomicUsize = AtomicUsize::new(0);

/// A flaky resource: its close hook counts, or hangs (`hang`), or panics (`panic`).
#[script_async]
async fn ho_flaky(close: String) -> Resource<HoFlaky> {
    let closed = Arc::new(AtomicUsize::new(0));
    Resource::new(HoFlaky { closed }).on_close(move |flaky| async move {
        match close.as_str() {
            "hang" => std::future::pending::<()>().await,
            "panic" => panic!("the close hook blew up"),
            _ => {
                flaky.closed.fetch_add(1, Ordering::SeqCst);
                FLAKY_CLOSED.fetch_add(1, Ordering::SeqCst);
            }
        }
    })
}

#[test]
fn a_panicking_method_is_its_calls_error_and_the_resource_stays_usable() {
    let value = bridge_runtime::run(
        r#"
        let f = ho_flaky("count");
        let seen = [];
        try { f.explode(); } catch (e) { seen.push(e.function); seen.push(e.kind); }
        try { f.fail("nope"); } catch (e) { seen.push(e.kind); seen.push(e.message); }
        seen.push(f.ping());
        seen
        "#,
    )
    .unwrap();
    assert_eq!(
        value,
        serde_json::json!(["HoFlaky.explode", "panic", "error", "nope", 7])
    );
}

#[test]
fn the_close_hook_runs_once_when_let_go_and_a_hanging_or_panicking_one_is_contained() {
    let bridge = Bridge::builder()
        .close_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let before = FLAKY_CLOSED.load(Ordering::SeqCst);
    bridge
        .run(r#"let a = ho_flaky("count"); a = (); let b = ho_flaky("count"); 1"#)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while FLAKY_CLOSED.load(Ordering::SeqCst) < before + 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(FLAKY_CLOSED.load(Ordering::SeqCst) >= before + 2);
    // A hook that never ends and one that panics: the bridge keeps serving, and drops in about
    // the close timeout.
    bridge
        .run(r#"let a = ho_flaky("hang"); let b = ho_flaky("panic"); 1"#)
        .unwrap();
    assert_eq!(bridge.run("let c = ho_counter(2); c.add(3)").unwrap(), 5);
    let _held = bridge.spawn(r#"let a = ho_flaky("hang"); loop {}"#);
    std::thread::sleep(Duration::from_millis(50));
    let dropping = Instant::now();
    drop(bridge);
    assert!(
        dropping.elapsed() < Duration::from_secs(2),
        "{:?}",
        dropping.elapsed()
    );
}

#[test]
fn errors_name_the_type_and_method_and_the_parameter() {
    let value = bridge_runtime::run(
        r#"
        let c = ho_counter(1);
        let seen = ();
        try { c.add("two"); } catch (e) { seen = [e.function, e.kind, e.param]; }
        seen
        "#,
    )
    .unwrap();
    assert_eq!(value, serde_json::json!(["HoCounter.add", "argument", "n"]));
}

#[test]
fn signatures_and_definitions_list_methods_on_their_type() {
    let function = bridge_runtime::registry::registered_functions()
        .into_iter()
        .find(|function| function.name() == "HoCounter.add")
        .expect("registered");
    assert_eq!(function.resource_type(), Some("HoCounter"));
    assert_eq!(function.signature(), "HoCounter.add(n: int) -> int");
    let opener = bridge_runtime::registry::registered_functions()
        .into_iter()
        .find(|function| function.name() == "ho_counter")
        .expect("registered");
    assert_eq!(opener.signature(), "ho_counter(start: int) -> HoCounter");
    let definitions = Bridge::new().unwrap().definitions().unwrap();
    let text = definitions.single_file();
    assert!(
        text.contains("fn add(this: HoCounter, n: int) -> int;"),
        "{text}"
    );
    assert!(
        text.contains("fn ho_counter(start: int) -> HoCounter;"),
        "{text}"
    );
}

#[test]
fn a_method_can_be_started_and_waited_like_a_function() {
    let value = bridge_runtime::run(
        r#"
        let c = ho_counter(1);
        let h = start(Fn("add"), [c, 4]);
        let f = Fn("add").curry(c);
        [wait(h), f.call(5)]
        "#,
    )
    .unwrap();
    assert_eq!(value, serde_json::json!([5, 10]));
}

#[test]
fn a_token_let_go_right_after_a_start_still_reaches_its_call() {
    let value = bridge_runtime::run(
        r#"
        let c = ho_counter(1);
        let h = start(Fn("add_after"), [c, 50, 1]);
        c = ();
        wait(h)
        "#,
    )
    .unwrap();
    assert_eq!(value, 2);
}

/// How many `HoLastGasp` close hooks ran to their end.
static LAST_GASP_CLOSED: AtomicUsize = AtomicUsize::new(0);

/// A resource whose close hook awaits before it counts, as a rollback would.
pub struct HoLastGasp;

#[script_async]
impl HoLastGasp {}

/// A resource whose close hook is observed.
#[script_async]
async fn ho_last_gasp() -> Resource<HoLastGasp> {
    Resource::new(HoLastGasp).on_close(|_| async {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
        LAST_GASP_CLOSED.fetch_add(1, Ordering::SeqCst);
    })
}

#[test]
fn resources_let_go_just_as_the_bridge_drops_are_closed_all_the_same() {
    // The last tokens go as the script ends, a moment before the bridge drops: the worker may
    // still have their releases to do, or their close hooks under way, as it shuts down.
    for round in 0..60 {
        let before = LAST_GASP_CLOSED.load(Ordering::SeqCst);
        let bridge = Bridge::new().unwrap();
        bridge
            .run("for i in 0..4 { let g = ho_last_gasp(); } let h = ho_last_gasp(); 1")
            .unwrap();
        drop(bridge);
        assert_eq!(
            LAST_GASP_CLOSED.load(Ordering::SeqCst) - before,
            5,
            "round {round}: close hooks cut short by the bridge's drop"
        );
    }
}

/// Whether the `HoCloseWatch` close hook has run to its end.
static CLOSE_WATCH_CLOSED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// A resource whose close hook waits on the worker's timer before it says so.
pub struct HoCloseWatch;

#[script_async]
impl HoCloseWatch {}

#[script_async]
async fn ho_close_watch() -> Resource<HoCloseWatch> {
    Resource::new(HoCloseWatch).on_close(|_| async {
        tokio::time::sleep(Duration::from_millis(1)).await;
        CLOSE_WATCH_CLOSED.store(true, Ordering::SeqCst);
    })
}

/// Whether the `HoCloseWatch` close hook has ended.
#[script_async]
async fn ho_close_watched() -> bool {
    CLOSE_WATCH_CLOSED.load(Ordering::SeqCst)
}

#[test]
fn a_close_hook_runs_while_its_script_keeps_the_worker_busy_with_quick_calls() {
    // The worker polls for this script's next call and never parks; its runtime must still get
    // turns for the hook (and its timer) to run.
    let calls = bridge_runtime::run(
        r#"
        let w = ho_close_watch();
        w = ();
        let calls = 0;
        while !ho_close_watched() {
            calls += 1;
            if calls > 2_000_000 { throw "the close hook never ran"; }
        }
        calls
        "#,
    )
    .unwrap();
    assert!(calls.as_i64().unwrap() > 0, "{calls}");
}
