//! What a generated proxy works with: one script call, on its engine thread.

use crate::command::{Command, PendingCall, Reply, ScriptCommand};
use crate::control::StopReason;
use crate::convert::{from_script, into_script};
use crate::engine::{EngineEnv, RunningScript};
use crate::error::CallErrorKind;
use crate::registry::ScriptFunction;
use crate::reply::{reply_slot, ReplyReceiver};
use crate::wait::{block_until, SpinPolicy};
use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext, Position};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a proxy returns: the call's script value, or the script error to raise.
pub type ProxyResult = Result<Dynamic, Box<EvalAltResult>>;

/// Whether the proxy waits for the reply (a plain call) or hands back a handle (`start`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallMode {
    Wait,
    Start,
}

/// One call from a script to an async function, as its proxy sees it.
///
/// The proxy that `#[script_async]` writes converts each argument with [`argument`](Self::argument),
/// builds the command, and hands it to [`send_and_wait`](Self::send_and_wait).
pub struct ScriptCall<'a> {
    context: NativeCallContext<'a>,
    args: &'a [&'a mut Dynamic],
    env: &'a EngineEnv,
    function: &'static ScriptFunction,
    mode: CallMode,
}

impl<'a> ScriptCall<'a> {
    pub(crate) fn new(
        context: NativeCallContext<'a>,
        args: &'a [&'a mut Dynamic],
        env: &'a EngineEnv,
        function: &'static ScriptFunction,
        mode: CallMode,
    ) -> Self {
        Self {
            context,
            args,
            env,
            function,
            mode,
        }
    }

    /// Converts the script's argument at `index` to the parameter's Rust type.
    ///
    /// The script value goes through JSON's data model, so an integer is accepted where a float is
    /// expected, an object map where a struct is, and an integer that does not fit (300 for a `u8`)
    /// is an error naming `param`, never a silent wrap.
    ///
    /// `T` must also be `Serialize` (commands can be logged as JSON) and `Send` (they cross to the
    /// worker); requiring both here makes a type that lacks them an error at the parameter.
    pub fn argument<T: DeserializeOwned + Serialize + Send + 'static>(
        &self,
        index: usize,
        param: &'static str,
    ) -> Result<T, Box<EvalAltResult>> {
        from_script(self.args[index]).map_err(|message| self.argument_error(param, message))
    }

    /// Sends `command` to the worker and waits for its reply, converted to a script value (or a
    /// catchable script error). Called through `start`, it returns a call handle instead of waiting.
    pub fn send_and_wait<C: ScriptCommand>(&self, command: C) -> ProxyResult {
        let position = self.context.call_position();
        let running = self.env.running().ok_or_else(|| {
            let message = "a call arrived while no script was running".to_owned();
            call_error(
                self.function.name(),
                CallErrorKind::Shutdown,
                message,
                None,
                position,
            )
        })?;
        let (reply, receiver) = reply_slot(self.env.waiter().clone());
        let call = Box::new(PendingCall {
            command,
            reply,
            context: running.context.clone(),
            script_stopped: running.control.calls().clone(),
            timeout: self.function.timeout().or(self.env.call_timeout()),
        });
        let pending = PendingReply::<C> {
            receiver,
            function: self.function.name(),
        };
        if self.env.commands().send(Command::Call(call)).is_err() {
            return Err(shutdown_error(self.function.name(), position));
        }
        match self.mode {
            CallMode::Wait => Box::new(pending).wait(&running, self.env.spin(), position),
            CallMode::Start => Ok(Dynamic::from(crate::in_flight::CallHandle::new(Box::new(
                pending,
            )))),
        }
    }

    fn argument_error(&self, param: &'static str, message: String) -> Box<EvalAltResult> {
        let position = self.context.call_position();
        call_error(
            self.function.name(),
            CallErrorKind::Argument,
            message,
            Some(param),
            position,
        )
    }
}

/// A reply not yet taken, with its type erased so handles of different functions mix.
pub(crate) trait ErasedReply {
    /// Whether the reply arrived (or never will).
    fn is_finished(&self) -> bool;

    /// Converts the arrived reply for the script; `position` is where the script takes it.
    fn finish(self: Box<Self>, position: Position) -> ProxyResult;

    /// Blocks until the reply arrives (or the script must stop), then [`finish`](Self::finish)es.
    fn wait(
        self: Box<Self>,
        running: &RunningScript,
        spin: &SpinPolicy,
        position: Position,
    ) -> ProxyResult {
        match block_until(&running.control, spin, || self.is_finished()) {
            Ok(()) => self.finish(position),
            Err(reason) => Err(terminated(reason, position)),
        }
    }
}

/// The engine thread's end of one call of `C`.
struct PendingReply<C: ScriptCommand> {
    receiver: ReplyReceiver<Reply<C>>,
    function: &'static str,
}

impl<C: ScriptCommand> ErasedReply for PendingReply<C> {
    fn is_finished(&self) -> bool {
        self.receiver.is_finished()
    }

    fn finish(self: Box<Self>, position: Position) -> ProxyResult {
        let function = self.function;
        match self.receiver.try_take() {
            Some(Ok(Ok(output))) => into_script(&output).map_err(|e| {
                let message = format!("the return value has no script form: {e}");
                call_error(function, CallErrorKind::Return, message, None, position)
            }),
            Some(Ok(Err(failure))) => Err(call_error(
                function,
                failure.kind,
                failure.message,
                None,
                position,
            )),
            Some(Err(_)) | None => Err(shutdown_error(function, position)),
        }
    }
}

fn shutdown_error(function: &str, position: Position) -> Box<EvalAltResult> {
    let message = "the bridge shut down before the call finished".to_owned();
    call_error(function, CallErrorKind::Shutdown, message, None, position)
}

/// A catchable script error carrying the map scripts see:
/// `#{ function, kind, message }` (plus `param` for argument errors).
pub(crate) fn call_error(
    function: &str,
    kind: CallErrorKind,
    message: String,
    param: Option<&'static str>,
    position: Position,
) -> Box<EvalAltResult> {
    let mut map = Map::new();
    map.insert("function".into(), function.into());
    map.insert("kind".into(), kind.as_str().into());
    map.insert("message".into(), message.into());
    if let Some(param) = param {
        map.insert("param".into(), param.into());
    }
    Box::new(EvalAltResult::ErrorRuntime(map.into(), position))
}

/// The uncatchable error that ends a stopped script; the engine maps it to the stop's reason.
pub(crate) fn terminated(reason: StopReason, position: Position) -> Box<EvalAltResult> {
    let token = match reason {
        StopReason::Cancelled => "cancelled",
        StopReason::TimedOut => "timed out",
        StopReason::Shutdown => "bridge shutdown",
    };
    Box::new(EvalAltResult::ErrorTerminated(token.into(), position))
}
