//! [`Bridge::dispatch`]: one command run on the worker without a script.

use crate::api::bridge::Bridge;
use crate::call::command::{Command, ErasedCall, PendingCall, ScriptCommand};
use crate::error::{CallError, CallErrorKind, Error, ScriptPosition};
use crate::sync::control::ScriptControl;
use crate::sync::reply::call_cell;
use crate::sync::wake::ScriptWaker;
use crate::trace::CallTrace;
use serde::de::DeserializeOwned;
use serde_json::Value;

impl Bridge {
    /// Runs one command on the worker, outside any script, and blocks this thread until it
    /// finishes: a call of the function it names, with its arguments, the bridge's `State` and
    /// its `call_timeout`. On one of a bridge's own threads it would wait on itself, so there it
    /// is [`Error::BlockingOnBridgeThread`] at once. Made for the command enum a `#[script_async] mod` writes (serde data:
    /// a queue or an RPC layer can carry it); a function's failure is an [`Error::Call`] naming
    /// it, and a function that needs a `ScriptContext` fails, since no script gives one.
    ///
    /// ```
    /// #[bridge_runtime::script_async]
    /// mod shop {
    ///     pub async fn price(item: String, count: i64) -> Result<i64, String> {
    ///         match &item[..] {
    ///             "tea" => Ok(count * 3),
    ///             _ => Err(format!("no price for {item}")),
    ///         }
    ///     }
    /// }
    ///
    /// let bridge = bridge_runtime::Bridge::new()?;
    /// let command = shop::ShopCommand::Price(shop::PriceCommand { item: "tea".into(), count: 2 });
    /// assert_eq!(bridge.dispatch(command)?, 6);
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    pub fn dispatch<C: ScriptCommand>(&self, command: C) -> Result<C::Output, Error> {
        if crate::sync::bridge_thread::is_current() {
            return Err(Error::BlockingOnBridgeThread);
        }
        let function = command.script_name();
        let mut trace = CallTrace::start(function);
        let control = ScriptControl::new(None, crate::state::ContextValues::default());
        let call = PendingCall {
            command: Some(command),
            scope: control.calls().clone(),
            timeout: self.pool.settings().calls.call_timeout,
            span: trace.span().clone(),
        };
        let (sender, receiver) = call_cell(call, ScriptWaker::for_current_thread());
        let sent = self
            .worker
            .commands()
            .send(Command::Call(ErasedCall::new(sender)));
        if sent.is_err() {
            trace.finish(CallErrorKind::Shutdown.as_str());
            return Err(Error::Shutdown);
        }
        while !receiver.is_finished() {
            receiver.arm();
            if !receiver.is_finished() {
                std::thread::park();
            }
        }
        match receiver.try_take() {
            Some(Ok(Ok(output))) => {
                trace.finish("ok");
                Ok(output)
            }
            Some(Ok(Err(failure))) => {
                trace.finish(failure.kind.as_str());
                Err(Error::Call(CallError {
                    function: function.to_owned(),
                    kind: failure.kind,
                    message: failure.message,
                    param: None,
                    position: ScriptPosition::default(),
                }))
            }
            Some(Err(_)) | None => {
                trace.finish(CallErrorKind::Shutdown.as_str());
                Err(Error::Shutdown)
            }
        }
    }

    /// [`dispatch`](Self::dispatch) of a command given as JSON
    /// (`{"function": "price", "arguments": {"item": "tea", "count": 2}}` for a module's command
    /// enum). JSON that is no such command is an [`Error::Call`] of kind `argument` saying why.
    pub fn dispatch_json<C: ScriptCommand + DeserializeOwned>(
        &self,
        command: Value,
    ) -> Result<C::Output, Error> {
        let command: C = serde_json::from_value(command).map_err(|error| {
            Error::Call(CallError {
                function: C::SCRIPT_NAME.to_owned(),
                kind: CallErrorKind::Argument,
                message: format!("the JSON is not a command of `{}`: {error}", C::SCRIPT_NAME),
                param: None,
                position: ScriptPosition::default(),
            })
        })?;
        self.dispatch(command)
    }
}
