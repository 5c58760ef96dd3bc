//! Callbacks: a script function an async function takes as an argument and calls while its call
//! is in flight.
//!
//! The script's `FnPtr` is not `Send`, so it never leaves the engine thread. The function gets a
//! [`ScriptCallback`]: an index into its call's callbacks and that call's [`CallbackQueue`]. A
//! call pushes a request (the index and the arguments as JSON) and wakes the script, whose proxy
//! is waiting on the call's reply (`call::mode`); the proxy runs the function pointer there
//! ([`CallbackServer`]), sends the result back, and goes on waiting. When the call's wait ends
//! (its reply came, or the script must stop) the queue is closed: every request still queued, and
//! every later one, is answered at once with an error.

use crate::convert::{dynamic_to_json, into_script};
use crate::sync::control::ScriptControl;
use crate::sync::wake::ScriptWaker;
use rhai::{Dynamic, EvalAltResult, FnPtr, NativeCallContext};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::oneshot;

/// A script function passed to an async function: a closure (`|x| x * 2`) or a function pointer
/// (`Fn("name")`), for a parameter of this type.
///
/// The function may [`call`](Self::call) it any number of times while its own call is in flight,
/// also from several futures at once: each call runs on the script's own engine thread (the
/// script is waiting on the function, so it can), one at a time, under the script's deadline,
/// cancellation and limits, and may itself call async functions. Arguments and the result cross
/// as plain data, converted as a call's arguments and return value are.
///
/// It is `Send + Sync + Clone` and holds no script value. Called after the call that received it
/// returned, or after its script stopped, it answers at once with a [`CallbackError`].
///
/// A function taking a callback cannot be `start`ed (the script would not wait on it, so nothing
/// could run the callback), dispatched by the host ([`Bridge::dispatch`](crate::Bridge::dispatch)
/// has no script), recorded, replayed or mocked: each is a clear error.
///
/// ```
/// use bridge_runtime::{script_async, ScriptCallback};
///
/// /// Calls `attempt` until it succeeds, at most `times` times.
/// #[script_async]
/// async fn doc_retry(times: i64, attempt: ScriptCallback) -> Result<i64, String> {
///     let mut last = String::new();
///     for _ in 0..times {
///         match attempt.call::<i64>(()).await {
///             Ok(value) => return Ok(value),
///             Err(error) => last = error.to_string(),
///         }
///     }
///     Err(last)
/// }
///
/// let value = bridge_runtime::run(
///     "doc_retry(5, || 42)",
/// )?;
/// assert_eq!(value, 42);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
#[derive(Clone)]
pub struct ScriptCallback {
    index: usize,
    queue: Arc<CallbackQueue>,
}

impl ScriptCallback {
    pub(crate) fn new(index: usize, queue: Arc<CallbackQueue>) -> Self {
        Self { index, queue }
    }

    /// Calls the script function with `args` (`()` for none, or a tuple of up to six
    /// `Serialize` values: `(x,)`, `(x, y)`) and converts its result to `R`.
    ///
    /// A script error in the callback (a `throw`, a failed call it made) is an
    /// `Err` for the function to handle, not the end of the script.
    ///
    /// ```
    /// use bridge_runtime::{script_async, ScriptCallback};
    ///
    /// #[script_async]
    /// async fn doc_sum_mapped(items: Vec<i64>, map: ScriptCallback) -> Result<i64, String> {
    ///     let mut sum = 0;
    ///     for item in items {
    ///         sum += map.call::<i64>((item,)).await.map_err(|e| e.to_string())?;
    ///     }
    ///     Ok(sum)
    /// }
    ///
    /// assert_eq!(bridge_runtime::run("doc_sum_mapped([1, 2, 3], |x| x * 10)")?, 60);
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    pub async fn call<R: DeserializeOwned>(
        &self,
        args: impl CallbackArgs,
    ) -> Result<R, CallbackError> {
        let args = args.into_values()?;
        let answer = self.queue.push(self.index, args)?;
        let value = answer.await.map_err(|_| {
            CallbackError::new(
                CallbackErrorKind::Stopped,
                "the script stopped before the callback could run",
            )
        })??;
        serde_json::from_value(value).map_err(|error| {
            CallbackError::new(
                CallbackErrorKind::Return,
                format!("the callback's result is not the type expected: {error}"),
            )
        })
    }
}

