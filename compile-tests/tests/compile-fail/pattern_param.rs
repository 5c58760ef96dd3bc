use bridge_runtime::script_async;

#[script_async]
async fn sum((a, b): (i64, i64)) -> i64 {
    a + b
}

fn main() {}
