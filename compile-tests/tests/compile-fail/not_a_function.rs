use bridge_runtime::script_async;

#[script_async]
struct NotAFunction;

fn main() {}
