//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]
/// No parameters, no return value.
async fn tick() {}
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`tick`]: its arguments as owned fields.
    struct __TickCommand {}
    #[automatically_derived]
    impl __bridge::CommandSeal for __TickCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __TickCommand {
        const SCRIPT_NAME: &'static str = "tick";
        type Output = ();
        /// Worker side: awaits [`tick`] with this command's arguments.
        async fn dispatch(
            self,
            _env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            ::core::result::Result::Ok(tick().await)
        }
        /// Worker side, on a bridge with more threads: [`tick`]'s call, to run on any of them if its future is `Send`.
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
    /// Script side of [`tick`]: converts the arguments, sends a `__TickCommand` to the worker, waits for the reply.
    fn __tick_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __TickCommand {};
        call.send_and_wait(command)
    }
    /// How scripts find [`tick`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "tick",
            ::core::concat!(::core::module_path!(), "::", "tick"),
            &[],
            __bridge::returns("()", "()"),
            __tick_proxy,
        )
        .with_docs(" No parameters, no return value.");
    __bridge::inventory::submit!(__REGISTRATION);
};
fn main() {}
