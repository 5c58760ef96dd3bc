//! Runs `examples/web_service.rs --self-test`: the axum service with SQLite and an HTTP client,
//! checked end to end against itself (inputs, typed results, state, context, the sandbox).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// `cargo test` builds the examples beside the test binaries: `target/<profile>/examples/`.
fn example_binary(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let profile_dir = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn the_web_service_example_passes_its_self_test() {
    let binary = example_binary("web_service");
    assert!(
        binary.exists(),
        "{} is missing: `cargo test` builds examples; run the whole suite",
        binary.display()
    );
    let started = Instant::now();
    let output = Command::new(&binary)
        .arg("--self-test")
        .output()
        .expect("the example starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("self-test passed"),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    // One script waits out its 2 s limit; everything else is quick.
    assert!(started.elapsed() < Duration::from_secs(30));
}