impl fmt::Debug for ScriptCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptCallback")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// What a callback's value says where serde data is expected (a module's command as JSON).
const NEEDS_A_SCRIPT: &str = "a callback is a script function, so it needs a script: a call of a \
                              function taking a callback can be made only by a script";

/// A callback has no data form: a command holding one cannot be serialized (so
/// [`Bridge::dispatch`](crate::Bridge::dispatch) refuses it, saying why).
impl Serialize for ScriptCallback {
    fn serialize<S: serde::Serializer>(&self, _serializer: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(NEEDS_A_SCRIPT))
    }
}

/// A callback cannot be made from data: a command holding one cannot be deserialized (so
/// [`Bridge::dispatch_json`](crate::Bridge::dispatch_json) refuses it, saying why).
impl<'de> serde::Deserialize<'de> for ScriptCallback {
    fn deserialize<D: serde::Deserializer<'de>>(_deserializer: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom(NEEDS_A_SCRIPT))
    }
}

/// The arguments of one [`ScriptCallback::call`]: `()` or a tuple of up to six `Serialize`
/// values. Sealed: implemented here only.
///
/// ```
/// use bridge_runtime::CallbackArgs;
///
/// fn takes_args(_: impl CallbackArgs) {}
/// takes_args(());
/// takes_args((1, "two", vec![3.0]));
/// ```
pub trait CallbackArgs: callback_args_seal::Sealed {
    /// The arguments as JSON values, in order.
    #[doc(hidden)]
    fn into_values(self) -> Result<Vec<Value>, CallbackError>;
}

mod callback_args_seal {
    pub trait Sealed {}
}

impl callback_args_seal::Sealed for () {}

impl CallbackArgs for () {
    fn into_values(self) -> Result<Vec<Value>, CallbackError> {
        Ok(Vec::new())
    }
}

macro_rules! callback_args_tuple {
    ($($name:ident $index:tt),+) => {
        impl<$($name: Serialize),+> callback_args_seal::Sealed for ($($name,)+) {}

        impl<$($name: Serialize),+> CallbackArgs for ($($name,)+) {
            fn into_values(self) -> Result<Vec<Value>, CallbackError> {
                Ok(vec![$(argument_value($index, &self.$index)?),+])
            }
        }
    };
}

callback_args_tuple!(A 0);
callback_args_tuple!(A 0, B 1);
callback_args_tuple!(A 0, B 1, C 2);
callback_args_tuple!(A 0, B 1, C 2, D 3);
callback_args_tuple!(A 0, B 1, C 2, D 3, E 4);
callback_args_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);

/// One argument as JSON (serde_json's own recursion limit bounds this; the engine thread then
/// converts it with the bridge's depth bound).
fn argument_value(index: usize, value: &impl Serialize) -> Result<Value, CallbackError> {
    serde_json::to_value(value).map_err(|error| {
        CallbackError::new(
            CallbackErrorKind::Argument,
            format!("the callback's argument {index} has no script form: {error}"),
        )
    })
}

/// Why a [`ScriptCallback::call`] failed.
///
/// Its `Display` says what happened, so `?` into `Result<_, String>` (with `map_err`) or an
/// `anyhow::Error` keeps the reason.
///
/// ```
/// use bridge_runtime::{script_async, CallbackErrorKind, ScriptCallback};
///
/// #[script_async]
/// async fn doc_try_once(attempt: ScriptCallback) -> String {
///     match attempt.call::<i64>(()).await {
///         Ok(value) => format!("ok {value}"),
///         Err(error) if error.kind() == CallbackErrorKind::Script => {
///             format!("script error: {}", error.message())
///         }
///         Err(error) => format!("other: {error}"),
///     }
/// }
///
/// let said = bridge_runtime::run(r#"doc_try_once(|| throw "boom")"#)?;
/// assert_eq!(said, "script error: boom");
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackError {
    kind: CallbackErrorKind,
    message: String,
}

