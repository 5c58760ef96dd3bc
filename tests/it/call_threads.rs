//! Calls on more threads than the worker's: `worker_threads(n)` and `runtime(handle)`.
//!
//! Where a call ran is told by its thread's name: the worker is `bridge-worker`, the bridge's
//! own call threads `bridge-call`, the host's runtime here `host-call`.

use bridge_runtime::{script_async, Bridge, CallErrorKind, Error, Resource, ScriptCallback};
use serde_json::json;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn thread_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_owned()
}

/// Where a `Send` future runs.
#[script_async]
async fn ct_where() -> String {
    tokio::task::yield_now().await;
    thread_name()
}

/// Where a future that holds an `Rc` across an await runs: it is not `Send`.
#[script_async]
async fn ct_where_local() -> String {
    let held = Rc::new(thread_name());
    tokio::task::yield_now().await;
    format!("{held}/{}", thread_name())
}

/// Where the rest of an eager call runs once its first poll (on the engine thread) did not end it.
#[script_async(eager)]
async fn ct_where_eager() -> String {
    tokio::task::yield_now().await;
    thread_name()
}

/// A resource, which knows the thread its function ran on.
pub struct CtPlace {
    made_on: String,
}

#[script_async]
async fn ct_place() -> Resource<CtPlace> {
    Resource::new(CtPlace {
        made_on: thread_name(),
    })
}

#[script_async]
impl CtPlace {
    /// Where its methods run, and where it was made.
    async fn ct_seen(&self) -> String {
        format!("{}/{}", self.made_on, thread_name())
    }
}

/// Calls `f` twice, adding its results, from wherever the function runs.
#[script_async]
async fn ct_twice(f: ScriptCallback) -> Result<String, String> {
    let a: i64 = f.call(()).await.map_err(|e| e.to_string())?;
    let b: i64 = f.call(()).await.map_err(|e| e.to_string())?;
    Ok(format!("{}:{}", a + b, thread_name()))
}

static MEETING: AtomicUsize = AtomicUsize::new(0);

/// Busy on its thread (no await) until a second call is busy at the same time, for 5 s at most:
/// whether they met, which only calls on two threads at once can.
#[script_async]
async fn ct_meet() -> bool {
    MEETING.fetch_add(1, Ordering::SeqCst);
    let started = Instant::now();
    let mut met = false;
    while started.elapsed() < Duration::from_secs(5) {
        if MEETING.load(Ordering::SeqCst) >= 2 {
            met = true;
            break;
        }
        std::hint::spin_loop();
    }
    // Stay a moment, so the other sees this one too.
    std::thread::sleep(Duration::from_millis(50));
    MEETING.fetch_sub(1, Ordering::SeqCst);
    met
}

#[script_async]
async fn ct_panic() -> i64 {
    tokio::task::yield_now().await;
    panic!("ct_panic on purpose")
}

static SLOW_DROPPED: AtomicBool = AtomicBool::new(false);
static SLOW_STARTED: AtomicBool = AtomicBool::new(false);

/// Sets `SLOW_DROPPED` when dropped: the call's future was let go of.
struct SetOnDrop;

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        SLOW_DROPPED.store(true, Ordering::SeqCst);
    }
}

/// Sleeps 30 s, unless dropped first.
#[script_async]
async fn ct_slow() -> i64 {
    let _guard = SetOnDrop;
    SLOW_STARTED.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(30)).await;
    1
}

/// Waits up to 5 s for `flag`.
fn eventually(flag: &AtomicBool) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if flag.load(Ordering::SeqCst) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

fn threaded() -> Bridge {
    Bridge::builder().worker_threads(2).build().unwrap()
}

fn call_kind(error: &Error) -> Option<CallErrorKind> {
    match error {
        Error::Call(call) => Some(call.kind),
        _ => None,
    }
}

#[test]
fn by_default_every_call_runs_on_the_worker() {
    let bridge = Bridge::new().unwrap();
    assert_eq!(bridge.run("ct_where()").unwrap(), json!("bridge-worker"));
}

#[test]
fn with_worker_threads_a_send_call_runs_on_them() {
    let bridge = threaded();
    assert_eq!(bridge.run("ct_where()").unwrap(), json!("bridge-call"));
}

