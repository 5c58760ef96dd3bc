//! `Mut`, `Resource` and `ScriptStream` imported under other names: the macro recognises them by
//! name, so it would read the parameter as data and the returns as plain values; the compiler
//! refuses each, on its type, saying what to write.

use bridge_runtime::{script_async, Mut as Exclusive, Resource as Held, ScriptStream as Rows};

/// An account a script holds.
pub struct Account {
    balance: i64,
}

#[script_async]
impl Account {}

#[script_async]
async fn open_account() -> Held<Account> {
    Held::new(Account { balance: 0 })
}

#[script_async]
async fn reset(mut a: Exclusive<Account>) {
    a.balance = 0;
}

#[script_async]
async fn numbers() -> Rows<i64> {
    Rows::new(futures_util::stream::iter([1_i64]))
}

fn main() {}
