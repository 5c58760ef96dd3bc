use bridge_runtime::script_async;

#[script_async]
async fn echo<T: serde::Serialize>(value: T) -> T {
    value
}

fn main() {}
