//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]

use bridge_runtime::{Mut, Ref, Resource};

/// An account a script holds.
#[derive(Debug)]
pub struct Account {
    balance: i64,
}

/// A method taking a further resource, and one consuming its object for another.
#[bridge_runtime::script_async]
impl Account {
    /// Moves `amount` from this account to `to`.
    async fn move_to(&mut self, mut to: Mut<Self>, amount: i64) -> i64 {
        self.balance -= amount;
        to.balance += amount;
        self.balance
    }

    /// Closes this account into `into`.
    async fn merge_into(self, mut into: Mut<Account>) {
        into.balance += self.balance;
    }
}

/// A new account.
#[bridge_runtime::script_async]
async fn account(balance: i64) -> Resource<Account> {
    Resource::new(Account { balance })
}

/// The balances of two accounts together, each shared.
#[bridge_runtime::script_async]
async fn total(a: Ref<Account>, b: Ref<Account>) -> i64 {
    a.balance + b.balance
}

fn main() {}
