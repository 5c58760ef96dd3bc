use bridge_runtime::script_async;

#[script_async]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
