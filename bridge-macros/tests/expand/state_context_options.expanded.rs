//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]
/// A connection pool the bridge shares with every call.
#[derive(Debug)]
pub struct Db {
    pub url: String,
}
/// Who submitted the script.
#[derive(Debug)]
pub struct Caller {
    pub user_id: i64,
}
/// State and context parameters are not script arguments; a group and a time limit.
async fn rename_user(
    db: bridge_runtime::State<Db>,
    caller: bridge_runtime::ScriptContext<Caller>,
    new_name: String,
) -> Result<String, String> {
    Ok(format!("{} renamed by {} on {}", new_name, caller.user_id, db.url))
}
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`rename_user`]: its arguments as owned fields.
    struct __RenameUserCommand {
        new_name: String,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<String>::new().script_argument();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __RenameUserCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __RenameUserCommand {
        const SCRIPT_NAME: &'static str = "rename_user";
        type Output = String;
        /// Worker side: awaits [`rename_user`] with this command's arguments.
        async fn dispatch(
            self,
            env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            let result = rename_user(env.state()?, env.context()?, self.new_name).await;
            __bridge::describe_err(result)
        }
        /// Worker side, on a bridge with more threads: [`rename_user`]'s call, to run on any of them if its future is `Send`.
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
    /// Script side of [`rename_user`]: converts the arguments, sends a `__RenameUserCommand` to the worker, waits for the reply.
    fn __rename_user_proxy(
        call: &mut __bridge::ScriptCall<'_>,
    ) -> __bridge::ProxyResult {
        let command = __RenameUserCommand {
            new_name: call.argument(0, "new_name")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`rename_user`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "rename_user",
            ::core::concat!(::core::module_path!(), "::", "rename_user"),
            &[__bridge::param("new_name", "String", "string")],
            __bridge::returns("Result<String, String>", "string"),
            __rename_user_proxy,
        )
        .with_docs(
            " State and context parameters are not script arguments; a group and a time limit.",
        )
        .with_group("users")
        .with_timeout_ms(1500)
        .with_states(&[__bridge::required_type("Db", ::core::any::TypeId::of::<Db>)])
        .with_contexts(
            &[__bridge::required_type("Caller", ::core::any::TypeId::of::<Caller>)],
        );
    __bridge::inventory::submit!(__REGISTRATION);
};
fn main() {}
