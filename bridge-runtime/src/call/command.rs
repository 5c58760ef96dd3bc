//! The command protocol between engine threads and the worker.
//!
//! `#[script_async]` writes one command type per function (its arguments as owned fields) and
//! implements [`ScriptCommand`] for it. The command channel carries [`Command`]s; a call travels as
//! its typed command in the cell its reply comes back through: no encoding on the way.

#![allow(unsafe_code)]

use crate::call::call_env::{CallEnv, WorkerEnv};
use crate::call::placement::{CallPool, Placed, SendCallFuture};
use crate::call::run_call::run_call;
use crate::catch_unwind::CatchUnwind;
use crate::error::{CallErrorKind, CallFailure};
use crate::resource::returned::{ScriptValue, WorkerSide};
use crate::resource::table::ResourceTables;
use crate::state::TypeMap;
use crate::sync::control::CallScope;
use crate::sync::reply::CellSender;
use crate::sync::thread_bound::ThreadBound;
use crate::trace::{self, Span};
use std::fmt::Display;
use std::future::Future;
use std::pin::{pin, Pin};
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// One function's call, as plain data, and how the worker performs it.
///
/// Implemented by `#[script_async]` only: it is sealed (its supertrait is the bridge's own),
/// so a method can be added to it without breaking anyone.
pub trait ScriptCommand: CommandSeal + Send + 'static {
    /// The name scripts call the function by.
    const SCRIPT_NAME: &'static str;

    /// The function's value on success, sent back to the engine thread.
    type Output: ScriptValue;

    /// The name of the function this command calls: [`SCRIPT_NAME`](Self::SCRIPT_NAME), except
    /// for a module's command enum, whose variants call different functions.
    fn script_name(&self) -> &'static str {
        Self::SCRIPT_NAME
    }

    /// Worker side: awaits the real function with this command's arguments, and the state and
    /// context it asks for from `env`.
    fn dispatch(self, env: CallEnv) -> impl Future<Output = Result<Self::Output, CallFailure>>;

    /// Worker side, on a bridge with threads besides the worker's: the same call, boxed to run
    /// on any of them when its future is `Send`, else on the worker. `#[script_async]` writes it
    /// for functions that take no resource; by default every call keeps to the worker.
    fn dispatch_placed(self, env: CallEnv) -> Placed<Self::Output>
    where
        Self: Sized,
    {
        Placed::Worker(Box::pin(self.dispatch(env)))
    }
}

/// Seals [`ScriptCommand`]: implemented by the code `#[script_async]` writes, beside it.
#[doc(hidden)]
pub trait CommandSeal {}

/// A command whose function is polled once on the engine thread before any hand-off
/// (`#[script_async(eager)]`): a call that finishes on that first poll never crosses threads.
/// Its future must be `Send`, since an unfinished one moves to the worker.
///
/// Implemented by `#[script_async(eager)]`; you do not implement it by hand.
pub trait EagerCommand: ScriptCommand {
    /// The same work as [`ScriptCommand::dispatch`], as a future that can move to the worker.
    fn dispatch_send(self, env: CallEnv) -> SendCallFuture<Self::Output>;
}

/// What the worker sends back for one call: the function's value in the form it crosses in.
pub(crate) type Reply<C> = Result<Sent<C>, CallFailure>;

/// The form a command's value crosses back to the engine thread in.
pub(crate) type Sent<C> = <<C as ScriptCommand>::Output as ScriptValue>::Sent;

/// What the worker thread gives every call it runs: the bridge's `State` values, and the
/// resources scripts hold.
pub(crate) struct WorkerContext {
    pub(crate) states: Arc<TypeMap>,
    pub(crate) resources: Rc<ResourceTables>,
    /// Where `Send` calls run, if the bridge has threads besides the worker's.
    pub(crate) pool: Option<CallPool>,
}

