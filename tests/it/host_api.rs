//! The host's side: typed results, engine hooks, error sources, `Debug` on every public type.

use bridge_runtime::{rhai, script_async, Bridge, Error, Limits, Script};
use serde::Deserialize;
use std::error::Error as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Deserialize, PartialEq)]
struct Report {
    name: String,
    total: i64,
    tags: Vec<String>,
}

#[script_async]
async fn lookup(id: i64) -> Result<i64, String> {
    if id < 0 {
        return Err(format!("no record {id}"));
    }
    Ok(id * 100)
}

#[test]
fn a_script_value_comes_back_as_the_type_asked_for() {
    let bridge = Bridge::new().unwrap();
    let report: Report = bridge
        .script(r#"#{ name: "daily", total: lookup(3), tags: ["a", "b"] }"#)
        .run_as()
        .unwrap();
    assert_eq!(
        report,
        Report {
            name: "daily".into(),
            total: 300,
            tags: vec!["a".into(), "b".into()]
        }
    );
    let numbers: Vec<f64> = bridge.script("[1, 2.5]").run_as().unwrap();
    assert_eq!(numbers, [1.0, 2.5]);
    let nothing: Option<i64> = bridge.script("()").run_as().unwrap();
    assert_eq!(nothing, None);
}

#[test]
fn a_value_that_does_not_fit_is_a_clear_error() {
    let bridge = Bridge::new().unwrap();
    let error = bridge
        .script(r#"#{ name: "daily", total: "lots", tags: [] }"#)
        .run_as::<Report>()
        .unwrap_err();
    match &error {
        Error::ResultType { type_name, message } => {
            assert!(type_name.ends_with("Report"), "{type_name}");
            assert!(
                message.contains("invalid type: string \"lots\""),
                "{message}"
            );
        }
        other => panic!("expected a result type error, got {other:?}"),
    }
    assert!(error
        .to_string()
        .starts_with("the script's result does not fit `"));
    let Error::ResultType { message, .. } = &error else {
        unreachable!()
    };
    assert!(error.to_string().ends_with(&message[..]), "{error}");
    assert!(
        error.source().is_none(),
        "the message is in Display, so not a source too"
    );
    let overflow = bridge.script("300").run_as::<u8>().unwrap_err();
    assert!(matches!(overflow, Error::ResultType { .. }), "{overflow:?}");
}

#[test]
fn configure_engine_adds_helpers_types_and_modules_to_every_engine() {
    #[derive(Clone)]
    struct Money(i64);

    let bridge = Bridge::sandboxed()
        .max_engine_threads(2)
        .configure_engine(|engine| {
            engine.register_fn("cents", |units: i64| units * 100);
            engine
                .register_type_with_name::<Money>("Money")
                .register_fn("money", Money)
                .register_get("amount", |m: &mut Money| m.0);
            let mut module = rhai::Module::new();
            module.set_native_fn("answer", || Ok(42_i64));
            let mut resolver = rhai::module_resolvers::StaticModuleResolver::new();
            resolver.insert("util", module);
            engine.set_module_resolver(resolver);
        })
        .build()
        .unwrap();
    let value = bridge
        .run(r#"import "util" as u; cents(3) + money(7).amount + u::answer()"#)
        .unwrap();
    assert_eq!(value, 300 + 7 + 42);
    // Async functions still work beside them.
    assert_eq!(bridge.run("lookup(cents(1))").unwrap(), 10_000);
}

#[test]
fn a_hook_cannot_take_away_deadlines_and_cancellation() {
    let bridge = Bridge::builder()
        .configure_engine(|engine| {
            // A host that installs its own progress callback (one that never stops anything).
            engine.on_progress(|_| None);
        })
        .limits(Limits::default().script_timeout(Duration::from_millis(200)))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = bridge.run("loop {}").unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_panicking_hook_fails_build_not_the_process() {
    let error = Bridge::builder()
        .configure_engine(|_| panic!("bad hook"))
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid bridge settings: configure_engine panicked: bad hook"
    );
}

#[test]
fn a_hook_that_panics_on_engine_threads_only_fails_their_scripts() {
    // Passes the check at build (the first call), then panics on every engine thread.
    let calls = Arc::new(AtomicU64::new(0));
    let seen = calls.clone();
    let bridge = Bridge::builder()
        .configure_engine(move |_| {
            if seen.fetch_add(1, Ordering::SeqCst) > 0 {
                panic!("only at build");
            }
        })
        .build()
        .unwrap();
    for _ in 0..3 {
        let error = bridge.run("1").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid bridge settings: building the script engine panicked: only at build"
        );
    }
}

#[test]
fn on_progress_sees_operations_and_can_end_a_script() {
    let operations = Arc::new(AtomicU64::new(0));
    let seen = operations.clone();
    let bridge = Bridge::builder()
        .on_progress(move |count| {
            seen.store(count, Ordering::Relaxed);
            (count > 5_000).then(|| rhai::Dynamic::from("over budget"))
        })
        .build()
        .unwrap();
    assert_eq!(
        bridge
            .run("let x = 0; for i in 0..10 { x += i } x")
            .unwrap(),
        45
    );
    assert!(operations.load(Ordering::Relaxed) > 10);
    let error = bridge.run("loop {}").unwrap_err();
    assert!(
        matches!(&error, Error::Script { message, .. } if message.contains("on_progress") && message.contains("over budget")),
        "{error:?}"
    );
}

#[test]
fn errors_print_each_message_once() {
    let bridge = Bridge::new().unwrap();
    let error = bridge.run("lookup(-4)").unwrap_err();
    assert_eq!(
        error.to_string(),
        "lookup failed: no record -4 (line 1, position 1)"
    );
    // Display says it all, so a chain of sources (anyhow's, eyre's) adds nothing to repeat.
    assert!(error.source().is_none(), "{error:?}");
    let Error::Call(call) = &error else {
        panic!("expected a call error, got {error:?}")
    };
    let as_std: &dyn std::error::Error = call;
    assert!(as_std.source().is_none());
    assert_eq!(call.message, "no record -4");

    let syntax = bridge.run("let = 1").unwrap_err();
    assert!(syntax.to_string().starts_with("syntax error: "), "{syntax}");
    assert!(syntax.source().is_none(), "{syntax:?}");
    let script = bridge.run("nope()").unwrap_err();
    assert!(
        script.to_string().contains("Function not found"),
        "{script}"
    );
    assert!(script.source().is_none(), "{script:?}");
    assert!(Error::Cancelled.source().is_none());
}

#[test]
fn every_public_type_implements_debug() {
    let bridge = Bridge::new().unwrap();
    let builder = Bridge::builder().global("g", 1);
    let script = Script::new("1").named("one");
    let run = bridge.script(&script).with("x", 1);
    let handle = bridge.spawn("1");
    for text in [
        format!("{bridge:?}"),
        format!("{builder:?}"),
        format!("{script:?}"),
        format!("{run:?}"),
        format!("{handle:?}"),
    ] {
        assert!(!text.is_empty());
        let type_name = text.split([' ', '{', '(']).next().unwrap();
        assert!(
            [
                "Bridge",
                "BridgeBuilder",
                "Script",
                "ScriptRun",
                "ScriptHandle"
            ]
            .contains(&type_name),
            "{text}"
        );
    }
    assert!(format!("{run:?}").contains("\"x\""));
    handle.join().unwrap();
}