/// What kind of failure a [`CallbackError`] is.
///
/// ```
/// use bridge_runtime::{script_async, CallbackErrorKind, ScriptCallback};
///
/// static KEPT: std::sync::Mutex<Option<ScriptCallback>> = std::sync::Mutex::new(None);
///
/// /// Keeps its callback past its own call.
/// #[script_async]
/// async fn doc_keep(f: ScriptCallback) {
///     *KEPT.lock().unwrap() = Some(f);
/// }
///
/// bridge_runtime::run("doc_keep(|| 1)")?;
/// let kept = KEPT.lock().unwrap().take().unwrap();
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let late = runtime.block_on(kept.call::<i64>(())).unwrap_err();
/// assert_eq!(late.kind(), CallbackErrorKind::CallReturned);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallbackErrorKind {
    /// The callback raised a script error (`throw`, a runtime error, a failed call it made
    /// and did not catch); the message is the thrown value, or the error's text.
    Script,
    /// An argument has no script form (not serializable, nested too deeply, over a limit).
    Argument,
    /// The callback's result has no data form, or is not the type the function asked for.
    Return,
    /// The script was stopped (cancelled, past its deadline, the bridge shut down) or ended
    /// before the callback could run or finish, or the callback passed one of the script's
    /// limits (which ends the script, as no script may catch it).
    Stopped,
    /// The call that received the callback has returned: a callback kept past it (in a spawned
    /// task) can no longer run.
    CallReturned,
}

impl CallbackError {
    pub(crate) fn new(kind: CallbackErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> CallbackErrorKind {
        self.kind
    }

    /// What went wrong: for [`CallbackErrorKind::Script`], the script's own error message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            CallbackErrorKind::Script => write!(f, "the callback failed: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for CallbackError {}

/// One request to run a callback, from the function to the script.
pub(crate) struct CallbackRequest {
    index: usize,
    args: Vec<Value>,
    answer: oneshot::Sender<Result<Value, CallbackError>>,
}

impl CallbackRequest {
    fn answer(self, result: Result<Value, CallbackError>) {
        // The function may have stopped waiting (its future was dropped): nothing to tell.
        let _ = self.answer.send(result);
    }
}

/// Why a call's queue takes no more requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum QueueClosed {
    /// The call's reply came: its callbacks ended with it.
    CallReturned,
    /// The script must stop (or ended) while the call was in flight.
    Stopped,
}

impl QueueClosed {
    fn error(self) -> CallbackError {
        match self {
            Self::CallReturned => CallbackError::new(
                CallbackErrorKind::CallReturned,
                "the callback was called after the call it was passed to returned; a callback \
                 can run only while that call is in flight",
            ),
            Self::Stopped => CallbackError::new(
                CallbackErrorKind::Stopped,
                "the callback's script was stopped or has ended, so the callback cannot run",
            ),
        }
    }
}

/// One call's callback requests, from the worker to the script's engine thread. A mutex, not a
/// channel: requests are few, and closing must fail the queued ones under the same lock that
/// refuses new ones, so none is left unanswered.
pub(crate) struct CallbackQueue {
    state: Mutex<QueueState>,
    /// Set while requests are queued, so the waiting script looks without a lock.
    any: AtomicBool,
    waker: Arc<ScriptWaker>,
    control: Arc<ScriptControl>,
}

#[derive(Default)]
struct QueueState {
    requests: VecDeque<CallbackRequest>,
    closed: Option<QueueClosed>,
}

impl CallbackQueue {
    /// The queue of one call of the script `control` stops, woken by `waker`.
    pub(crate) fn new(waker: Arc<ScriptWaker>, control: Arc<ScriptControl>) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(QueueState::default()),
            any: AtomicBool::new(false),
            waker,
            control,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a request and wakes the script; refused at once if the queue is closed or the
    /// script is being stopped.
    fn push(
        &self,
        index: usize,
        args: Vec<Value>,
    ) -> Result<oneshot::Receiver<Result<Value, CallbackError>>, CallbackError> {
        let (answer, receiver) = oneshot::channel();
        {
            let mut state = self.lock();
            if let Some(closed) = state.closed {
                return Err(closed.error());
            }
            // Set when the script stops or ends; a deadline passed is seen by `stop_reason`.
            if self.control.calls().is_set() || self.control.stop_reason().is_some() {
                return Err(QueueClosed::Stopped.error());
            }
            state.requests.push_back(CallbackRequest {
                index,
                args,
                answer,
            });
            self.any.store(true, Ordering::Release);
        }
        self.waker.wake();
        Ok(receiver)
    }

