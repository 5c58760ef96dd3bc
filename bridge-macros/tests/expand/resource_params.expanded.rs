//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]
use bridge_runtime::{Mut, Ref, Resource};
/// An account a script holds.
#[derive(Debug)]
pub struct Account {
    balance: i64,
}
/// A method taking a further resource, and one consuming its object for another.
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
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    #[automatically_derived]
    impl __bridge::ScriptResource for Account {
        const TYPE_NAME: &'static str = "Account";
    }
};
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`Account::move_to`]: its arguments as owned fields.
    struct __AccountMoveToCommand {
        __object: __bridge::ResourceRef<Account>,
        to: __bridge::ResourceRef<Account>,
        amount: i64,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<i64>::new().script_argument();
        __bridge::NameCheck::<i64>::new().return_value();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __AccountMoveToCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __AccountMoveToCommand {
        const SCRIPT_NAME: &'static str = "Account.move_to";
        type Output = i64;
        /// Worker side: awaits [`Account::move_to`] with this command's arguments.
        async fn dispatch(
            self,
            env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            let resources = env
                .lock_resources(
                    ::std::vec![
                        __bridge::Claim::exclusive(& self.__object, "self"),
                        __bridge::Claim::exclusive(& self.to, "to")
                    ],
                )
                .await?;
            let mut object = resources.exclusive(&self.__object)?;
            ::core::result::Result::Ok(
                <Account>::move_to(
                        &mut *object,
                        resources.exclusive(&self.to)?,
                        self.amount,
                    )
                    .await,
            )
        }
    }
    /// Script side of [`Account::move_to`]: converts the arguments, sends a `__AccountMoveToCommand` to the worker, waits for the reply.
    fn __move_to_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __AccountMoveToCommand {
            __object: call.resource(0, "self")?,
            to: call.resource(1, "to")?,
            amount: call.argument(2, "amount")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`Account::move_to`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "Account.move_to",
            ::core::concat!(::core::module_path!(), "::", "Account::move_to"),
            &[
                __bridge::param("to", "Mut<Account>", "Account"),
                __bridge::param("amount", "i64", "int"),
            ],
            __bridge::returns("i64", "int"),
            __move_to_proxy,
        )
        .with_method("move_to", __bridge::ResourceType::of::<Account>())
        .with_resource_params(&[__bridge::ResourceType::of::<Account>()])
        .with_docs(" Moves `amount` from this account to `to`.");
    __bridge::inventory::submit!(__REGISTRATION);
};
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`Account::merge_into`]: its arguments as owned fields.
    struct __AccountMergeIntoCommand {
        __object: __bridge::ResourceRef<Account>,
        into: __bridge::ResourceRef<Account>,
    }
    #[automatically_derived]
    impl __bridge::CommandSeal for __AccountMergeIntoCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __AccountMergeIntoCommand {
        const SCRIPT_NAME: &'static str = "Account.merge_into";
        type Output = ();
        /// Worker side: awaits [`Account::merge_into`] with this command's arguments.
        async fn dispatch(
            self,
            env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            let resources = env
                .lock_resources(
                    ::std::vec![
                        __bridge::Claim::consuming(& self.__object, "merge_into"),
                        __bridge::Claim::exclusive(& self.into, "into")
                    ],
                )
                .await?;
            let object = resources.value(&self.__object)?;
            ::core::result::Result::Ok(
                <Account>::merge_into(object, resources.exclusive(&self.into)?).await,
            )
        }
    }
    /// Script side of [`Account::merge_into`]: converts the arguments, sends a `__AccountMergeIntoCommand` to the worker, waits for the reply.
    fn __merge_into_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __AccountMergeIntoCommand {
            __object: call.resource(0, "self")?,
            into: call.resource(1, "into")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`Account::merge_into`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "Account.merge_into",
            ::core::concat!(::core::module_path!(), "::", "Account::merge_into"),
            &[__bridge::param("into", "Mut<Account>", "Account")],
            __bridge::returns("()", "()"),
            __merge_into_proxy,
        )
        .with_method("merge_into", __bridge::ResourceType::of::<Account>())
        .with_resource_params(&[__bridge::ResourceType::of::<Account>()])
        .with_docs(" Closes this account into `into`.");
    __bridge::inventory::submit!(__REGISTRATION);
};
/// A new account.
async fn account(balance: i64) -> Resource<Account> {
    Resource::new(Account { balance })
}
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`account`]: its arguments as owned fields.
    struct __AccountCommand {
        balance: i64,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<i64>::new().script_argument();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __AccountCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __AccountCommand {
        const SCRIPT_NAME: &'static str = "account";
        type Output = Resource<Account>;
        /// Worker side: awaits [`account`] with this command's arguments.
        async fn dispatch(
            self,
            _env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            ::core::result::Result::Ok(account(self.balance).await)
        }
        /// Worker side, on a bridge with more threads: [`account`]'s call, to run on any of them if its future is `Send`.
        fn dispatch_placed(
            self,
            env: __bridge::CallEnv,
        ) -> __bridge::Placed<Self::Output> {
            use __bridge::placement::*;
            let call = __bridge::FutureProbe(
                <Self as __bridge::ScriptCommand>::dispatch(self, env.off_worker()),
            );
            (&call).placement().boxed(call)
        }
    }
    /// Script side of [`account`]: converts the arguments, sends a `__AccountCommand` to the worker, waits for the reply.
    fn __account_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __AccountCommand {
            balance: call.argument(0, "balance")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`account`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "account",
            ::core::concat!(::core::module_path!(), "::", "account"),
            &[__bridge::param("balance", "i64", "int")],
            __bridge::returns("Resource<Account>", "Account"),
            __account_proxy,
        )
        .with_resource_return(__bridge::ResourceType::of::<Account>())
        .with_docs(" A new account.");
    __bridge::inventory::submit!(__REGISTRATION);
};
/// The balances of two accounts together, each shared.
async fn total(a: Ref<Account>, b: Ref<Account>) -> i64 {
    a.balance + b.balance
}
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`total`]: its arguments as owned fields.
    struct __TotalCommand {
        a: __bridge::ResourceRef<Account>,
        b: __bridge::ResourceRef<Account>,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<i64>::new().return_value();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __TotalCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __TotalCommand {
        const SCRIPT_NAME: &'static str = "total";
        type Output = i64;
        /// Worker side: awaits [`total`] with this command's arguments.
        async fn dispatch(
            self,
            env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            let resources = env
                .lock_resources(
                    ::std::vec![
                        __bridge::Claim::shared(& self.a, "a"), __bridge::Claim::shared(&
                        self.b, "b")
                    ],
                )
                .await?;
            ::core::result::Result::Ok(
                total(resources.shared(&self.a)?, resources.shared(&self.b)?).await,
            )
        }
    }
    /// Script side of [`total`]: converts the arguments, sends a `__TotalCommand` to the worker, waits for the reply.
    fn __total_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __TotalCommand {
            a: call.resource(0, "a")?,
            b: call.resource(1, "b")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`total`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "total",
            ::core::concat!(::core::module_path!(), "::", "total"),
            &[
                __bridge::param("a", "Ref<Account>", "Account"),
                __bridge::param("b", "Ref<Account>", "Account"),
            ],
            __bridge::returns("i64", "int"),
            __total_proxy,
        )
        .with_resource_params(
            &[
                __bridge::ResourceType::of::<Account>(),
                __bridge::ResourceType::of::<Account>(),
            ],
        )
        .with_docs(" The balances of two accounts together, each shared.");
    __bridge::inventory::submit!(__REGISTRATION);
};
fn main() {}
