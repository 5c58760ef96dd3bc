//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]
/// No parameters, no return value.
async fn tick() {}
const _: () = {
    /// One script call of [`tick`]: its arguments as owned fields.
    struct __TickCommand {}
    #[automatically_derived]
    impl ::bridge_runtime::__private::ScriptCommand for __TickCommand {
        const SCRIPT_NAME: &'static str = "tick";
        type Output = ();
        /// Worker side: awaits [`tick`] with this command's arguments.
        async fn dispatch(
            self,
            _env: ::bridge_runtime::__private::CallEnv,
        ) -> ::core::result::Result<
            Self::Output,
            ::bridge_runtime::__private::CallFailure,
        > {
            ::core::result::Result::Ok(tick().await)
        }
    }
    /// Script side of [`tick`]: converts the arguments, sends a `__TickCommand` to the worker, waits for the reply.
    fn __tick_proxy(
        call: &mut ::bridge_runtime::__private::ScriptCall<'_>,
    ) -> ::bridge_runtime::__private::ProxyResult {
        let command = __TickCommand {};
        call.send_and_wait(command)
    }
    /// How scripts find [`tick`]: submitted to the bridge's registry.
    const __REGISTRATION: ::bridge_runtime::__private::ScriptFunction = ::bridge_runtime::__private::ScriptFunction::new(
            "tick",
            ::core::concat!(::core::module_path!(), "::", "tick"),
            &[],
            ::bridge_runtime::__private::ScriptReturn {
                rust_type: "()",
                script_type: "()",
            },
            __tick_proxy,
        )
        .with_docs(" No parameters, no return value.");
    ::bridge_runtime::__private::inventory::submit!(__REGISTRATION);
};
fn main() {}
