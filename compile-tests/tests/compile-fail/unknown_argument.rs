use bridge_runtime::script_async;

#[script_async(name = "ok", retries = 3)]
async fn flaky(x: i64) -> i64 {
    x
}

fn main() {}
