//! `ScriptCallback` imported under another name: the macro recognises it by name, so it would
//! convert it as data; the compiler refuses it, on its type, saying what to write.

use bridge_runtime::{script_async, ScriptCallback as Callback};

#[script_async]
async fn renamed_callback(f: Callback) -> i64 {
    f.call::<i64>(()).await.unwrap_or(0)
}

fn main() {}
