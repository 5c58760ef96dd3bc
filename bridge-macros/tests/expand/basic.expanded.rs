//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]
/// Two integers in, one out.
async fn add(a: i64, b: i64) -> i64 {
    a + b
}
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`add`]: its arguments as owned fields.
    struct __AddCommand {
        a: i64,
        b: i64,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<i64>::new().script_argument();
        __bridge::NameCheck::<i64>::new().script_argument();
        __bridge::NameCheck::<i64>::new().return_value();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __AddCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __AddCommand {
        const SCRIPT_NAME: &'static str = "add";
        type Output = i64;
        /// Worker side: awaits [`add`] with this command's arguments.
        async fn dispatch(
            self,
            _env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            ::core::result::Result::Ok(add(self.a, self.b).await)
        }
        /// Worker side, on a bridge with more threads: [`add`]'s call, to run on any of them if its future is `Send`.
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
    /// Script side of [`add`]: converts the arguments, sends a `__AddCommand` to the worker, waits for the reply.
    fn __add_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __AddCommand {
            a: call.argument(0, "a")?,
            b: call.argument(1, "b")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`add`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "add",
            ::core::concat!(::core::module_path!(), "::", "add"),
            &[__bridge::param("a", "i64", "int"), __bridge::param("b", "i64", "int")],
            __bridge::returns("i64", "int"),
            __add_proxy,
        )
        .with_docs(" Two integers in, one out.");
    __bridge::inventory::submit!(__REGISTRATION);
};
fn main() {}
