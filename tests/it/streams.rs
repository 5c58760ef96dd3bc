//! Streams: `ScriptStream<T>` returned by an async function or method, iterated by a script's
//! `for`, pulled from the worker in bounded batches, released however the script lets go of it.

use bridge_runtime::{script_async, Bridge, Error, Limits, Resource, ScriptStream};
use futures_util::{stream, StreamExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts the streams alive of one test, and the ones dropped off the worker thread.
struct Live {
    now: AtomicUsize,
    dropped_elsewhere: AtomicUsize,
}

impl Live {
    const fn new() -> Self {
        Self {
            now: AtomicUsize::new(0),
            dropped_elsewhere: AtomicUsize::new(0),
        }
    }

    fn guard(&'static self) -> LiveGuard {
        self.now.fetch_add(1, Ordering::SeqCst);
        LiveGuard(self)
    }

    /// Waits up to 5 s for none to be left: a stream is dropped on the worker a moment after
    /// the script lets go of it.
    fn wait_until_none(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.now.load(Ordering::SeqCst) != 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(self.now.load(Ordering::SeqCst), 0, "streams left open");
        assert_eq!(self.dropped_elsewhere.load(Ordering::SeqCst), 0);
    }
}

/// Held inside a stream: its drop is the stream's.
struct LiveGuard(&'static Live);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        if std::thread::current().name() != Some("bridge-worker") {
            self.0.dropped_elsewhere.fetch_add(1, Ordering::SeqCst);
        }
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// 0, 1, ... endlessly, holding `guard` while it lives.
fn endless(guard: LiveGuard) -> ScriptStream<i64> {
    ScriptStream::new(stream::unfold((0_i64, guard), |(n, guard)| async move {
        Some((n, (n + 1, guard)))
    }))
}

/// The numbers `0..n`.
#[script_async]
async fn st_numbers(n: i64) -> ScriptStream<i64> {
    ScriptStream::new(stream::iter(0..n))
}

#[test]
fn a_for_loop_sums_ten_thousand_streamed_numbers() {
    let bridge = Bridge::new().unwrap();
    let sum = bridge
        .run("let sum = 0; for n in st_numbers(10000) { sum += n } sum")
        .unwrap();
    assert_eq!(sum, 49_995_000_i64);
}

#[test]
fn type_of_a_stream_is_stream() {
    let bridge = Bridge::new().unwrap();
    assert_eq!(bridge.run("type_of(st_numbers(1))").unwrap(), "Stream");
}

#[test]
fn a_second_loop_goes_on_where_the_first_stopped_and_an_ended_one_runs_no_times() {
    let bridge = Bridge::new().unwrap();
    let seen = bridge
        .run(
            "let s = st_numbers(10); let seen = [];
             for n in s { seen.push(n); if n == 2 { break } }
             for n in s { seen.push(n) }
             for n in s { seen.push(-1) }
             seen",
        )
        .unwrap();
    assert_eq!(seen, serde_json::json!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
}

static BROKEN_OFF: Live = Live::new();

/// An endless stream that counts in [`BROKEN_OFF`].
#[script_async]
async fn st_broken_off() -> ScriptStream<i64> {
    endless(BROKEN_OFF.guard())
}

/// How many [`BROKEN_OFF`] streams are alive, after `ms` milliseconds.
#[script_async]
async fn st_broken_off_alive_after(ms: u64) -> i64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    BROKEN_OFF.now.load(Ordering::SeqCst) as i64
}

#[test]
fn break_drops_the_stream_on_the_worker_while_the_script_goes_on() {
    let bridge = Bridge::new().unwrap();
    let alive = bridge
        .run(
            "let inside = 0;
             for n in st_broken_off() { inside = st_broken_off_alive_after(0); if n == 100 { break } }
             let after = 1; let tries = 0;
             while after != 0 && tries < 1000 { after = st_broken_off_alive_after(5); tries += 1 }
             [inside, after]",
        )
        .unwrap();
    assert_eq!(alive, serde_json::json!([1, 0]));
    BROKEN_OFF.wait_until_none();
}

static ENDED: Live = Live::new();

/// An endless stream that counts in [`ENDED`].
#[script_async]
async fn st_ended() -> ScriptStream<i64> {
    endless(ENDED.guard())
}

#[test]
fn every_ending_of_the_script_drops_its_stream_on_the_worker() {
    let bridge = Bridge::builder()
        .limits(Limits::default().script_timeout(Duration::from_millis(200)))
        .build()
        .unwrap();
    let endings = [
        "let s = st_ended(); for n in s { if n == 5 { break } } 1",
        "let s = st_ended(); for n in s { if n == 5 { throw \"no\" } }",
        "let s = st_ended(); for n in s { if n == 5 { break } } loop {}",
        "let s = st_ended(); 1",
    ];
    for script in endings {
        let _ = bridge.run(script);
        ENDED.wait_until_none();
    }
    let handle = bridge.spawn("let s = st_ended(); for n in s { }");
    std::thread::sleep(Duration::from_millis(50));
    handle.cancel();
    assert!(matches!(handle.join(), Err(Error::Cancelled)));
    ENDED.wait_until_none();
    let _held = bridge.spawn("let s = st_ended(); for n in s { if n == 5 { break } } loop {}");
    std::thread::sleep(Duration::from_millis(50));
    drop(bridge);
    assert_eq!(
        ENDED.now.load(Ordering::SeqCst),
        0,
        "left open by the bridge's drop"
    );
}

#[test]
fn an_endless_stream_is_ended_by_the_deadline() {
    let bridge = Bridge::builder()
        .limits(Limits::default().script_timeout(Duration::from_millis(300)))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = bridge
        .run("let n = 0; for x in st_ended() { n += 1 } n")
        .unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    ENDED.wait_until_none();
}

/// One item, then nothing ever again.
#[script_async]
async fn st_stalled() -> ScriptStream<i64> {
    ScriptStream::new(stream::iter([1_i64]).chain(stream::pending()))
}

#[test]
fn a_stream_whose_next_item_never_comes_is_ended_by_the_deadline_and_by_cancel() {
    let bridge = Bridge::builder()
        .limits(Limits::default().script_timeout(Duration::from_millis(300)))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = bridge.run("for x in st_stalled() { } 1").unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let handle = bridge.spawn("for x in st_stalled() { } 1");
    std::thread::sleep(Duration::from_millis(50));
    handle.cancel();
    assert!(matches!(handle.join(), Err(Error::Cancelled)));
}

/// Two rows, then an error.
#[script_async]
async fn st_fallible() -> ScriptStream<i64> {
    ScriptStream::try_new(stream::iter([Ok(1_i64), Ok(2), Err("row 3 is bad"), Ok(4)]))
}

#[test]
fn an_item_error_is_catchable_at_the_loop_and_names_the_function() {
    let bridge = Bridge::new().unwrap();
    let caught = bridge
        .run(
            "let got = []; let caught = ();
             try { for x in st_fallible() { got.push(x) } } catch (e) { caught = e }
             [got, caught.function, caught.kind, caught.message]",
        )
        .unwrap();
    assert_eq!(
        caught,
        serde_json::json!([[1, 2], "st_fallible", "error", "row 3 is bad"])
    );
}

/// Panics while polling its third item.
#[script_async]
async fn st_panicking() -> ScriptStream<i64> {
    ScriptStream::new(stream::iter(0..10_i64).map(|n| {
        assert!(n < 2, "stream broke at {n}");
        n
    }))
}

#[test]
fn a_panic_while_polling_is_a_catchable_panic_error_at_the_loop() {
    let bridge = Bridge::new().unwrap();
    let caught = bridge
        .run(
            "let got = []; let caught = ();
             try { for x in st_panicking() { got.push(x) } } catch (e) { caught = e }
             [got, caught.function, caught.kind, caught.message]",
        )
        .unwrap();
    assert_eq!(caught[0], serde_json::json!([0, 1]));
    assert_eq!(caught[1], "st_panicking");
    assert_eq!(caught[2], "panic");
    let message = caught[3].as_str().unwrap();
    assert!(message.contains("stream broke at 2"), "{message}");
}

/// How many items [`st_counted`] produced.
static PRODUCED: AtomicUsize = AtomicUsize::new(0);

/// An endless stream counting each item it produces in [`PRODUCED`].
#[script_async]
async fn st_counted() -> ScriptStream<i64> {
    PRODUCED.store(0, Ordering::SeqCst);
    ScriptStream::new(stream::iter(0_i64..).map(|n| {
        PRODUCED.fetch_add(1, Ordering::SeqCst);
        n
    }))
}

/// How many items [`st_counted`] produced so far.
#[script_async]
async fn st_produced() -> i64 {
    PRODUCED.load(Ordering::SeqCst) as i64
}

#[test]
fn the_worker_pulls_at_most_one_batch_ahead_of_the_script() {
    let bridge = Bridge::new().unwrap();
    let most_ahead = bridge
        .run(
            "let most = 0; let seen = 0;
             for x in st_counted() {
                 seen += 1;
                 let ahead = st_produced() - seen;
                 if ahead > most { most = ahead }
                 if seen == 1000 { break }
             }
             most",
        )
        .unwrap();
    let most_ahead = most_ahead.as_i64().unwrap();
    // Batches of 64: right after the first item of one, 63 are waiting.
    assert_eq!(most_ahead, 63);
}

/// Endless 4 MiB strings.
#[script_async]
async fn st_huge() -> ScriptStream<String> {
    ScriptStream::new(stream::repeat(()).map(|()| "x".repeat(4 << 20)))
}

#[test]
fn big_items_without_limits_cross_one_per_batch() {
    // A batch stops at about 256 KiB, so each item crosses alone.
    let bridge = Bridge::new().unwrap();
    let total = bridge
        .run(
            "let total = 0; let n = 0;
             for x in st_huge() { total += x.len(); n += 1; if n == 3 { break } }
             total",
        )
        .unwrap();
    assert_eq!(total, 3 * (4 << 20) as i64);
}

#[test]
fn streams_count_against_max_resources() {
    let bridge = Bridge::builder()
        .limits(Limits::default().max_resources(2))
        .build()
        .unwrap();
    let caught = bridge
        .run(
            "let a = st_numbers(1); let b = st_numbers(1); let kind = \"held\";
             try { let c = st_numbers(1); } catch (e) { kind = e.kind }
             kind",
        )
        .unwrap();
    assert_eq!(caught, "limit");
    // Streams let go of do not count.
    let sum = bridge
        .run("let sum = 0; for i in 0..10 { for n in st_numbers(3) { sum += n } } sum")
        .unwrap();
    assert_eq!(sum, 30);
}

thread_local! {
    /// A stream a host hook kept past its script, on the engine thread.
    static KEPT: std::cell::RefCell<Option<bridge_runtime::rhai::Dynamic>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn a_stream_kept_past_its_script_is_an_error_in_another_never_a_hang() {
    // One engine thread, so the second script runs where the first kept its stream.
    let bridge = Bridge::builder()
        .max_engine_threads(1)
        .configure_engine(|engine| {
            engine.register_fn("st_keep", |value: bridge_runtime::rhai::Dynamic| {
                KEPT.with(|kept| *kept.borrow_mut() = Some(value));
            });
            engine.register_fn("st_kept", || {
                KEPT.with(|kept| kept.borrow().clone().unwrap_or_default())
            });
            engine.register_fn("st_forget", || {
                KEPT.with(|kept| kept.borrow_mut().take()).is_some()
            });
        })
        .build()
        .unwrap();
    bridge.run("st_keep(st_numbers(10)); 1").unwrap();
    let caught = bridge
        .run("let caught = [\"ran\", \"\"]; let n = 0; try { for x in st_kept() { n += 1 } } catch (e) { caught = [e.kind, e.message] } caught")
        .unwrap();
    assert_eq!(caught[0], "argument");
    let message = caught[1].as_str().unwrap();
    assert!(message.contains("another script"), "{message}");
    // A loop with an empty body, whose items (and errors) Rhai does not look at, ends too.
    assert_eq!(bridge.run("for x in st_kept() { } 1").unwrap(), 1);
    assert_eq!(bridge.run("st_forget()").unwrap(), true);
}

/// A start from which a script counts up.
pub struct StFrom {
    start: i64,
}

#[script_async]
impl StFrom {
    /// The numbers from the start up to `end`, excluded.
    async fn upto(&self, end: i64) -> ScriptStream<i64> {
        ScriptStream::new(stream::iter(self.start..end))
    }
}

/// A start at `start`.
#[script_async]
async fn st_from(start: i64) -> Resource<StFrom> {
    Resource::new(StFrom { start })
}

#[test]
fn a_method_can_return_a_stream() {
    let bridge = Bridge::new().unwrap();
    let seen = bridge
        .run("let f = st_from(3); let seen = []; for n in f.upto(6) { seen.push(n) } seen")
        .unwrap();
    assert_eq!(seen, serde_json::json!([3, 4, 5]));
}

/// How many items [`st_huge_counted`] produced.
static HUGE_PRODUCED: AtomicUsize = AtomicUsize::new(0);

/// Endless 4 MiB strings, counted in [`HUGE_PRODUCED`].
#[script_async]
async fn st_huge_counted() -> ScriptStream<String> {
    ScriptStream::new(stream::repeat(()).map(|()| {
        HUGE_PRODUCED.fetch_add(1, Ordering::SeqCst);
        "x".repeat(4 << 20)
    }))
}

#[test]
fn huge_items_under_the_sandbox_are_a_limit_error_at_the_loop_with_nothing_buffered() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let caught = bridge
        .run(
            "let caught = (); let n = 0;
             try { for x in st_huge_counted() { n += 1; if n == 3 { break } } }
             catch (e) { caught = e }
             [n, caught.function, caught.kind, caught.message]",
        )
        .unwrap();
    assert_eq!(caught[0], 0);
    assert_eq!(caught[1], "st_huge_counted");
    assert_eq!(caught[2], "limit");
    let message = caught[3].as_str().unwrap();
    assert!(message.contains("max_string_size"), "{message}");
    // The first item was refused as it was converted; none was pulled after it.
    assert_eq!(HUGE_PRODUCED.load(Ordering::SeqCst), 1);
}

#[test]
fn a_recording_bridge_refuses_a_function_returning_a_stream() {
    use bridge_runtime::record::RecordAndReplay;
    let bridge = Bridge::builder().record(std::io::sink()).build().unwrap();
    let caught = bridge
        .run(
            "let caught = (); let n = 0;
             try { for x in st_numbers(3) { n += 1 } } catch (e) { caught = e }
             [n, caught.function, caught.kind, caught.message]",
        )
        .unwrap();
    assert_eq!(caught[0], 0);
    assert_eq!(caught[1], "st_numbers");
    assert_eq!(caught[2], "recording");
    let message = caught[3].as_str().unwrap();
    assert!(message.contains("a record cannot hold"), "{message}");
}
