//! What `#[script_async]` recognises by name, written the ways users write it: `State` and
//! `ScriptContext` by a path, and the crate's own `Result` alias (an `Err` is a script error).

use bridge_runtime::script_async;

struct Db {
    url: String,
}

struct Caller {
    user_id: i64,
}

/// A crate's own error alias, as `io::Result` and `anyhow::Result` are.
type Result<T> = std::result::Result<T, String>;

mod paths {
    pub use bridge_runtime as runtime;
}

#[script_async]
async fn describe(
    db: paths::runtime::State<Db>,
    caller: bridge_runtime::ScriptContext<Caller>,
    id: i64,
) -> Result<String> {
    if id < 0 {
        return Err(format!("no item {id}"));
    }
    Ok(format!("{id} in {} for {}", db.url, caller.user_id))
}

fn main() {
    let bridge = bridge_runtime::Bridge::builder()
        .state(Db { url: "db://notes".into() })
        .build()
        .expect("bridge starts");
    let run = |source: &str| bridge.script(source).context(Caller { user_id: 7 }).run();
    assert_eq!(run("describe(3)").expect("runs"), "3 in db://notes for 7");
    let error = run("describe(-1)").expect_err("Err is a script error");
    assert!(error.to_string().contains("no item -1"), "{error}");
}
