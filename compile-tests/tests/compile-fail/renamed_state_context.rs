//! `State` and `ScriptContext` imported under other names: the macro recognises them by name, so
//! it would read them from the script; the compiler refuses each, on its type, saying what to write.

use bridge_runtime::{script_async, ScriptContext as Ctx, State as S};

struct Db;
struct Caller;

#[script_async]
async fn renamed(db: S<Db>, caller: Ctx<Caller>, id: i64) -> i64 {
    let _ = (db, caller);
    id
}

fn main() {}