#[test]
fn a_future_that_is_not_send_keeps_to_the_worker() {
    let bridge = threaded();
    assert_eq!(
        bridge.run("ct_where_local()").unwrap(),
        json!("bridge-worker/bridge-worker")
    );
}

#[test]
fn the_rest_of_an_unfinished_eager_call_runs_on_the_threads() {
    let bridge = threaded();
    assert_eq!(
        bridge.run("ct_where_eager()").unwrap(),
        json!("bridge-call")
    );
}

#[test]
fn a_function_returning_a_resource_and_the_resources_methods_keep_to_the_worker() {
    // A `Resource` is not `Send` (its close hook need not be), so neither is such a future.
    let bridge = threaded();
    assert_eq!(
        bridge.run("let p = ct_place(); p.ct_seen()").unwrap(),
        json!("bridge-worker/bridge-worker")
    );
}

#[test]
fn a_callback_works_from_a_call_thread() {
    let bridge = threaded();
    assert_eq!(
        bridge.run("let n = 20; ct_twice(|| 21)").unwrap(),
        json!("42:bridge-call")
    );
}

#[test]
fn two_calls_run_at_once_on_two_threads() {
    let bridge = threaded();
    let met: Vec<_> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| bridge.run("ct_meet()").unwrap()))
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    assert_eq!(met, [json!(true), json!(true)]);
}

#[test]
fn a_panic_on_a_call_thread_is_the_calls_error_and_the_bridge_goes_on() {
    let bridge = threaded();
    let error = bridge.run("ct_panic()").unwrap_err();
    assert_eq!(call_kind(&error), Some(CallErrorKind::Panic), "{error}");
    assert!(error.to_string().contains("ct_panic on purpose"), "{error}");
    assert_eq!(bridge.run("ct_where()").unwrap(), json!("bridge-call"));
}

/// One test for every way a pooled call is let go of, as they share `SLOW_*`.
#[test]
fn a_call_on_a_call_thread_is_dropped_there_on_timeout_cancel_and_bridge_drop() {
    // Timeout.
    SLOW_DROPPED.store(false, Ordering::SeqCst);
    let bridge = Bridge::builder()
        .worker_threads(2)
        .limits(bridge_runtime::Limits::default().call_timeout(Duration::from_millis(100)))
        .build()
        .unwrap();
    let error = bridge.run("ct_slow()").unwrap_err();
    assert_eq!(call_kind(&error), Some(CallErrorKind::Timeout), "{error}");
    assert!(
        eventually(&SLOW_DROPPED),
        "the timed-out call was not dropped"
    );
    drop(bridge);

    // Cancel.
    SLOW_DROPPED.store(false, Ordering::SeqCst);
    SLOW_STARTED.store(false, Ordering::SeqCst);
    let bridge = threaded();
    let handle = bridge.spawn("ct_slow()");
    assert!(eventually(&SLOW_STARTED));
    handle.cancel();
    assert!(handle.join().is_err());
    assert!(
        eventually(&SLOW_DROPPED),
        "the cancelled call was not dropped"
    );

    // The bridge dropped while the call runs: the drop does not wait 30 s for it.
    SLOW_DROPPED.store(false, Ordering::SeqCst);
    SLOW_STARTED.store(false, Ordering::SeqCst);
    let _running = bridge.spawn("ct_slow()");
    assert!(eventually(&SLOW_STARTED));
    let dropping = Instant::now();
    drop(bridge);
    assert!(
        dropping.elapsed() < Duration::from_secs(10),
        "{:?}",
        dropping.elapsed()
    );
    assert!(
        SLOW_DROPPED.load(Ordering::SeqCst),
        "the call outlived the bridge"
    );
}

#[test]
fn zero_worker_threads_is_refused_saying_so() {
    let error = Bridge::builder().worker_threads(0).build().unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error}");
    assert!(error.to_string().contains("worker_threads(0)"), "{error}");
}

