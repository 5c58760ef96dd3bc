//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]
use serde::{Deserialize, Serialize};
#[derive(Debug, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub name: String,
}
/// A `Result` return, borrowed parameters and a rename.
pub async fn lookup_user(name: &str, ids: &[i64]) -> Result<User, String> {
    match ids.first() {
        Some(&id) => Ok(User { id, name: name.to_owned() }),
        None => Err(format!("no ids given for {name}")),
    }
}
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`lookup_user`]: its arguments as owned fields.
    struct __LookupUserCommand {
        name: ::std::string::String,
        ids: ::std::vec::Vec<i64>,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<&str>::new().script_argument();
        __bridge::NameCheck::<&[i64]>::new().script_argument();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __LookupUserCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __LookupUserCommand {
        const SCRIPT_NAME: &'static str = "find_user";
        type Output = User;
        /// Worker side: awaits [`lookup_user`] with this command's arguments.
        async fn dispatch(
            self,
            _env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            let result = lookup_user(&self.name, &self.ids).await;
            __bridge::describe_err(result)
        }
        /// Worker side, on a bridge with more threads: [`lookup_user`]'s call, to run on any of them if its future is `Send`.
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
    /// Script side of [`lookup_user`]: converts the arguments, sends a `__LookupUserCommand` to the worker, waits for the reply.
    fn __lookup_user_proxy(
        call: &mut __bridge::ScriptCall<'_>,
    ) -> __bridge::ProxyResult {
        let command = __LookupUserCommand {
            name: call.argument(0, "name")?,
            ids: call.argument(1, "ids")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`lookup_user`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "find_user",
            ::core::concat!(::core::module_path!(), "::", "lookup_user"),
            &[
                __bridge::param("name", "&str", "string"),
                __bridge::param("ids", "&[i64]", "array"),
            ],
            __bridge::returns("Result<User, String>", "map"),
            __lookup_user_proxy,
        )
        .with_docs(" A `Result` return, borrowed parameters and a rename.");
    __bridge::inventory::submit!(__REGISTRATION);
};
fn main() {}