impl WorkerContext {
    /// A context with no state and the default resource settings, for unit tests.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self {
            states: Arc::default(),
            resources: ResourceTables::new(crate::resource::table::ResourceSettings {
                max_per_script: 64,
                close_timeout: Duration::from_secs(1),
            }),
            pool: None,
        }
    }

    /// The env of a call of the script whose calls share `scope`.
    fn env(&self, scope: &Arc<CallScope>) -> CallEnv {
        CallEnv {
            states: self.states.clone(),
            context: scope.context(),
            worker: Some(WorkerEnv {
                tables: ThreadBound::new(self.resources.clone()),
                scope: scope.clone(),
            }),
        }
    }
}

/// A message on the command channel.
pub(crate) enum Command {
    /// Perform one call and send its reply.
    Call(ErasedCall),
}

/// A call as the worker runs it: a future that delivers its own reply.
pub(crate) type CallFuture = Pin<Box<dyn Future<Output = ()>>>;

/// What the worker needs for one call, kept in the call's cell (see [`crate::sync::reply`]).
pub(crate) trait CallPayload: Send + Sized + 'static {
    /// What the worker sends back.
    type Reply: Send + 'static;

    /// The future that performs the call and delivers its reply through `sender`; polled on the
    /// worker thread, whose context `worker` is.
    fn into_future(sender: CellSender<Self, Self::Reply>, worker: &WorkerContext) -> CallFuture;
}

/// A call's cell on its way to the worker, with its type erased so one channel carries every
/// function: a pointer and the two functions that know the type. No allocation of its own.
pub(crate) struct ErasedCall {
    sender: NonNull<()>,
    into_future: unsafe fn(NonNull<()>, &WorkerContext) -> CallFuture,
    drop_sender: unsafe fn(NonNull<()>),
}

// SAFETY: built only from a `CellSender` whose payload and reply are `Send` (`CallPayload`
// requires it), which is what makes that sender `Send`.
unsafe impl Send for ErasedCall {}

impl ErasedCall {
    /// Erases the type of `sender`.
    pub(crate) fn new<P: CallPayload>(sender: CellSender<P, P::Reply>) -> Self {
        /// SAFETY (of both): `raw` comes from `into_raw` of a `CellSender<P, P::Reply>`, used once.
        unsafe fn into_future<P: CallPayload>(
            raw: NonNull<()>,
            worker: &WorkerContext,
        ) -> CallFuture {
            // SAFETY: as the caller promises, `raw` is such a sender's, rebuilt once.
            P::into_future(unsafe { CellSender::<P, P::Reply>::from_raw(raw) }, worker)
        }
        unsafe fn drop_sender<P: CallPayload>(raw: NonNull<()>) {
            // SAFETY: as the caller promises, `raw` is such a sender's, rebuilt once.
            drop(unsafe { CellSender::<P, P::Reply>::from_raw(raw) });
        }
        Self {
            sender: sender.into_raw(),
            into_future: into_future::<P>,
            drop_sender: drop_sender::<P>,
        }
    }

    /// The future that performs the call and delivers its reply.
    pub(crate) fn into_future(self, worker: &WorkerContext) -> CallFuture {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: the pointer and function come from `new`, and `this` is not dropped, so the
        // sender is rebuilt exactly once.
        unsafe { (this.into_future)(this.sender, worker) }
    }
}

impl Drop for ErasedCall {
    fn drop(&mut self) {
        // SAFETY: as in `into_future`; a call dropped unstarted tells its waiter no reply comes.
        unsafe { (self.drop_sender)(self.sender) }
    }
}

/// What every call on its way to the worker carries besides its work.
pub(crate) struct CallFrame {
    /// The calling script's context values, and its flag: set when the script stops or ends, the
    /// call is dropped unfinished.
    pub(crate) scope: Arc<CallScope>,
    /// The call's own time limit.
    pub(crate) timeout: Option<Duration>,
    /// The call's tracing span, which its future runs in.
    pub(crate) span: Span,
}

