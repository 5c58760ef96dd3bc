//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Account {
    pub id: i64,
    pub balance: i64,
}

/// The accounts API: its functions form the group `accounts`.
#[bridge_runtime::script_async]
pub mod accounts {
    use super::Account;

    /// Opens an account.
    pub async fn open_account(owner: &str) -> Account {
        Account { id: owner.len() as i64, balance: 0 }
    }

    pub async fn deposit(id: i64, amount: i64) -> Result<Account, String> {
        if amount <= 0 {
            return Err(format!("cannot deposit {amount}"));
        }
        Ok(Account { id, balance: amount })
    }
}

fn main() {}
