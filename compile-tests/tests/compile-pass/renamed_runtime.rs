//! `crate = "..."` reaches the runtime through another path (a re-export or a renamed dependency).

pub mod platform {
    pub use bridge_runtime as scripting;
}

#[bridge_runtime::script_async(crate = "crate::platform::scripting", group = "g")]
async fn through_a_reexport(x: i64) -> i64 {
    x
}

fn main() {
    let bridge = platform::scripting::Bridge::new().expect("bridge starts");
    assert_eq!(bridge.run("through_a_reexport(5)").expect("runs"), 5);
}
