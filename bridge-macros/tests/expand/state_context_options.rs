//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]

/// A connection pool the bridge shares with every call.
#[derive(Debug)]
pub struct Db {
    pub url: String,
}

/// Who submitted the script.
#[derive(Debug)]
pub struct Caller {
    pub user_id: i64,
}

/// State and context parameters are not script arguments; a group and a time limit.
#[bridge_runtime::script_async(group = "users", timeout_ms = 1500)]
async fn rename_user(
    db: bridge_runtime::State<Db>,
    caller: bridge_runtime::ScriptContext<Caller>,
    new_name: String,
) -> Result<String, String> {
    Ok(format!("{} renamed by {} on {}", new_name, caller.user_id, db.url))
}

fn main() {}
