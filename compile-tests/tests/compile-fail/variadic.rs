use bridge_runtime::script_async;

#[script_async]
async fn log_all(format: String, ...) {}

fn main() {}
