use bridge_runtime::script_async;

#[script_async(name = "await")]
async fn wait_for(x: i64) -> i64 {
    x
}

fn main() {}
