//! Running one test again in a child process: for scenarios that could crash the process, or
//! whose effect is on the process's own output. The test checks the child's exit status.

use std::process::{Command, Output};

/// Set in the child's environment to the name of the test it runs.
const CHILD_TEST: &str = "BRIDGE_SUITE_CHILD_TEST";

/// Whether this process is the child started by [`rerun_in_child`] for `test`.
pub fn is_child(test: &str) -> bool {
    std::env::var(CHILD_TEST).is_ok_and(|name| name == test)
}

/// Runs the test named `test` of this test binary again in a child process (which sees
/// [`is_child`] true) and returns its status and output. `test` is the name libtest knows it
/// by, with its module path inside the binary: `hostile::every_hostile_script_...` in
/// `tests/it`.
pub fn rerun_in_child(test: &str) -> Output {
    let binary = std::env::current_exe().expect("the test binary's path");
    Command::new(binary)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_TEST, test)
        .output()
        .expect("start the test binary again")
}

/// The child's standard output and error, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts that the child ran its one test and exited normally (a child that matched no test
/// would pass vacuously).
pub fn assert_passed(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child did not pass its test: {}",
        describe(output)
    );
}

/// Runs `check` in a child process: in the parent, re-runs the test `test` of this binary, asserts
/// that it passed and returns its output for further checks; in that child, runs `check`.
pub fn in_child(test: &str, check: impl FnOnce()) -> Option<Output> {
    if is_child(test) {
        check();
        return None;
    }
    let output = rerun_in_child(test);
    assert_passed(&output);
    Some(output)
}

/// Asserts that nothing panicked in the child, not even on a thread it did not join.
pub fn assert_no_panic(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{}", describe(output));
}
