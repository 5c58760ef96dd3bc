//! Where `print` and `debug` go: the host's hooks, nowhere in the sandbox, Rhai's stdout by default.
//! What reaches the process's own output is checked in a child process.

use bridge_runtime::Bridge;
use bridge_suite::child::{describe, in_child};
use std::sync::{Arc, Mutex};

const MARKER: &str = "script-output-marker-5c1e";

fn collector() -> (
    Arc<Mutex<Vec<String>>>,
    impl Fn(&str) + Send + Sync + 'static,
) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    (lines, move |line: &str| {
        sink.lock().unwrap().push(line.to_owned())
    })
}

#[test]
fn print_and_debug_reach_their_hooks() {
    let (printed, on_print) = collector();
    let (debugged, on_debug) = collector();
    let bridge = Bridge::builder()
        .on_print(on_print)
        .on_debug(on_debug)
        .build()
        .unwrap();
    bridge
        .run(r#"print("one"); print(2); debug("three"); debug([4])"#)
        .unwrap();
    assert_eq!(*printed.lock().unwrap(), ["one", "2"]);
    assert_eq!(*debugged.lock().unwrap(), ["\"three\"", "[4]"]);
}

#[test]
fn a_sandboxed_bridge_with_a_hook_sends_output_there() {
    let (printed, on_print) = collector();
    let bridge = Bridge::sandboxed().on_print(on_print).build().unwrap();
    bridge.run(r#"print("hello")"#).unwrap();
    assert_eq!(*printed.lock().unwrap(), ["hello"]);
}

#[test]
fn sandboxed_output_without_a_hook_goes_nowhere() {
    const TEST: &str = "script_output::sandboxed_output_without_a_hook_goes_nowhere";
    let output = in_child(TEST, || {
        let bridge = Bridge::sandboxed().build().unwrap();
        bridge
            .run(format!(r#"print("{MARKER}"); debug("{MARKER}")"#))
            .unwrap();
    });
    let Some(output) = output else { return };
    let all = describe(&output);
    assert!(!all.contains(MARKER), "{all}");
}

#[test]
fn the_default_bridge_keeps_rhais_print_to_stdout() {
    const TEST: &str = "script_output::the_default_bridge_keeps_rhais_print_to_stdout";
    let output = in_child(TEST, || {
        let bridge = Bridge::new().unwrap();
        bridge.run(format!(r#"print("{MARKER}")"#)).unwrap();
    });
    let Some(output) = output else { return };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(MARKER), "{}", describe(&output));
}
