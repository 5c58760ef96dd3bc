use bridge_runtime::script_async;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub name: String,
}

/// A `Result` return, borrowed parameters and a rename.
#[script_async(name = "find_user")]
pub async fn lookup_user(name: &str, ids: &[i64]) -> Result<User, String> {
    match ids.first() {
        Some(&id) => Ok(User { id, name: name.to_owned() }),
        None => Err(format!("no ids given for {name}")),
    }
}

fn main() {}
