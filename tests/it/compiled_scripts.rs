//! `Bridge::compile`, `Script`, and the per-thread cache of parsed scripts.

use bridge_runtime::{script_async, Bridge, Error, Script, ScriptPosition};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

#[script_async]
async fn add_one(n: i64) -> i64 {
    n + 1
}

#[test]
fn a_syntax_error_is_reported_by_compile_with_its_position() {
    let bridge = Bridge::new().unwrap();
    let error = bridge.compile("let x = 1;\nlet = 2;").unwrap_err();
    match error {
        Error::Syntax { position, .. } => assert_eq!(position.line(), Some(2)),
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let named = bridge.compile(Script::new("1 +").named("report.rhai"));
    let error = named.unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("(report.rhai, line 1, position 4)"),
        "{error}"
    );
}

#[test]
fn compile_refuses_what_the_sandbox_refuses() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let error = bridge
        .compile("let n = 1; let f = || n; f.call()")
        .unwrap_err();
    assert!(
        matches!(&error, Error::Script { message, .. } if message.contains("captures the variable `n`")),
        "{error:?}"
    );
}

#[test]
fn a_compiled_script_is_shared_by_threads_and_runs_with_their_inputs() {
    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync_clone::<Script>();

    let bridge = Arc::new(Bridge::builder().max_engine_threads(3).build().unwrap());
    let script = bridge.compile("add_one(n) * factor").unwrap();
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let (bridge, script) = (bridge.clone(), script.clone());
            thread::spawn(move || {
                (0..20)
                    .map(|n| {
                        let run = bridge.script(&script).with("n", n).with("factor", i);
                        run.run_as::<i64>().unwrap()
                    })
                    .sum::<i64>()
            })
        })
        .collect();
    let totals: Vec<i64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let expected: Vec<i64> = (0..6).map(|i| (1..=20).sum::<i64>() * i).collect();
    assert_eq!(totals, expected);
}

#[test]
fn a_named_script_names_itself_in_errors() {
    let bridge = Bridge::new().unwrap();
    let error = bridge
        .script("let x = 1;\nx.nope()")
        .name("nightly-report")
        .run()
        .unwrap_err();
    match &error {
        Error::Script { position, .. } => {
            assert_eq!(position.script(), Some("nightly-report"));
            assert_eq!(
                position,
                &ScriptPosition::new(2, 3).in_script("nightly-report")
            );
        }
        other => panic!("expected a script error, got {other:?}"),
    }
    assert!(
        error
            .to_string()
            .contains("(nightly-report, line 2, position 3)"),
        "{error}"
    );
}

/// Counts the tokens each engine parses, through Rhai's own parser hook.
fn counting_bridge(cache: usize) -> (Bridge, Arc<AtomicUsize>) {
    let tokens = Arc::new(AtomicUsize::new(0));
    let counter = tokens.clone();
    let bridge = Bridge::builder()
        .max_engine_threads(1)
        .script_cache(cache)
        .configure_engine(move |engine| {
            let counter = counter.clone();
            // Rhai marks this hook "volatile", not deprecated; it is only used to count here.
            #[allow(deprecated)]
            engine.on_parse_token(move |token, _, _| {
                counter.fetch_add(1, Ordering::Relaxed);
                token
            });
        })
        .build()
        .unwrap();
    (bridge, tokens)
}

#[test]
fn a_source_run_again_is_not_parsed_again() {
    let (bridge, tokens) = counting_bridge(16);
    bridge.run("add_one(41)").unwrap();
    let after_first = tokens.load(Ordering::Relaxed);
    assert!(after_first > 0);
    for _ in 0..5 {
        assert_eq!(bridge.run("add_one(41)").unwrap(), 42);
    }
    let compiled = bridge.compile("add_one(41)").unwrap();
    assert_eq!(bridge.run(&compiled).unwrap(), 42);
    assert_eq!(tokens.load(Ordering::Relaxed), after_first);

    bridge.run("add_one(1)").unwrap();
    assert!(
        tokens.load(Ordering::Relaxed) > after_first,
        "a new source is parsed"
    );
}

#[test]
fn without_a_cache_every_run_parses() {
    let (bridge, tokens) = counting_bridge(0);
    bridge.run("add_one(41)").unwrap();
    let once = tokens.load(Ordering::Relaxed);
    bridge.run("add_one(41)").unwrap();
    assert_eq!(tokens.load(Ordering::Relaxed), 2 * once);
}

#[test]
fn the_cache_is_bounded_by_count() {
    let (bridge, tokens) = counting_bridge(2);
    for source in ["1", "2", "3"] {
        bridge.run(source).unwrap();
    }
    let before = tokens.load(Ordering::Relaxed);
    bridge.run("1").unwrap();
    assert!(
        tokens.load(Ordering::Relaxed) > before,
        "the oldest source was dropped and is parsed again"
    );
    let before = tokens.load(Ordering::Relaxed);
    bridge.run("3").unwrap();
    assert_eq!(
        tokens.load(Ordering::Relaxed),
        before,
        "a recent one was kept"
    );
}

#[test]
fn a_hostile_stream_of_distinct_sources_does_not_grow_the_cache_without_bound() {
    // In a process of its own: the resident memory measured is then this test's alone, not
    // that of tests running beside it (a stream's huge items, say).
    let test = "compiled_scripts::a_hostile_stream_of_distinct_sources_does_not_grow_the_cache_without_bound";
    bridge_suite::child::in_child(test, || {
        let bridge = Bridge::sandboxed().max_engine_threads(1).build().unwrap();
        let baseline = bridge_suite::observe::memory_bytes("VmRSS");
        // 3,000 distinct sources of 20 KiB each: 60 MB if all were kept (with their ASTs, more).
        let padding = "x".repeat(20 * 1024);
        for i in 0..3_000 {
            bridge.run(format!("let s = \"{padding}\"; {i}")).unwrap();
        }
        let grown = bridge_suite::observe::memory_bytes("VmRSS").saturating_sub(baseline);
        assert!(
            grown < 64 * 1024 * 1024,
            "the cache kept {} MiB",
            grown / (1024 * 1024)
        );
    });
}

#[test]
fn a_compiled_script_too_large_for_the_cache_stays_parsed() {
    let (bridge, tokens) = counting_bridge(16);
    // 5.7 MB: far over what the cache keeps of sources run as text.
    let source = format!("let s = \"{}\"; s.len()", "x".repeat(5_700_000));
    bridge.run(&source).unwrap();
    let once = tokens.load(Ordering::Relaxed);
    bridge.run(&source).unwrap();
    assert_eq!(
        tokens.load(Ordering::Relaxed),
        2 * once,
        "run as text, it is parsed each time"
    );

    let compiled = bridge.compile(&source).unwrap();
    let after_compile = tokens.load(Ordering::Relaxed);
    for _ in 0..3 {
        assert_eq!(bridge.run(&compiled).unwrap(), 5_700_000);
    }
    // A flood of other sources does not push it out either.
    for i in 0..40 {
        bridge.run(format!("{i}")).unwrap();
    }
    let before = tokens.load(Ordering::Relaxed);
    bridge.script(compiled.clone()).run().unwrap();
    assert_eq!(tokens.load(Ordering::Relaxed), before);
    assert_eq!(after_compile, 3 * once, "compile parsed it once");
}
