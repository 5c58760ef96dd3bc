//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]
/// Polled once on the engine thread; handed to the worker only if not finished.
async fn lookup_cached(key: String) -> Option<String> {
    if key.is_empty() {
        None
    } else {
        tokio::task::yield_now().await;
        Some(key)
    }
}
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`lookup_cached`]: its arguments as owned fields.
    struct __LookupCachedCommand {
        key: String,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<String>::new().script_argument();
        __bridge::NameCheck::<Option<String>>::new().return_value();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __LookupCachedCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __LookupCachedCommand {
        const SCRIPT_NAME: &'static str = "lookup_cached";
        type Output = Option<String>;
        /// Worker side: awaits [`lookup_cached`] with this command's arguments.
        async fn dispatch(
            self,
            _env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            ::core::result::Result::Ok(lookup_cached(self.key).await)
        }
        /// Worker side, on a bridge with more threads: [`lookup_cached`]'s call, to run on any of them if its future is `Send`.
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
    #[automatically_derived]
    impl __bridge::EagerCommand for __LookupCachedCommand {
        fn dispatch_send(
            self,
            env: __bridge::CallEnv,
        ) -> __bridge::SendCallFuture<Self::Output> {
            ::std::boxed::Box::pin(
                <Self as __bridge::ScriptCommand>::dispatch(self, env),
            )
        }
    }
    /// Script side of [`lookup_cached`]: converts the arguments, polls the call once here (`eager`), and only if it is not finished sends it to the worker and waits.
    fn __lookup_cached_proxy(
        call: &mut __bridge::ScriptCall<'_>,
    ) -> __bridge::ProxyResult {
        let command = __LookupCachedCommand {
            key: call.argument(0, "key")?,
        };
        call.run_eager(command)
    }
    /// How scripts find [`lookup_cached`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "lookup_cached",
            ::core::concat!(::core::module_path!(), "::", "lookup_cached"),
            &[__bridge::param("key", "String", "string")],
            __bridge::returns("Option<String>", "?"),
            __lookup_cached_proxy,
        )
        .with_docs(
            " Polled once on the engine thread; handed to the worker only if not finished.",
        );
    __bridge::inventory::submit!(__REGISTRATION);
};
fn main() {}
