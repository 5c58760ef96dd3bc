//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]
/// The numbers below `n`, streamed to the script's `for`.
async fn below(n: i64) -> bridge_runtime::ScriptStream<i64> {
    bridge_runtime::ScriptStream::new(futures_util::stream::iter(0..n))
}
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`below`]: its arguments as owned fields.
    struct __BelowCommand {
        n: i64,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<i64>::new().script_argument();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __BelowCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __BelowCommand {
        const SCRIPT_NAME: &'static str = "below";
        type Output = bridge_runtime::ScriptStream<i64>;
        /// Worker side: awaits [`below`] with this command's arguments.
        async fn dispatch(
            self,
            _env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            ::core::result::Result::Ok(below(self.n).await)
        }
        /// Worker side, on a bridge with more threads: [`below`]'s call, to run on any of them if its future is `Send`.
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
    /// Script side of [`below`]: converts the arguments, sends a `__BelowCommand` to the worker, waits for the reply.
    fn __below_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __BelowCommand {
            n: call.argument(0, "n")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`below`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "below",
            ::core::concat!(::core::module_path!(), "::", "below"),
            &[__bridge::param("n", "i64", "int")],
            __bridge::returns("bridge_runtime::ScriptStream<i64>", "Stream"),
            __below_proxy,
        )
        .with_resource_return(__bridge::ResourceType::stream())
        .with_docs(" The numbers below `n`, streamed to the script's `for`.");
    __bridge::inventory::submit!(__REGISTRATION);
};
fn main() {}