    /// Whether a request is waiting to run.
    pub(crate) fn has_requests(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// The oldest request waiting, if any.
    fn take(&self) -> Option<CallbackRequest> {
        let mut state = self.lock();
        let request = state.requests.pop_front();
        if state.requests.is_empty() {
            self.any.store(false, Ordering::Release);
        }
        request
    }

    /// Takes no more requests, and answers the queued ones with the error `why` gives. The first
    /// reason stays.
    pub(crate) fn close(&self, why: QueueClosed) {
        let queued = {
            let mut state = self.lock();
            let why = *state.closed.get_or_insert(why);
            self.any.store(false, Ordering::Release);
            std::mem::take(&mut state.requests)
                .into_iter()
                .map(move |request| (request, why))
                .collect::<Vec<_>>()
        };
        for (request, why) in queued {
            request.answer(Err(why.error()));
        }
    }
}

/// The engine side of one call's callbacks: the script's function pointers, run when the
/// function asks. Closes the queue when dropped (the call's wait is over however it ended).
pub(crate) struct CallbackServer<'c, 'n> {
    queue: Arc<CallbackQueue>,
    functions: Vec<FnPtr>,
    context: &'c NativeCallContext<'n>,
    /// The first error a callback raised that no script may catch (a limit passed, the script
    /// terminated): the function is told its callback failed, and the script ends with it.
    fatal: RefCell<Option<Box<EvalAltResult>>>,
}

impl<'c, 'n> CallbackServer<'c, 'n> {
    pub(crate) fn new(
        queue: Arc<CallbackQueue>,
        functions: Vec<FnPtr>,
        context: &'c NativeCallContext<'n>,
    ) -> Self {
        Self {
            queue,
            functions,
            context,
            fatal: RefCell::new(None),
        }
    }

    /// The error a callback raised that ends the script, if one did: the call's wait gives it
    /// to the script instead of waiting on.
    pub(crate) fn take_fatal(&self) -> Option<Box<EvalAltResult>> {
        self.fatal.borrow_mut().take()
    }

    /// Whether the function asked for a callback to run.
    pub(crate) fn has_requests(&self) -> bool {
        self.queue.has_requests()
    }

    /// Runs every callback asked for, in the order asked, and answers each.
    pub(crate) fn serve_queued(&self) {
        while let Some(request) = self.queue.take() {
            if self.fatal.borrow().is_some() {
                request.answer(Err(QueueClosed::Stopped.error()));
                continue;
            }
            let result = self.run(request.index, &request.args);
            request.answer(result);
        }
    }

    /// Ends the call's callbacks: later requests are refused with `why`.
    pub(crate) fn close(&self, why: QueueClosed) {
        self.queue.close(why);
    }

