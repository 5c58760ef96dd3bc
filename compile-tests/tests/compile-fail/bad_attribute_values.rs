use bridge_runtime::script_async;

#[script_async(timeout_ms = 0, group = "", name = "a", name = "b")]
async fn configured(x: i64) -> i64 {
    x
}

#[script_async(timeout_ms = "fast", group = 3)]
async fn mistyped(x: i64) -> i64 {
    x
}

#[script_async(crate = "not a path")]
async fn misplaced(x: i64) -> i64 {
    x
}

fn main() {}
