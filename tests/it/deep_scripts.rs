//! Nothing a script nests, and no depth setting the builder accepts, crashes the process: each
//! scenario runs in a child process whose exit status is checked, and ends with a clear error.

use bridge_runtime::{Bridge, Error, Limits};
use bridge_suite::child::in_child;
use bridge_suite::observe::memory_bytes;

/// The script builds an array `depth` levels deep in linear time, then runs `then` on it.
fn deep_array_script(depth: usize, then: &str) -> String {
    format!(
        "let a = []; let b = []; for i in 0..{depth} {{ a = [take(a)]; b = [take(b)]; }} {then}"
    )
}

/// Asserts that `result` is Ok, or the error for nesting too deeply (which of the two depends on
/// how much stack the build's code takes per level).
fn assert_ok_or_too_deep(result: Result<serde_json::Value, Error>) {
    if let Err(error) = result {
        assert_too_deep(Err(error));
    }
}

fn assert_too_deep(result: Result<serde_json::Value, Error>) {
    match result {
        Err(Error::Script { message, .. }) => {
            assert!(message.contains("nests too deeply"), "{message}")
        }
        other => panic!("expected the nesting error, got {other:?}"),
    }
}

#[test]
fn recursion_deeper_than_the_stack_with_a_huge_max_call_depth_ends_with_an_error() {
    in_child(
        "deep_scripts::recursion_deeper_than_the_stack_with_a_huge_max_call_depth_ends_with_an_error",
        || {
            let bridge = Bridge::builder()
                .limits(Limits::default().max_call_depth(1_000_000))
                .build()
                .unwrap();
            let script = "fn down(n) { if n == 0 { 0 } else { 1 + down(n - 1) } } down(200000)";
            assert_too_deep(bridge.run(script));
            // The engine thread goes on serving.
            assert_eq!(bridge.run("40 + 2").unwrap(), 42);
        },
    );
}

#[test]
fn a_sandbox_with_a_raised_max_call_depth_ends_deep_recursion_with_an_error() {
    in_child(
        "deep_scripts::a_sandbox_with_a_raised_max_call_depth_ends_deep_recursion_with_an_error",
        || {
            let bridge = Bridge::sandboxed()
                .limits(
                    Limits::sandboxed()
                        .max_call_depth(100_000)
                        .max_operations(u64::MAX),
                )
                .build()
                .unwrap();
            let script = "fn down(n) { if n == 0 { 0 } else { 1 + down(n - 1) } } down(90000)";
            assert_too_deep(bridge.run(script));
        },
    );
}

#[test]
fn printing_comparing_and_searching_deeply_nested_arrays_never_crashes() {
    in_child(
        "deep_scripts::printing_comparing_and_searching_deeply_nested_arrays_never_crashes",
        || {
            let bridge = Bridge::new().unwrap();
            // Rhai takes quadratic time to build nested arrays this way: 10,000 levels take
            // about a second here; 40,000 (checked by hand) take minutes and end the same way.
            let depth = 10_000;
            for then in [
                "a.to_string().len()",
                "a == b",
                "a.contains([])",
                "`${a}`.len()",
            ] {
                assert_ok_or_too_deep(bridge.run(deep_array_script(depth, then)));
            }
            assert_eq!(bridge.run(deep_array_script(depth, "a.len()")).unwrap(), 1);
        },
    );
}

#[test]
fn deep_scripts_do_not_leave_their_stack_pages_resident_once_they_end() {
    in_child(
        "deep_scripts::deep_scripts_do_not_leave_their_stack_pages_resident_once_they_end",
        || {
            const MIB: usize = 1024 * 1024;
            let bridge = Bridge::builder()
                .max_engine_threads(1)
                .limits(Limits::default().max_call_depth(2000))
                .build()
                .unwrap();
            bridge.run("1").unwrap();
            let before = memory_bytes("VmRSS");
            // Eight scripts deep at once (each sleeps at the bottom of its recursion), so each
            // needs a stack of its own: every cached stack has been deep.
            let script =
                "fn down(n) { if n == 0 { sleep(0.6); 0 } else { 1 + down(n - 1) } } down(1500)";
            let handles: Vec<_> = (0..8).map(|_| bridge.spawn(script)).collect();
            std::thread::sleep(std::time::Duration::from_millis(400));
            let during = memory_bytes("VmRSS");
            for handle in handles {
                assert_eq!(handle.join().unwrap(), 1500);
            }
            let after = memory_bytes("VmRSS");
            eprintln!(
                "resident: before {} MiB, during {} MiB, after {} MiB",
                before / MIB,
                during / MIB,
                after / MIB
            );
            assert!(
                during > before + 24 * MIB,
                "the scripts were not deep enough to tell"
            );
            assert!(after < before + 16 * MIB, "their stacks stayed resident");
        },
    );
}

#[test]
fn a_stack_overflow_inside_rhais_own_clone_ends_the_script_and_the_bridge_serves_on() {
    in_child(
        "deep_scripts::a_stack_overflow_inside_rhais_own_clone_ends_the_script_and_the_bridge_serves_on",
        || {
            // A small stack, so that data Rhai builds in a moment is deep enough to overflow it
            // in its clone, which recurses with no operation (and no stack check) in between.
            let bridge = Bridge::builder()
                .script_stack_size(512 * 1024)
                .max_engine_threads(1)
                .build()
                .unwrap();
            let script =
                "let a = #{}; for i in 0..20000 { a = #{x: take(a)}; } let b = a; b.x.len()";
            match bridge.run(script) {
                Err(Error::Script { message, .. }) => {
                    assert!(message.contains("overflowed its stack"), "{message}")
                }
                other => panic!("expected the overflow error, got {other:?}"),
            }
            // A fresh engine thread takes the next scripts.
            assert_eq!(bridge.run("40 + 2").unwrap(), 42);
            assert_eq!(bridge.run("[1, 2].len()").unwrap(), 2);
        },
    );
}