impl CallFrame {
    /// Runs `call`, pinned in its caller's future, within this frame's time limit and scope
    /// (see [`run_call`]).
    pub(crate) async fn run<T>(
        &self,
        call: Pin<&mut Option<CatchUnwind<impl Future<Output = Result<T, CallFailure>>>>>,
    ) -> Option<Result<T, CallFailure>> {
        run_call(call, &self.scope, self.timeout).await
    }
}

/// A command on its way to the worker, with everything the worker needs to run it.
pub(crate) struct PendingCall<C: ScriptCommand> {
    /// Taken by the worker when it starts the call.
    pub(crate) command: Option<C>,
    pub(crate) frame: CallFrame,
}

impl<C: ScriptCommand> CallPayload for PendingCall<C> {
    type Reply = Reply<C>;

    fn into_future(
        mut sender: CellSender<Self, Self::Reply>,
        worker: &WorkerContext,
    ) -> CallFuture {
        let span = sender.payload().frame.span.clone();
        let scope = sender.payload().frame.scope.clone();
        // Nothing is started for a script that already stopped.
        let env = (!scope.is_set()).then(|| worker.env(&scope));
        let tables = worker.resources.clone();
        let pool = worker.pool.clone().map(|pool| (pool, span.clone()));
        let call = async move {
            let Some(env) = env else {
                return;
            };
            let Some(command) = sender.payload_mut().command.take() else {
                return;
            };
            let call = pin!(Some(CatchUnwind::new(async move {
                let value = match pool {
                    None => command.dispatch(env).await?,
                    Some((pool, span)) => match command.dispatch_placed(env) {
                        Placed::Anywhere(call) => call.start(&pool, span).await?,
                        Placed::Worker(call) => call.await?,
                    },
                };
                value.on_worker(Some(&WorkerSide {
                    tables: &tables,
                    scope: &scope,
                }))
            })));
            if let Some(reply) = sender.payload().frame.run(call).await {
                sender.send(reply);
            }
        };
        Box::pin(trace::instrument(call, span))
    }
}

/// An eager call whose first poll, on the engine thread, left it unfinished: the worker takes
/// over its future.
pub(crate) struct StartedCall<T> {
    /// Taken by the worker when it goes on with the call.
    pub(crate) call: Option<CatchUnwind<SendCallFuture<T>>>,
    pub(crate) frame: CallFrame,
}

impl<T: ScriptValue + Send> CallPayload for StartedCall<T> {
    type Reply = Result<T::Sent, CallFailure>;

    fn into_future(
        mut sender: CellSender<Self, Self::Reply>,
        worker: &WorkerContext,
    ) -> CallFuture {
        let span = sender.payload().frame.span.clone();
        let scope = sender.payload().frame.scope.clone();
        let tables = worker.resources.clone();
        let pool = worker.pool.clone().map(|pool| (pool, span.clone()));
        let call = async move {
            let Some(call) = sender.payload_mut().call.take() else {
                return;
            };
            // On a bridge with more threads, the rest of an eager call (its future is `Send`)
            // runs on them.
            let reply = match pool {
                None => sender.payload().frame.run(pin!(Some(call))).await,
                Some((pool, span)) => {
                    let pooled = pin!(Some(CatchUnwind::new(pool.run(call, span))));
                    sender.payload().frame.run(pooled).await
                }
            };
            if let Some(reply) = reply {
                let side = WorkerSide {
                    tables: &tables,
                    scope: &scope,
                };
                sender.send(reply.and_then(|value| value.on_worker(Some(&side))));
            }
        };
        Box::pin(trace::instrument(call, span))
    }
}

/// Replaces a function's error with its `Display`, taken on the worker so the error type itself
/// need not be `Send`.
pub fn describe_err<T, E: Display>(result: Result<T, E>) -> Result<T, CallFailure> {
    result.map_err(|error| CallFailure::new(CallErrorKind::Error, error.to_string()))
}

