use bridge_runtime::script_async;

#[script_async]
async fn wait(ms: u64) -> u64 {
    ms
}

fn main() {}
