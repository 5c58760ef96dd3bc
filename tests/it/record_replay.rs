//! Record, replay and mock: calls kept as JSON lines and served again without the functions,
//! or served by the host.

use bridge_runtime::record::{RecordAndReplay, RecordedCall};
use bridge_runtime::{script_async, Bridge, Error, Value};
use bridge_suite::call_log::CallLog;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Set while replaying or mocking: the real functions must not run then.
static REAL_CALLS_FORBIDDEN: AtomicBool = AtomicBool::new(false);

/// Tests take turns: one may forbid real calls while another makes them.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Holds the turn; real calls are allowed again when it ends.
struct Turn(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

impl Drop for Turn {
    fn drop(&mut self) {
        REAL_CALLS_FORBIDDEN.store(false, Ordering::SeqCst);
    }
}

fn turn(forbid_real_calls: bool) -> Turn {
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    REAL_CALLS_FORBIDDEN.store(forbid_real_calls, Ordering::SeqCst);
    Turn(guard)
}

fn real_call(name: &str) {
    assert!(
        !REAL_CALLS_FORBIDDEN.load(Ordering::SeqCst),
        "{name} was called during a replay"
    );
}

#[derive(Serialize, Deserialize)]
struct Order {
    id: i64,
    items: Vec<String>,
    total: f64,
}

#[script_async]
async fn rr_order(id: i64) -> Result<Order, String> {
    real_call("rr_order");
    tokio::time::sleep(Duration::from_millis(2)).await;
    if id < 0 {
        return Err(format!("no order {id}"));
    }
    Ok(Order {
        id,
        items: vec!["tea".into(), format!("item {id}")],
        total: id as f64 * 1.5,
    })
}

#[script_async]
async fn rr_discount(customer: String, percent: i64) -> f64 {
    real_call("rr_discount");
    tokio::task::yield_now().await;
    (customer.len() as i64 * percent) as f64 / 100.0
}

#[script_async]
async fn rr_untouchable(x: i64) -> i64 {
    real_call("rr_untouchable");
    x
}

const SHOP_SCRIPT: &str = r#"
    let first = rr_order(7);
    let missing = "found";
    try { rr_order(-1); } catch (e) { missing = `${e.kind}: ${e.message}` }
    let started = start(Fn("rr_discount"), ["ada", 10]);
    let other = rr_order(2);
    #{ first: first, missing: missing, discount: wait(started), other_total: other.total }
"#;

#[test]
fn a_recorded_script_replays_bit_for_bit_without_calling_the_functions() {
    let _turn = turn(false);
    let log = CallLog::default();
    let recording = Bridge::builder().record(log.clone()).build().unwrap();
    let original = recording.script(SHOP_SCRIPT).name("shop").run().unwrap();
    drop(recording);

    let mut calls = log.calls();
    // Written as they finished; numbered as they were made.
    calls.sort_by_key(|call| call.call);
    let functions: Vec<&str> = calls.iter().map(|call| &call.function[..]).collect();
    assert_eq!(
        functions,
        ["rr_order", "rr_order", "rr_discount", "rr_order"],
        "{}",
        log.text()
    );
    assert_eq!(calls[0].arguments, serde_json::json!({ "id": 7 }));
    assert_eq!(calls[0].outcome.value().unwrap()["items"][1], "item 7");
    assert!(calls[0].duration_us >= 2_000, "{:?}", calls[0]);
    assert_eq!(calls[0].script.as_deref(), Some("shop"));
    let error = calls[1].outcome.error().unwrap();
    assert_eq!(
        (&error.kind[..], &error.message[..]),
        ("error", "no order -1")
    );
    assert_eq!(
        calls[2].arguments,
        serde_json::json!({ "customer": "ada", "percent": 10 })
    );

    REAL_CALLS_FORBIDDEN.store(true, Ordering::SeqCst);
    let again = CallLog::default();
    let replaying = Bridge::builder()
        .replay(log.text().as_bytes())
        .record(again.clone())
        .build()
        .unwrap();
    let replayed = replaying.script(SHOP_SCRIPT).name("shop").run();
    assert_eq!(replayed.unwrap(), original);
    // Dropping the bridge lets its writer thread finish the record.
    drop(replaying);
    // What the replay served is what was recorded, call for call.
    let strip = |mut calls: Vec<RecordedCall>| -> Vec<RecordedCall> {
        calls.sort_by_key(|call| call.call);
        calls
            .into_iter()
            .map(|mut call| {
                call.duration_us = 0;
                call
            })
            .collect()
    };
    assert_eq!(strip(again.calls()), strip(log.calls()));
}

/// A script that runs `call` and returns what it raised as `"kind: message"`.
fn catching(call: &str) -> String {
    format!("let caught = (); try {{ {call}; }} catch (e) {{ caught = `${{e.kind}}: ${{e.message}}` }} caught")
}

fn replay_of(calls: &str) -> Bridge {
    Bridge::builder().replay(calls.as_bytes()).build().unwrap()
}

const ONE_CALL: &str = r#"{"function":"rr_untouchable","arguments":{"x":1},"result":1}"#;

#[test]
fn a_call_other_than_the_recorded_one_is_an_error_naming_both() {
    let _turn = turn(true);
    let bridge = replay_of(ONE_CALL);
    let error = bridge.run("rr_untouchable(2)").unwrap_err();
    let Error::Call(call) = &error else {
        panic!("expected a call error, got {error:?}")
    };
    assert_eq!(call.kind.as_str(), "recording");
    assert_eq!(
        call.message,
        r#"call 1 does not match the replay: recorded rr_untouchable({"x":1}), the script called rr_untouchable({"x":2})"#
    );
    // The mismatch took nothing: the recorded call is still next.
    assert_eq!(bridge.run("rr_untouchable(1)").unwrap(), 1);

    let bridge = replay_of(ONE_CALL);
    let caught = bridge.run(catching("rr_order(1)")).unwrap();
    assert_eq!(
        caught,
        r#"recording: call 1 does not match the replay: recorded rr_untouchable({"x":1}), the script called rr_order({"id":1})"#
    );
}

#[test]
fn a_call_past_the_end_of_the_replay_is_an_error_even_in_a_hostile_loop() {
    let _turn = turn(true);
    let bridge = Bridge::sandboxed()
        .replay(ONE_CALL.as_bytes())
        .build()
        .unwrap();
    let out = bridge
        .run(
            r#"
            let refused = 0;
            rr_untouchable(1);
            for i in 0..10000 { try { rr_untouchable(1); } catch (e) { refused += 1; } }
            refused
            "#,
        )
        .unwrap();
    assert_eq!(out, 10000);
    let message = bridge.run("rr_untouchable(1)").unwrap_err().to_string();
    assert!(
        message.contains("the replay has no call left (1 were recorded) for call 2"),
        "{message}"
    );
}

/// What `build` says of a replay of `log`.
fn replay_refused(log: &str) -> String {
    match Bridge::builder().replay(log.as_bytes()).build() {
        Ok(_) => panic!("the replay was accepted:\n{log}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_replay_line_that_claims_what_its_function_cannot_give_fails_build_naming_it() {
    let cases = [
        (
            r#"{"function":"rr_untouchable","arguments":{"x":1},"result":"seven"}"#,
            "line 1 of the replay has a result that is not a `int`, what `rr_untouchable` returns",
        ),
        (
            r#"{"function":"rr_untouchable","arguments":{"x":1},"result":1,"error":{"kind":"error","message":"m"}}"#,
            "line 1 of the replay has both a result and an error",
        ),
        (
            r#"{"function":"rr_untouchable","arguments":{"x":1},"error":{"kind":"meltdown","message":"m"}}"#,
            "line 1 of the replay has an error of kind `meltdown`",
        ),
        (
            r#"{"function":"rr_nowhere","arguments":{},"result":1}"#,
            "line 1 of the replay calls `rr_nowhere`, which this bridge does not expose",
        ),
    ];
    for (log, expected) in cases {
        let message = replay_refused(log);
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn replay_call_numbers_must_each_be_used_once_in_order() {
    let line = |call: u64| {
        format!(r#"{{"call":{call},"function":"rr_untouchable","arguments":{{"x":1}},"result":1}}"#)
    };
    let twice = format!("{}\n{}\n", line(1), line(1));
    assert!(
        replay_refused(&twice).contains("has call number 1, which is used twice"),
        "{}",
        replay_refused(&twice)
    );
    let skipped = format!("{}\n{}\n", line(1), line(3));
    assert!(
        replay_refused(&skipped).contains(
            "line 2 of the replay has call number 3, which comes where a smaller one is missing"
        ),
        "{}",
        replay_refused(&skipped)
    );
    let mixed = format!("{}\n{ONE_CALL}\n", line(1));
    assert!(replay_refused(&mixed).contains("line 2 of the replay has no call number"));
    let fine = format!("{}\n{}\n", line(2), line(1));
    assert!(Bridge::builder().replay(fine.as_bytes()).build().is_ok());
}

#[test]
fn a_replay_that_never_ends_fails_build_once_past_its_bound() {
    let endless = std::io::BufReader::new(std::io::repeat(b' '));
    let error = Bridge::builder().replay(endless).build().unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("the replay is longer than 67108864 bytes"),
        "{message}"
    );
}

#[test]
fn a_replay_line_that_is_not_a_recorded_call_fails_build_naming_the_line() {
    let log = format!("{ONE_CALL}\n\n{{\"function\": 3}}\n");
    let error = Bridge::builder()
        .replay(log.as_bytes())
        .build()
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("line 3 of the replay is not a recorded call"),
        "{message}"
    );
}

#[test]
fn a_mock_serves_the_function_by_parameter_name() {
    let _turn = turn(true);
    let bridge = Bridge::builder()
        .mock("rr_discount", |args: Value| {
            if args["customer"] == "nobody" {
                return Err("unknown customer".into());
            }
            Ok(Value::from(args["percent"].as_i64().unwrap() as f64 / 2.0))
        })
        .build()
        .unwrap();
    assert_eq!(bridge.run(r#"rr_discount("ada", 10)"#).unwrap(), 5.0);
    let started = r#"wait(start(Fn("rr_discount"), ["ada", 4]))"#;
    assert_eq!(bridge.run(started).unwrap(), 2.0);
    let caught = bridge.run(catching(r#"rr_discount("nobody", 1)"#)).unwrap();
    assert_eq!(caught, "error: unknown customer");
    // Arguments are checked against the real parameter types first.
    let error = bridge.run(r#"rr_discount(1, 2)"#).unwrap_err().to_string();
    assert!(error.contains("customer"), "{error}");
}

#[test]
fn a_typed_mock_gets_the_arguments_in_order() {
    let _turn = turn(true);
    let bridge = Bridge::builder()
        // Parameter order (customer, percent), not alphabetical.
        .mock_typed("rr_discount", |(customer, percent): (String, i64)| {
            Ok(format!("{customer}:{percent}"))
        })
        .mock_typed("rr_order", |(id,): (i64,)| {
            Ok(Order {
                id,
                items: Vec::new(),
                total: 0.5,
            })
        })
        .build()
        .unwrap();
    assert_eq!(bridge.run(r#"rr_discount("zed", 3)"#).unwrap(), "zed:3");
    assert_eq!(bridge.run("rr_order(9).total").unwrap(), 0.5);
}

#[test]
fn a_panicking_mock_is_a_catchable_panic_error() {
    let bridge = Bridge::builder()
        .mock("rr_untouchable", |_| panic!("mock exploded"))
        .build()
        .unwrap();
    let caught = bridge.run(catching("rr_untouchable(1)")).unwrap();
    assert_eq!(caught, "panic: mock exploded");
    // The engine thread is fine afterwards.
    assert_eq!(bridge.run("1 + 1").unwrap(), 2);
}

#[test]
fn a_mock_for_a_function_the_bridge_does_not_have_fails_build() {
    let error = Bridge::builder()
        .mock("rr_ordr", |_| Ok(Value::Null))
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(r#"mock("rr_ordr"): this bridge exposes no #[script_async] function"#),
        "{error}"
    );
}

#[test]
fn a_call_that_cannot_be_recorded_fails_saying_so() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let bridge = Bridge::builder().record(Broken).build().unwrap();
    let _turn = turn(false);
    // The writer runs on its own thread: the first line's failure reaches the calls after it.
    let caught = first_recording_error(&bridge, r#"rr_discount("a", 1)"#);
    assert_eq!(
        caught,
        "recording: the call could not be recorded: writing the record failed: disk full; \
         nothing is recorded after that"
    );
}

/// Runs `call` (caught) until it fails with a recording error, which it returns.
fn first_recording_error(bridge: &Bridge, call: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let caught = bridge.run(catching(call)).unwrap();
        if let Some(caught) = caught.as_str() {
            return caught.to_owned();
        }
        assert!(Instant::now() < deadline, "no call failed to be recorded");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_panicking_writer_is_a_recording_error_not_an_internal_one() {
    struct Panicking;
    impl Write for Panicking {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            panic!("the writer broke")
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let bridge = Bridge::builder().record(Panicking).build().unwrap();
    let _turn = turn(false);
    let caught = first_recording_error(&bridge, r#"rr_discount("a", 1)"#);
    assert!(caught.starts_with("recording: "), "{caught}");
    assert!(
        caught.contains("the record's writer panicked: the writer broke"),
        "{caught}"
    );
    assert_eq!(bridge.run("1 + 1").unwrap(), 2);
}

/// A writer that blocks for good, as a pipe nobody reads does.
struct Stalled(std::sync::mpsc::Receiver<()>);

impl Write for Stalled {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.recv();
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_stalled_writer_holds_up_no_script_and_no_deadline() {
    let (release, stalled) = std::sync::mpsc::channel();
    let bridge = Bridge::builder()
        .record(Stalled(stalled))
        .max_engine_threads(1)
        .build()
        .unwrap();
    let _turn = turn(false);
    let started = Instant::now();
    // Far more calls than the buffer holds: the ones past it fail at once.
    let caught = bridge
        .script(catching("for i in 0..5000 { rr_untouchable(i) }"))
        .timeout(Duration::from_secs(20))
        .run()
        .unwrap();
    let caught = caught.as_str().unwrap().to_owned();
    assert!(caught.starts_with("recording: "), "{caught}");
    assert!(caught.contains("not keeping up"), "{caught}");
    // A neighbour and a deadline are not held up by the writer.
    assert_eq!(bridge.run("1 + 1").unwrap(), 2);
    let looping = bridge
        .script("loop { try { rr_untouchable(1) } catch { } }")
        .timeout(Duration::from_millis(300))
        .run();
    assert!(matches!(looping, Err(Error::Timeout { .. })), "{looping:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    drop(release);
}

#[test]
fn a_slow_mock_ends_with_its_scripts_deadline_and_holds_up_no_neighbour() {
    let bridge = Bridge::builder()
        .mock("rr_untouchable", |_| {
            std::thread::sleep(Duration::from_secs(3));
            Ok(Value::from(1))
        })
        .max_engine_threads(1)
        .build()
        .unwrap();
    let started = Instant::now();
    let slow = bridge
        .script("rr_untouchable(1)")
        .timeout(Duration::from_millis(200))
        .spawn();
    let neighbour = bridge.run("40 + 2").unwrap();
    assert_eq!(neighbour, 42);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let ended = slow.join();
    assert!(matches!(ended, Err(Error::Timeout { .. })), "{ended:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_start_refused_for_the_in_flight_limit_uses_up_no_recorded_call() {
    let _turn = turn(true);
    let log = concat!(
        r#"{"call":1,"function":"rr_untouchable","arguments":{"x":1},"result":1}"#,
        "\n",
        r#"{"call":2,"function":"rr_untouchable","arguments":{"x":2},"result":2}"#,
    );
    let bridge = Bridge::sandboxed()
        .limits(bridge_runtime::Limits::sandboxed().max_calls_in_flight(1))
        .replay(log.as_bytes())
        .build()
        .unwrap();
    let script = r#"
        let first = start(Fn("rr_untouchable"), [1]);
        let refused = "";
        try { start(Fn("rr_untouchable"), [2]); } catch (e) { refused = e.kind; }
        [wait(first), refused, rr_untouchable(2)]
    "#;
    assert_eq!(
        bridge.run(script).unwrap(),
        serde_json::json!([1, "limit", 2])
    );
}

#[script_async]
async fn rr_slow(millis: u64) -> u64 {
    real_call("rr_slow");
    tokio::time::sleep(Duration::from_millis(millis)).await;
    millis
}

#[test]
fn a_call_whose_outcome_never_reached_its_script_is_recorded_as_stopped_and_the_record_replays() {
    let _turn = turn(false);
    let log = CallLog::default();
    let bridge = Bridge::builder().record(log.clone()).build().unwrap();
    assert_eq!(bridge.run("rr_untouchable(1)").unwrap(), 1);
    // Call 2: the script's deadline ends it while the call is in flight.
    let timed_out = bridge
        .script("rr_slow(2000)")
        .timeout(Duration::from_millis(50))
        .run();
    assert!(
        matches!(timed_out, Err(Error::Timeout { .. })),
        "{timed_out:?}"
    );
    // Calls 3 and 4: the first handle is dropped, never waited on.
    let script =
        r#"let a = start(Fn("rr_slow"), [1]); let b = start(Fn("rr_untouchable"), [4]); wait(b)"#;
    assert_eq!(bridge.run(script).unwrap(), 4);
    drop(bridge);

    let mut calls = log.calls();
    calls.sort_by_key(|call| call.call);
    let numbers: Vec<u64> = calls.iter().map(|call| call.call).collect();
    assert_eq!(numbers, [1, 2, 3, 4], "{}", log.text());
    for stopped in [&calls[1], &calls[2]] {
        let error = stopped.outcome.error().expect("recorded as an error");
        assert_eq!(error.kind, "stopped", "{stopped:?}");
    }
    assert_eq!(calls[3].outcome.value(), Some(&serde_json::json!(4)));
    // The record replays: it has every number it gave out.
    let replaying = Bridge::builder()
        .replay(log.text().as_bytes())
        .build()
        .unwrap();
    assert_eq!(replaying.run("rr_untouchable(1)").unwrap(), 1);
    let stopped = replaying.run(catching("rr_slow(2000)")).unwrap();
    let stopped = stopped.as_str().unwrap();
    assert!(
        stopped.starts_with("stopped: the call's outcome never reached"),
        "{stopped}"
    );
}
