//! A corpus of hostile scripts against `Bridge::sandboxed()`: each ends with an error, in bounded
//! time, and the process's peak memory stays bounded. Run in a child process, so that a crash
//! fails the test instead of ending the suite, and the peak memory is this corpus's alone.

use bridge_runtime::{script_async, Bridge, Error, Limits};
use bridge_suite::child::in_child;
use bridge_suite::observe::memory_bytes;
use std::time::{Duration, Instant};

#[script_async(group = "hostile")]
async fn slow_lookup(id: i64) -> i64 {
    tokio::time::sleep(Duration::from_secs(10)).await;
    id
}

/// A hostile script, and a piece of the error it must end with (`|` separates alternatives: a
/// busy loop may meet `max_operations` or the deadline first, depending on the build's speed).
const CORPUS: &[(&str, &str)] = &[
    ("sleep(20)", "time limit"),
    ("sleep(1000000000.0)", "time limit"),
    ("loop {}", "operations|time limit"),
    ("let i = 0; while true { i += 1; }", "operations|time limit"),
    ("fn f(n) { f(n + 1) } f(0)", "Stack overflow"),
    ("let s = \"x\"; loop { s += s; }", "Length of string"),
    (
        "let s = \" \"; s.pad(65536, \" \"); let t = s; s.replace(\" \", t);",
        "Length of string",
    ),
    (
        "let s = \" \"; s.pad(65000, \" \"); s.replace(\"\", \"abc\");",
        "Length of string",
    ),
    ("\" \".pad(1 << 40, \" \")", "Length of string"),
    ("let a = [1]; loop { a += a; }", "Size of array"),
    ("let a = []; a.pad(1 << 40, 0); a", "Size of array"),
    ("blob(1 << 40)", "Size of array"),
    (
        "let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }",
        "Size of object map|operations|time limit",
    ),
    (
        "let m = #{}; let f = || m; m.f = f;",
        "captures the variable `m`",
    ),
    (
        "loop { start(Fn(\"slow_lookup\"), [1]); }",
        "calls in flight",
    ),
    ("eval(\"40 + 2\")", "eval"),
    ("import \"os\" as os; os::exit()", "os"),
    (
        "loop { print(\"flood\"); debug(\"flood\"); }",
        "operations|time limit",
    ),
];

/// The sandbox, with the hostile group allowed and a 1 s deadline to keep the corpus quick.
fn sandbox() -> Bridge {
    Bridge::sandboxed()
        .allow_group("hostile")
        .limits(Limits::sandboxed().script_timeout(Duration::from_secs(1)))
        .build()
        .unwrap()
}

#[test]
fn every_hostile_script_ends_with_an_error_in_bounded_time_and_memory() {
    const TEST: &str =
        "hostile::every_hostile_script_ends_with_an_error_in_bounded_time_and_memory";
    in_child(TEST, run_the_corpus);
}

fn run_the_corpus() {
    let bridge = sandbox();
    for (script, expected) in CORPUS {
        let started = Instant::now();
        let error = match bridge.run(script) {
            Ok(value) => panic!("`{script}` succeeded with {value}"),
            Err(error) => error.to_string(),
        };
        let elapsed = started.elapsed();
        eprintln!("{elapsed:>12.3?}  {script}\n              -> {error}");
        assert!(
            expected.split('|').any(|piece| error.contains(piece)),
            "`{script}` ended with: {error}"
        );
        // The deadline is 1 s; twice that and more is a leak past the controls.
        assert!(
            elapsed < Duration::from_secs(3),
            "`{script}` took {elapsed:?}"
        );
        // A neighbour is served at once after each.
        assert_eq!(bridge.run("40 + 2").unwrap(), 42);
    }
    let peak = memory_bytes("VmHWM") / (1024 * 1024);
    eprintln!("peak resident memory: {peak} MiB");
    assert!(peak < 256, "peak resident memory {peak} MiB");
}

#[test]
fn hostile_scripts_running_at_once_all_end_and_the_bridge_still_serves() {
    let bridge = sandbox();
    let started = Instant::now();
    let handles: Vec<_> = CORPUS
        .iter()
        .map(|(script, _)| bridge.spawn(script))
        .collect();
    for (handle, (script, _)) in handles.into_iter().zip(CORPUS) {
        let outcome = handle.join();
        assert!(
            matches!(
                outcome,
                Err(Error::Script { .. }
                    | Error::Call(_)
                    | Error::Timeout { .. }
                    | Error::Syntax { .. })
            ),
            "`{script}`: {outcome:?}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(bridge.run("40 + 2").unwrap(), 42);
}

#[test]
fn a_huge_source_is_refused_before_it_is_parsed() {
    // Parsing this would take Rhai minutes (quadratic in statements), beyond any deadline.
    let huge = "1;\n".repeat(1024 * 1024);
    let bridge = sandbox();
    let started = Instant::now();
    let error = bridge.run(&huge).unwrap_err();
    assert!(
        matches!(&error, Error::Script { message, .. } if message.contains("max_script_size of 65536")),
        "{error:?}"
    );
    assert!(bridge.compile(&huge).is_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    let small_limit = Bridge::builder()
        .limits(Limits::default().max_script_size(100))
        .build()
        .unwrap();
    assert_eq!(small_limit.run("40 + 2").unwrap(), 42);
    let error = small_limit.run("1;".repeat(100)).unwrap_err();
    assert!(error.to_string().contains("200 bytes long"), "{error}");
}