    fn run(&self, index: usize, args: &[Value]) -> Result<Value, CallbackError> {
        let Some(function) = self.functions.get(index) else {
            // Indexes come from the proxy that made both; never out of range.
            return Err(CallbackError::new(
                CallbackErrorKind::Argument,
                "no such callback in this call",
            ));
        };
        let mut values = Vec::with_capacity(args.len());
        for (position, arg) in args.iter().enumerate() {
            let value = into_script(arg).map_err(|error| {
                CallbackError::new(
                    CallbackErrorKind::Argument,
                    format!("the callback's argument {position} has no script form: {error}"),
                )
            })?;
            values.push(value);
        }
        match function.call_raw(self.context, None, values) {
            Ok(result) => dynamic_to_json(&result).map_err(|error| {
                CallbackError::new(
                    CallbackErrorKind::Return,
                    format!("the callback's result has no data form: {error}"),
                )
            }),
            Err(error) if !error.unwrap_inner().is_catchable() => {
                let told = CallbackError::new(
                    CallbackErrorKind::Stopped,
                    format!("the script must end: {}", error.unwrap_inner()),
                );
                self.fatal.borrow_mut().get_or_insert(error);
                Err(told)
            }
            Err(error) => Err(script_error(&error)),
        }
    }
}

impl Drop for CallbackServer<'_, '_> {
    fn drop(&mut self) {
        self.queue.close(QueueClosed::Stopped);
    }
}

/// A callback's script error as the function sees it: a thrown string as itself, a thrown map
/// with a `message` (a call error) by that message, anything else as Rhai words it.
/// Rhai wraps an error raised inside a function (the callback itself is one) in the call's
/// error: the innermost one is what the script raised (a catchable one: see `run`).
fn script_error(error: &EvalAltResult) -> CallbackError {
    match error.unwrap_inner() {
        EvalAltResult::ErrorRuntime(value, _) => {
            CallbackError::new(CallbackErrorKind::Script, thrown_text(value))
        }
        inner => CallbackError::new(CallbackErrorKind::Script, inner.to_string()),
    }
}

fn thrown_text(value: &Dynamic) -> String {
    if let Some(text) = value.read_lock::<rhai::ImmutableString>() {
        return text.to_string();
    }
    if let Some(map) = value.read_lock::<rhai::Map>() {
        if let Some(message) = map
            .get("message")
            .and_then(|m| m.read_lock::<rhai::ImmutableString>())
        {
            return message.to_string();
        }
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ContextValues;

    fn queue() -> Arc<CallbackQueue> {
        CallbackQueue::new(
            ScriptWaker::for_current_thread(),
            Arc::new(ScriptControl::new(None, ContextValues::default())),
        )
    }

    #[test]
    fn a_request_is_queued_once_and_its_answer_reaches_the_caller() {
        let queue = queue();
        assert!(!queue.has_requests());
        let mut answer = queue.push(1, vec![Value::from(5)]).unwrap();
        assert!(queue.has_requests());
        let request = queue.take().unwrap();
        assert_eq!(
            (request.index, request.args.clone()),
            (1, vec![Value::from(5)])
        );
        assert!(!queue.has_requests());
        assert!(queue.take().is_none());
        request.answer(Ok(Value::from(10)));
        assert_eq!(answer.try_recv().unwrap(), Ok(Value::from(10)));
    }

    #[test]
    fn closing_answers_queued_requests_and_refuses_later_ones_with_the_first_reason() {
        let queue = queue();
        let mut queued = queue.push(0, Vec::new()).unwrap();
        queue.close(QueueClosed::CallReturned);
        queue.close(QueueClosed::Stopped);
        assert!(!queue.has_requests());
        let error = queued.try_recv().unwrap().unwrap_err();
        assert_eq!(error.kind(), CallbackErrorKind::CallReturned);
        let later = queue.push(0, Vec::new()).unwrap_err();
        assert_eq!(later.kind(), CallbackErrorKind::CallReturned);
    }

    #[test]
    fn a_request_of_a_stopped_script_fails_at_once() {
        let control = Arc::new(ScriptControl::new(None, ContextValues::default()));
        let queue = CallbackQueue::new(ScriptWaker::for_current_thread(), control.clone());
        control.finish();
        let error = queue.push(0, Vec::new()).unwrap_err();
        assert_eq!(error.kind(), CallbackErrorKind::Stopped);
        assert!(!queue.has_requests());
    }

    #[test]
    fn tuple_arguments_become_json_values_in_order() {
        let values = (1, "two", vec![3.5]).into_values().unwrap();
        assert_eq!(
            values,
            vec![Value::from(1), Value::from("two"), serde_json::json!([3.5])]
        );
        assert!(().into_values().unwrap().is_empty());
    }
}
