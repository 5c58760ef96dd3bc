//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub name: String,
}

/// A `Result` return, borrowed parameters and a rename.
#[bridge_runtime::script_async(name = "find_user")]
pub async fn lookup_user(name: &str, ids: &[i64]) -> Result<User, String> {
    match ids.first() {
        Some(&id) => Ok(User { id, name: name.to_owned() }),
        None => Err(format!("no ids given for {name}")),
    }
}

fn main() {}
