use bridge_runtime::script_async;

struct Opaque;

#[script_async]
async fn take(value: Opaque) -> i64 {
    let _ = value;
    1
}

fn main() {}
