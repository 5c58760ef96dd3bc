use bridge_runtime::script_async;

struct Opaque;

#[script_async]
async fn make() -> Opaque {
    Opaque
}

fn main() {}
