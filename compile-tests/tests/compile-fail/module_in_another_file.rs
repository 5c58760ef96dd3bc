use bridge_runtime::script_async;

#[script_async]
mod api;

fn main() {}