fn host_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("host-call")
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn with_the_hosts_runtime_a_send_call_runs_there_and_the_rest_on_the_worker() {
    let host = host_runtime();
    let bridge = Bridge::builder()
        .runtime(host.handle().clone())
        .build()
        .unwrap();
    assert_eq!(bridge.run("ct_where()").unwrap(), json!("host-call"));
    assert_eq!(
        bridge.run("ct_where_local()").unwrap(),
        json!("bridge-worker/bridge-worker")
    );
    assert_eq!(
        bridge.run("let p = ct_place(); p.ct_seen()").unwrap(),
        json!("bridge-worker/bridge-worker")
    );
}

#[test]
fn a_current_thread_runtime_is_refused_as_the_hosts_runtime() {
    let host = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let error = Bridge::builder()
        .runtime(host.handle().clone())
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error}");
    assert!(error.to_string().contains("current-thread"), "{error}");
}

#[test]
fn a_call_whose_host_runtime_shuts_down_ends_with_a_shutdown_error() {
    SLOW_STARTED.store(false, Ordering::SeqCst);
    let host = host_runtime();
    let bridge = Bridge::builder()
        .runtime(host.handle().clone())
        .build()
        .unwrap();
    let running = bridge.spawn("ct_slow()");
    assert!(eventually(&SLOW_STARTED));
    host.shutdown_background();
    let error = running.join().unwrap_err();
    assert_eq!(call_kind(&error), Some(CallErrorKind::Shutdown), "{error}");
    assert!(error.to_string().contains("shut down"), "{error}");
    // The bridge itself goes on: calls that keep to the worker still run.
    assert_eq!(
        bridge.run("ct_where_local()").unwrap(),
        json!("bridge-worker/bridge-worker")
    );
}

#[test]
fn a_sandboxed_bridge_with_threads_still_ends_a_script_at_its_deadline() {
    let bridge = Bridge::sandboxed()
        .worker_threads(2)
        .limits(bridge_runtime::Limits::sandboxed().script_timeout(Duration::from_millis(200)))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = bridge
        .run("let n = 0; loop { n += ct_meet_nobody(); }")
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        error,
        Error::Timeout {
            limit: Duration::from_millis(200)
        }
    );
}

/// A quick call on a call thread, for loops.
#[script_async]
async fn ct_meet_nobody() -> i64 {
    tokio::task::yield_now().await;
    1
}

/// Panics when dropped: a user's `Drop` that goes wrong as a call is let go of.
struct PanicsWhenDropped;

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("ct_panics_when_dropped's guard panicked as it was dropped");
    }
}

/// Sleeps 30 s holding a guard whose `Drop` panics.
#[script_async]
async fn ct_panics_when_dropped() -> i64 {
    let _guard = PanicsWhenDropped;
    tokio::time::sleep(Duration::from_secs(30)).await;
    1
}

/// A panic payload whose own `Drop` panics.
struct PayloadPanicsOnDrop;

impl Drop for PayloadPanicsOnDrop {
    fn drop(&mut self) {
        panic!("the payload panicked as it was dropped");
    }
}

#[script_async]
async fn ct_bad_payload() -> i64 {
    tokio::task::yield_now().await;
    std::panic::panic_any(PayloadPanicsOnDrop)
}

#[test]
fn user_code_that_panics_while_dropped_on_a_call_thread_leaves_the_bridge_serving() {
    const TEST: &str = "call_threads::user_code_that_panics_while_dropped_on_a_call_thread_leaves_the_bridge_serving";
    bridge_suite::child::in_child(TEST, || {
        let timed = Bridge::builder()
            .worker_threads(2)
            .limits(bridge_runtime::Limits::default().call_timeout(Duration::from_millis(100)))
            .build()
            .unwrap();
        // No time limit here: the first panic's backtrace alone can take longer than 100 ms.
        let plain = threaded();
        for _ in 0..3 {
            // Aborted on its call thread at the timeout; its guard panics there.
            let error = timed.run("ct_panics_when_dropped()").unwrap_err();
            assert_eq!(call_kind(&error), Some(CallErrorKind::Timeout), "{error}");
            let caught = plain
                .run("let caught = (); try { ct_bad_payload() } catch (e) { caught = e.kind } caught")
                .unwrap();
            assert_eq!(caught, json!("panic"));
            for bridge in [&timed, &plain] {
                assert_eq!(bridge.run("ct_where()").unwrap(), json!("bridge-call"));
            }
        }
        drop((timed, plain));
    });
}
