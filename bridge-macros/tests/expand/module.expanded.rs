//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]
use serde::{Deserialize, Serialize};
#[derive(Debug, Serialize, Deserialize)]
pub struct Account {
    pub id: i64,
    pub balance: i64,
}
/// The accounts API: its functions form the group `accounts`.
pub mod accounts {
    use super::Account;
    /// Opens an account.
    pub async fn open_account(owner: &str) -> Account {
        Account {
            id: owner.len() as i64,
            balance: 0,
        }
    }
    pub async fn deposit(id: i64, amount: i64) -> Result<Account, String> {
        if amount <= 0 {
            return Err(format!("cannot deposit {amount}"));
        }
        Ok(Account { id, balance: amount })
    }
    /// One script call of [`open_account`]: its arguments as owned fields.
    #[derive(
        ::bridge_runtime::__private::serde::Serialize,
        ::bridge_runtime::__private::serde::Deserialize
    )]
    #[serde(crate = "::bridge_runtime::__private::serde")]
    pub struct OpenAccountCommand {
        pub owner: ::std::string::String,
    }
    const _: () = {
        use ::bridge_runtime::__private as __bridge;
        #[automatically_derived]
        impl ::core::fmt::Debug for OpenAccountCommand {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                __bridge::debug_as_json("OpenAccountCommand", self, f)
            }
        }
        /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
        const _: fn() = || {
            use __bridge::NotRecognisedByName as _;
            __bridge::NameCheck::<&str>::new().script_argument();
            __bridge::NameCheck::<Account>::new().return_value();
        };
        #[automatically_derived]
        impl __bridge::CommandSeal for OpenAccountCommand {}
        #[automatically_derived]
        impl __bridge::ScriptCommand for OpenAccountCommand {
            const SCRIPT_NAME: &'static str = "open_account";
            type Output = Account;
            /// Worker side: awaits [`open_account`] with this command's arguments.
            async fn dispatch(
                self,
                _env: __bridge::CallEnv,
            ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
                ::core::result::Result::Ok(open_account(&self.owner).await)
            }
            /// Worker side, on a bridge with more threads: [`open_account`]'s call, to run on any of them if its future is `Send`.
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
        /// Script side of [`open_account`]: converts the arguments, sends a `OpenAccountCommand` to the worker, waits for the reply.
        fn __open_account_proxy(
            call: &mut __bridge::ScriptCall<'_>,
        ) -> __bridge::ProxyResult {
            let command = OpenAccountCommand {
                owner: call.argument(0, "owner")?,
            };
            call.send_and_wait(command)
        }
        /// How scripts find [`open_account`]: submitted to the bridge's registry.
        const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
                "open_account",
                ::core::concat!(::core::module_path!(), "::", "open_account"),
                &[__bridge::param("owner", "&str", "string")],
                __bridge::returns("Account", "map"),
                __open_account_proxy,
            )
            .with_docs(" Opens an account.")
            .with_group("accounts");
        __bridge::inventory::submit!(__REGISTRATION);
    };
    /// One script call of [`deposit`]: its arguments as owned fields.
    #[derive(
        ::bridge_runtime::__private::serde::Serialize,
        ::bridge_runtime::__private::serde::Deserialize
    )]
    #[serde(crate = "::bridge_runtime::__private::serde")]
    pub struct DepositCommand {
        pub id: i64,
        pub amount: i64,
    }
    const _: () = {
        use ::bridge_runtime::__private as __bridge;
        #[automatically_derived]
        impl ::core::fmt::Debug for DepositCommand {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                __bridge::debug_as_json("DepositCommand", self, f)
            }
        }
        /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
        const _: fn() = || {
            use __bridge::NotRecognisedByName as _;
            __bridge::NameCheck::<i64>::new().script_argument();
            __bridge::NameCheck::<i64>::new().script_argument();
        };
        #[automatically_derived]
        impl __bridge::CommandSeal for DepositCommand {}
        #[automatically_derived]
        impl __bridge::ScriptCommand for DepositCommand {
            const SCRIPT_NAME: &'static str = "deposit";
            type Output = Account;
            /// Worker side: awaits [`deposit`] with this command's arguments.
            async fn dispatch(
                self,
                _env: __bridge::CallEnv,
            ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
                let result = deposit(self.id, self.amount).await;
                __bridge::describe_err(result)
            }
            /// Worker side, on a bridge with more threads: [`deposit`]'s call, to run on any of them if its future is `Send`.
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
        /// Script side of [`deposit`]: converts the arguments, sends a `DepositCommand` to the worker, waits for the reply.
        fn __deposit_proxy(
            call: &mut __bridge::ScriptCall<'_>,
        ) -> __bridge::ProxyResult {
            let command = DepositCommand {
                id: call.argument(0, "id")?,
                amount: call.argument(1, "amount")?,
            };
            call.send_and_wait(command)
        }
        /// How scripts find [`deposit`]: submitted to the bridge's registry.
        const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
                "deposit",
                ::core::concat!(::core::module_path!(), "::", "deposit"),
                &[
                    __bridge::param("id", "i64", "int"),
                    __bridge::param("amount", "i64", "int"),
                ],
                __bridge::returns("Result<Account, String>", "map"),
                __deposit_proxy,
            )
            .with_group("accounts");
        __bridge::inventory::submit!(__REGISTRATION);
    };
    /// One call of any function of `accounts`, as serde data: `{"function": "name", "arguments": {...}}`. Run one with `Bridge::dispatch`.
    #[derive(
        ::bridge_runtime::__private::serde::Serialize,
        ::bridge_runtime::__private::serde::Deserialize
    )]
    #[serde(
        crate = "::bridge_runtime::__private::serde",
        tag = "function",
        content = "arguments"
    )]
    pub enum AccountsCommand {
        /// A call of `open_account`.
        #[serde(rename = "open_account")]
        OpenAccount(OpenAccountCommand),
        /// A call of `deposit`.
        #[serde(rename = "deposit")]
        Deposit(DepositCommand),
    }
    const _: () = {
        use ::bridge_runtime::__private as __bridge;
        #[automatically_derived]
        impl ::core::fmt::Debug for AccountsCommand {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                __bridge::debug_as_json("AccountsCommand", self, f)
            }
        }
        #[automatically_derived]
        impl __bridge::CommandSeal for AccountsCommand {}
        #[automatically_derived]
        impl __bridge::ScriptCommand for AccountsCommand {
            const SCRIPT_NAME: &'static str = "accounts";
            type Output = __bridge::JsonValue;
            fn script_name(&self) -> &'static str {
                match self {
                    Self::OpenAccount(_) => "open_account",
                    Self::Deposit(_) => "deposit",
                }
            }
            /// Worker side: one arm per function, each awaiting it with the command's arguments.
            async fn dispatch(
                self,
                env: __bridge::CallEnv,
            ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
                match self {
                    Self::OpenAccount(command) => {
                        __bridge::output_json(
                            <OpenAccountCommand as __bridge::ScriptCommand>::dispatch(
                                    command,
                                    env,
                                )
                                .await,
                        )
                    }
                    Self::Deposit(command) => {
                        __bridge::output_json(
                            <DepositCommand as __bridge::ScriptCommand>::dispatch(
                                    command,
                                    env,
                                )
                                .await,
                        )
                    }
                }
            }
        }
    };
}
fn main() {}
