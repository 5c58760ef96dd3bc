use bridge_runtime::{script_async, ScriptCallback};

#[script_async]
async fn apply(callback: &ScriptCallback) -> i64 {
    callback.call::<i64>(()).await.unwrap_or(0)
}

fn main() {}
