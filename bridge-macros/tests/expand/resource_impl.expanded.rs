//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]
use bridge_runtime::Resource;
/// A running total a script holds.
#[derive(Debug)]
pub struct Tally {
    total: i64,
}
/// Each receiver form, a `Result`, `Self` in a return type, and a group for every method.
impl Tally {
    /// The total now.
    async fn total(&self) -> i64 {
        self.total
    }
    /// Adds `n`, failing past `limit`.
    async fn add(&mut self, n: i64, limit: i64) -> Result<i64, String> {
        if self.total + n > limit {
            return Err(format!("{} would pass {limit}", self.total + n));
        }
        self.total += n;
        Ok(self.total)
    }
    /// A second tally starting at this one's total.
    async fn fork(&self) -> Resource<Self> {
        Resource::new(Tally { total: self.total })
    }
    /// Ends the tally: its last total.
    async fn close(self) -> i64 {
        self.total
    }
}
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    #[automatically_derived]
    impl __bridge::ScriptResource for Tally {
        const TYPE_NAME: &'static str = "Tally";
    }
};
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`Tally::total`]: its arguments as owned fields.
    struct __TallyTotalCommand {
        __object: __bridge::ResourceRef<Tally>,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<i64>::new().return_value();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __TallyTotalCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __TallyTotalCommand {
        const SCRIPT_NAME: &'static str = "Tally.total";
        type Output = i64;
        /// Worker side: awaits [`Tally::total`] with this command's arguments.
        async fn dispatch(
            self,
            env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            let object = env.resource(&self.__object).await?;
            ::core::result::Result::Ok(<Tally>::total(&*object).await)
        }
    }
    /// Script side of [`Tally::total`]: converts the arguments, sends a `__TallyTotalCommand` to the worker, waits for the reply.
    fn __total_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __TallyTotalCommand {
            __object: call.resource(0, "self")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`Tally::total`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "Tally.total",
            ::core::concat!(::core::module_path!(), "::", "Tally::total"),
            &[],
            __bridge::returns("i64", "int"),
            __total_proxy,
        )
        .with_method("total", __bridge::ResourceType::of::<Tally>())
        .with_docs(" The total now.")
        .with_group("tally");
    __bridge::inventory::submit!(__REGISTRATION);
};
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`Tally::add`]: its arguments as owned fields.
    struct __TallyAddCommand {
        __object: __bridge::ResourceRef<Tally>,
        n: i64,
        limit: i64,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<i64>::new().script_argument();
        __bridge::NameCheck::<i64>::new().script_argument();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __TallyAddCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __TallyAddCommand {
        const SCRIPT_NAME: &'static str = "Tally.add";
        type Output = i64;
        /// Worker side: awaits [`Tally::add`] with this command's arguments.
        async fn dispatch(
            self,
            env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            let mut object = env.resource_mut(&self.__object).await?;
            let result = <Tally>::add(&mut *object, self.n, self.limit).await;
            __bridge::describe_err(result)
        }
    }
    /// Script side of [`Tally::add`]: converts the arguments, sends a `__TallyAddCommand` to the worker, waits for the reply.
    fn __add_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __TallyAddCommand {
            __object: call.resource(0, "self")?,
            n: call.argument(1, "n")?,
            limit: call.argument(2, "limit")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`Tally::add`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "Tally.add",
            ::core::concat!(::core::module_path!(), "::", "Tally::add"),
            &[
                __bridge::param("n", "i64", "int"),
                __bridge::param("limit", "i64", "int"),
            ],
            __bridge::returns("Result<i64, String>", "int"),
            __add_proxy,
        )
        .with_method("add", __bridge::ResourceType::of::<Tally>())
        .with_docs(" Adds `n`, failing past `limit`.")
        .with_group("tally");
    __bridge::inventory::submit!(__REGISTRATION);
};
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`Tally::fork`]: its arguments as owned fields.
    struct __TallyForkCommand {
        __object: __bridge::ResourceRef<Tally>,
    }
    #[automatically_derived]
    impl __bridge::CommandSeal for __TallyForkCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __TallyForkCommand {
        const SCRIPT_NAME: &'static str = "Tally.fork";
        type Output = Resource<Tally>;
        /// Worker side: awaits [`Tally::fork`] with this command's arguments.
        async fn dispatch(
            self,
            env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            let object = env.resource(&self.__object).await?;
            ::core::result::Result::Ok(<Tally>::fork(&*object).await)
        }
    }
    /// Script side of [`Tally::fork`]: converts the arguments, sends a `__TallyForkCommand` to the worker, waits for the reply.
    fn __fork_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __TallyForkCommand {
            __object: call.resource(0, "self")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`Tally::fork`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "Tally.fork",
            ::core::concat!(::core::module_path!(), "::", "Tally::fork"),
            &[],
            __bridge::returns("Resource<Tally>", "Tally"),
            __fork_proxy,
        )
        .with_method("fork", __bridge::ResourceType::of::<Tally>())
        .with_resource_return(__bridge::ResourceType::of::<Tally>())
        .with_docs(" A second tally starting at this one's total.")
        .with_group("tally");
    __bridge::inventory::submit!(__REGISTRATION);
};
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`Tally::close`]: its arguments as owned fields.
    struct __TallyCloseCommand {
        __object: __bridge::ResourceRef<Tally>,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<i64>::new().return_value();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __TallyCloseCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __TallyCloseCommand {
        const SCRIPT_NAME: &'static str = "Tally.close";
        type Output = i64;
        /// Worker side: awaits [`Tally::close`] with this command's arguments.
        async fn dispatch(
            self,
            env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            let object = env.take_resource(&self.__object, "close").await?;
            ::core::result::Result::Ok(<Tally>::close(object).await)
        }
    }
    /// Script side of [`Tally::close`]: converts the arguments, sends a `__TallyCloseCommand` to the worker, waits for the reply.
    fn __close_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __TallyCloseCommand {
            __object: call.resource(0, "self")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`Tally::close`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "Tally.close",
            ::core::concat!(::core::module_path!(), "::", "Tally::close"),
            &[],
            __bridge::returns("i64", "int"),
            __close_proxy,
        )
        .with_method("close", __bridge::ResourceType::of::<Tally>())
        .with_docs(" Ends the tally: its last total.")
        .with_group("tally");
    __bridge::inventory::submit!(__REGISTRATION);
};
/// A new tally, for scripts.
async fn tally(start: i64) -> Resource<Tally> {
    Resource::new(Tally { total: start })
}
const _: () = {
    use ::bridge_runtime::__private as __bridge;
    /// One script call of [`tally`]: its arguments as owned fields.
    struct __TallyCommand {
        start: i64,
    }
    /// The compiler checks that no type here is `State`, `ScriptContext` or `Result` under another name.
    const _: fn() = || {
        use __bridge::NotRecognisedByName as _;
        __bridge::NameCheck::<i64>::new().script_argument();
    };
    #[automatically_derived]
    impl __bridge::CommandSeal for __TallyCommand {}
    #[automatically_derived]
    impl __bridge::ScriptCommand for __TallyCommand {
        const SCRIPT_NAME: &'static str = "tally";
        type Output = Resource<Tally>;
        /// Worker side: awaits [`tally`] with this command's arguments.
        async fn dispatch(
            self,
            _env: __bridge::CallEnv,
        ) -> ::core::result::Result<Self::Output, __bridge::CallFailure> {
            ::core::result::Result::Ok(tally(self.start).await)
        }
        /// Worker side, on a bridge with more threads: [`tally`]'s call, to run on any of them if its future is `Send`.
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
    /// Script side of [`tally`]: converts the arguments, sends a `__TallyCommand` to the worker, waits for the reply.
    fn __tally_proxy(call: &mut __bridge::ScriptCall<'_>) -> __bridge::ProxyResult {
        let command = __TallyCommand {
            start: call.argument(0, "start")?,
        };
        call.send_and_wait(command)
    }
    /// How scripts find [`tally`]: submitted to the bridge's registry.
    const __REGISTRATION: __bridge::ScriptFunction = __bridge::ScriptFunction::new(
            "tally",
            ::core::concat!(::core::module_path!(), "::", "tally"),
            &[__bridge::param("start", "i64", "int")],
            __bridge::returns("Resource<Tally>", "Tally"),
            __tally_proxy,
        )
        .with_resource_return(__bridge::ResourceType::of::<Tally>())
        .with_docs(" A new tally, for scripts.");
    __bridge::inventory::submit!(__REGISTRATION);
};
fn main() {}