/// A function's result as JSON: how a module's command enum gives back the result of whichever
/// function it called.
pub fn output_json<T: serde::Serialize>(
    result: Result<T, CallFailure>,
) -> Result<serde_json::Value, CallFailure> {
    serde_json::to_value(result?).map_err(|error| {
        CallFailure::new(
            CallErrorKind::Return,
            format!("the return value has no JSON form: {error}"),
        )
    })
}

/// `Debug` for a module's commands, which are serde data whatever their fields are:
/// `DepositCommand {"id":1,"amount":5}`.
pub fn debug_as_json(
    name: &str,
    command: &impl serde::Serialize,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    match serde_json::to_string(command) {
        Ok(json) => write!(f, "{name} {json}"),
        Err(_) => write!(f, "{name} {{ .. }}"),
    }
}

/// Commands for unit tests of the protocol, without the macro.
#[cfg(test)]
pub(crate) mod test_commands {
    use super::*;

    /// Adds two numbers, at once.
    pub(crate) struct Add(pub(crate) i64, pub(crate) i64);

    impl CommandSeal for Add {}

    impl ScriptCommand for Add {
        const SCRIPT_NAME: &'static str = "add";
        type Output = i64;
        async fn dispatch(self, _env: CallEnv) -> Result<i64, CallFailure> {
            Ok(self.0 + self.1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_commands::Add;
    use super::*;
    use crate::sync::control::ScriptControl;
    use crate::sync::reply::call_cell;
    use std::task::{Context, Waker};

    fn pending_add(control: &ScriptControl) -> PendingCall<Add> {
        PendingCall {
            command: Some(Add(1, 2)),
            frame: CallFrame {
                scope: control.calls().clone(),
                timeout: None,
                span: crate::trace::no_span(),
            },
        }
    }

    #[test]
    fn a_calls_future_holds_its_command_once_not_once_per_layer() {
        // Each layer that took the call by value (time limit, stop flag, panic catching) held
        // it again: a call that returned at once had a future of over 5 KiB, allocated and
        // copied on every call.
        let control = ScriptControl::new(None, crate::state::ContextValues::default());
        let (sender, _receiver) = call_cell(
            pending_add(&control),
            crate::sync::wake::ScriptWaker::for_current_thread(),
        );
        let call = ErasedCall::new(sender).into_future(&WorkerContext::for_tests());
        let size = std::mem::size_of_val(call.as_ref().get_ref());
        assert!(size <= 1024, "a call's future is {size} bytes");
    }

    #[test]
    fn an_erased_call_runs_its_command_and_replies_through_its_cell() {
        let control = ScriptControl::new(None, crate::state::ContextValues::default());
        let (sender, receiver) = call_cell(
            pending_add(&control),
            crate::sync::wake::ScriptWaker::for_current_thread(),
        );
        let mut call = ErasedCall::new(sender).into_future(&WorkerContext::for_tests());
        let polled = call.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert!(polled.is_ready());
        drop(call);
        match receiver.try_take() {
            Some(Ok(Ok(sum))) => assert_eq!(sum, 3),
            _ => panic!("no reply"),
        }
    }

    #[test]
    fn an_erased_call_dropped_unstarted_tells_its_waiter_no_reply_comes() {
        let control = ScriptControl::new(None, crate::state::ContextValues::default());
        let (sender, receiver) = call_cell(
            pending_add(&control),
            crate::sync::wake::ScriptWaker::for_current_thread(),
        );
        drop(ErasedCall::new(sender));
        assert!(matches!(receiver.try_take(), Some(Err(_))));
    }

    #[test]
    fn a_call_of_a_stopped_script_is_not_started() {
        let control = ScriptControl::new(None, crate::state::ContextValues::default());
        control.finish();
        let (sender, receiver) = call_cell(
            pending_add(&control),
            crate::sync::wake::ScriptWaker::for_current_thread(),
        );
        let mut call = ErasedCall::new(sender).into_future(&WorkerContext::for_tests());
        assert!(call
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready());
        drop(call);
        assert!(matches!(receiver.try_take(), Some(Err(_))));
    }
}
