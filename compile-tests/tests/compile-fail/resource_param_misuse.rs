//! Where a resource parameter cannot be: borrowed, in an `eager` function, in a module's
//! command. Each is one error on its type saying what to do.

use bridge_runtime::{script_async, Mut, Ref, Resource};

/// An account a script holds.
pub struct Account {
    balance: i64,
}

#[script_async]
impl Account {}

#[script_async]
async fn account() -> Resource<Account> {
    Resource::new(Account { balance: 0 })
}

#[script_async]
async fn borrowed(a: &Ref<Account>, b: &mut Mut<Account>) -> i64 {
    a.balance + b.balance
}

#[script_async(eager)]
async fn eager_balance(a: Ref<Account>) -> i64 {
    a.balance
}

#[script_async]
mod api {
    use bridge_runtime::Mut;

    async fn reset(mut a: Mut<super::Account>) {
        a.balance = 0;
    }
}

fn main() {}
