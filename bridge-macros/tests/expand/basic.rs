use bridge_runtime::script_async;

/// Two integers in, one out.
#[script_async]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
