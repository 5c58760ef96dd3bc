use bridge_runtime::script_async;

/// No parameters, no return value.
#[script_async]
async fn tick() {}

fn main() {}
