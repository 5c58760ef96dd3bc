//! User items named like the ones `#[script_async]` generates for `add` (its command struct, its
//! proxy, its registration) do not collide with them, even when the signature uses them.

#![deny(warnings)]

use bridge_runtime::script_async;
use serde::{Deserialize, Serialize};

/// A user type with the name the command struct of `add` would have without `__`.
#[derive(Serialize, Deserialize)]
pub struct AddCommand {
    pub x: i64,
}

/// A user type with the name a registration constant would have.
#[allow(non_camel_case_types)]
#[derive(Serialize, Deserialize)]
pub struct REGISTRATION(pub i64);

/// A user function with the name the proxy of `add` would have.
pub fn add_proxy() -> i64 {
    1
}

#[script_async]
async fn add(command: AddCommand, registration: REGISTRATION) -> AddCommand {
    AddCommand {
        x: command.x + registration.0 + add_proxy(),
    }
}

fn main() {
    let outcome = bridge_runtime::run("add(#{ x: 1 }, 2).x").expect("runs");
    assert_eq!(outcome, 4);
}
