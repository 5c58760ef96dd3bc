//! Numeric settings the host cannot have fail `build` with `Error::Config` naming the setting,
//! the value and the range; none is clamped silently, and every accepted extreme works.

use bridge_runtime::{script_async, Bridge, BridgeBuilder, Error, Limits};
use bridge_suite::child::in_child;
use std::time::Duration;

#[script_async]
async fn echo_after_yield(n: i64) -> i64 {
    tokio::task::yield_now().await;
    n
}

#[script_async]
async fn sleep_for(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

fn config_error(builder: BridgeBuilder) -> String {
    match builder.build() {
        Err(Error::Config(message)) => message,
        Err(other) => panic!("expected a configuration error, got {other:?}"),
        Ok(_) => panic!("expected a configuration error, the bridge was built"),
    }
}

#[test]
fn a_script_stack_the_host_cannot_map_fails_build_and_does_not_crash() {
    in_child(
        "settings::a_script_stack_the_host_cannot_map_fails_build_and_does_not_crash",
        || {
            let message = config_error(Bridge::builder().script_stack_size(usize::MAX));
            assert_eq!(
                message,
                format!(
                    "script_stack_size({}) is out of range: it must be from 262144 to 1073741824 \
                     (bytes: 256 KiB to 1 GiB)",
                    usize::MAX
                )
            );
        },
    );
}

#[test]
fn a_script_stack_below_the_minimum_is_refused_not_raised() {
    for bytes in [0, 1, 256 * 1024 - 1] {
        let message = config_error(Bridge::builder().script_stack_size(bytes));
        assert!(
            message.starts_with(&format!("script_stack_size({bytes}) is out of range")),
            "{message}"
        );
    }
}

#[test]
fn the_extreme_script_stacks_accepted_run_scripts() {
    for bytes in [256 * 1024, 1024 * 1024 * 1024] {
        let bridge = Bridge::builder().script_stack_size(bytes).build().unwrap();
        let value = bridge.run("fn f(n) { if n == 0 { 0 } else { 1 + f(n - 1) } } f(5)");
        assert_eq!(value.unwrap(), 5, "with a stack of {bytes} bytes");
    }
}

#[test]
fn a_hundred_thousand_engine_threads_fail_build_before_any_starts() {
    in_child(
        "settings::a_hundred_thousand_engine_threads_fail_build_before_any_starts",
        || {
            let message = config_error(Bridge::builder().min_engine_threads(100_000));
            assert!(
                message.starts_with(
                    "min_engine_threads(100000) is out of range: it must be from 0 to 1024"
                ),
                "{message}"
            );
            let message = config_error(Bridge::builder().max_engine_threads(100_000));
            assert!(
                message.starts_with(
                    "max_engine_threads(100000) is out of range: it must be from 1 to 1024"
                ),
                "{message}"
            );
        },
    );
}

#[test]
fn engine_thread_counts_that_contradict_each_other_are_refused() {
    let message = config_error(Bridge::builder().max_engine_threads(0));
    assert!(
        message.starts_with("max_engine_threads(0) is out of range: it must be from 1 to"),
        "{message}"
    );
    let message = config_error(
        Bridge::builder()
            .max_engine_threads(2)
            .min_engine_threads(4),
    );
    assert!(
        message.starts_with("max_engine_threads(2) is out of range: it must be from 4 to 1024"),
        "{message}"
    );
    // Without an explicit maximum, the default one is raised to the minimum, as documented.
    let bridge = Bridge::builder().min_engine_threads(3).build().unwrap();
    assert_eq!(bridge.engine_threads(), 3);
}

#[test]
fn no_concurrent_scripts_at_all_is_refused() {
    let message = config_error(Bridge::builder().max_concurrent_scripts(0));
    assert!(
        message.starts_with("max_concurrent_scripts(0) is out of range: it must be from 1"),
        "{message}"
    );
}

#[test]
fn a_zero_rhai_limit_is_refused_because_rhai_reads_it_as_unlimited() {
    let cases: [(&str, BridgeBuilder); 5] = [
        (
            "max_operations",
            Bridge::sandboxed().limits(Limits::sandboxed().max_operations(0)),
        ),
        (
            "max_string_size",
            Bridge::sandboxed().limits(Limits::sandboxed().max_string_size(0)),
        ),
        (
            "max_array_size",
            Bridge::sandboxed().limits(Limits::sandboxed().max_array_size(0)),
        ),
        (
            "max_map_size",
            Bridge::sandboxed().limits(Limits::sandboxed().max_map_size(0)),
        ),
        (
            "max_variables",
            Bridge::sandboxed().limits(Limits::sandboxed().max_variables(0)),
        ),
    ];
    for (setting, builder) in cases {
        let message = config_error(builder);
        assert!(
            message.starts_with(&format!(
                "Limits::{setting}(0) is out of range: Rhai reads 0 as no limit"
            )),
            "{message}"
        );
    }
    for depths in [(0, 0), (64, 0), (0, 32)] {
        let limits = Limits::sandboxed().max_expression_depth(depths);
        let message = config_error(Bridge::sandboxed().limits(limits));
        let expected = format!(
            "Limits::max_expression_depth(({}, {})) is out of range: Rhai reads 0 as no limit",
            depths.0, depths.1
        );
        assert!(message.starts_with(&expected), "{message}");
    }
    // The largest values lift the limits.
    let bridge = Bridge::sandboxed()
        .limits(
            Limits::sandboxed()
                .max_string_size(usize::MAX)
                .max_operations(u64::MAX),
        )
        .build()
        .unwrap();
    let long = bridge.run(r#"let s = "x"; for i in 0..17 { s += s } s.len()"#);
    assert_eq!(long.unwrap(), 1 << 17);
}

#[test]
fn the_longest_durations_mean_no_limit_and_never_overflow() {
    in_child(
        "settings::the_longest_durations_mean_no_limit_and_never_overflow",
        || {
            let bridge = Bridge::builder()
                .limits(
                    Limits::default()
                        .script_timeout(Duration::MAX)
                        .call_timeout(Duration::MAX),
                )
                .engine_idle_timeout(Duration::MAX)
                .build()
                .unwrap();
            assert_eq!(bridge.run("echo_after_yield(7)").unwrap(), 7);
            let value = bridge
                .script("echo_after_yield(8)")
                .timeout(Duration::MAX)
                .run();
            assert_eq!(value.unwrap(), 8);
            let started = bridge.run(r#"let h = start(Fn("echo_after_yield"), [9]); wait(h)"#);
            assert_eq!(started.unwrap(), 9);
        },
    );
}

#[test]
fn zero_durations_end_scripts_with_clear_errors_not_hangs() {
    let bridge = Bridge::builder()
        .limits(Limits::default().script_timeout(Duration::ZERO))
        .build()
        .unwrap();
    let error = bridge.run("loop {}").unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    let bridge = Bridge::builder()
        .limits(Limits::default().call_timeout(Duration::ZERO))
        .build()
        .unwrap();
    let error = bridge.run("sleep_for(50)").unwrap_err();
    assert!(
        error.to_string().contains("did not finish within 0 ms"),
        "{error}"
    );
}
