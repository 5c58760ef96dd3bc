//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]
use bridge_runtime::ScriptCallback;
/// Calls `attempt` until it succeeds: a callback takes a script argument's place.
async fn retry(times: i64, attempt: ScriptCallback) -> Result<i64, String> {
    let mut last = String::new();
    for _ in 0..times {
        match attempt.call::<i64>(()).await {
            Ok(value) => return Ok(value),
            Err(error) => last = error.to_string(),
        }
    }
    Err(last)
}
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`retry`]: its arguments as owned fields.
    struct __RetryCommand {
        times: i64,
        attempt: ScriptCallback,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<i64>::new().script_argument();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __RetryCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __RetryCommand {
        const SCRIPT_NAME: &'static str = "retry";
        type Output = i64;
        /// Worker side: awaits [`retry`] with this command's arguments.
        async fn dispatch(
            self,
            _env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            let result = retry(self.times, self.attempt).await;
            __bridge::describe_err(result)
        }
        /// Worker side, on a bridge with more threads: [`retry`]'s call, to run on any of them if its future is `Send`.
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
    /// Script side of [`retry`]: converts the arguments, sends a `__RetryCommand` to the worker, waits for the reply.
    fn __retry_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __RetryCommand {
            times: call.argument(0, "times")?,
            attempt: call.callback(1, "attempt")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`retry`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "retry",
            ::core::concat!(::core::module_path!(), "::", "retry"),
            &[
                __bridge::param("times", "i64", "int"),
                __bridge::param("attempt", "ScriptCallback", "Fn"),
            ],
            __bridge::returns("Result<i64, String>", "int"),
            __retry_proxy,
        )
        .with_docs(
            " Calls `attempt` until it succeeds: a callback takes a script argument's place.",
        );
    __bridge::inventory::submit!(__REGISTRATION);
};
fn main() {}
