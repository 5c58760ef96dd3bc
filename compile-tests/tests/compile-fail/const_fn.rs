use bridge_runtime::script_async;

#[script_async]
const fn answer() -> i64 {
    42
}

fn main() {}
