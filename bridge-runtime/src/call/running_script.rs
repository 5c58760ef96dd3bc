//! The running script as its calls see it: its stop switch, the calls it has in flight, and the
//! call errors raised in it.

use crate::call::raise::{terminated, ProxyResult};
use crate::error::{CallError, CallErrorKind, ScriptPosition};
use crate::sync::control::ScriptControl;
use crate::sync::wait::{block_until, SpinPolicy};
use crate::sync::wake::ScriptWaker;
use rhai::{Dynamic, EvalAltResult, Map, Position};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::Arc;

/// The script an engine thread is running now.
pub(crate) struct RunningScript {
    pub(crate) control: Arc<ScriptControl>,
    /// Wakes the script when a reply it waits on arrives.
    pub(crate) waker: Arc<ScriptWaker>,
    /// The name errors give the script, if it has one.
    name: Option<Arc<str>>,
    /// Calls it started (`start`) whose replies it has not taken.
    pub(crate) calls_in_flight: Rc<CallsInFlight>,
    /// The last call error raised in it, as a typed value: the script sees a map, and may build
    /// and throw a map of the same shape itself, which must stay a plain script error.
    last_raised: RefCell<Option<CallError>>,
    /// The resources of calls now waiting on their callbacks, each with the function holding
    /// it: a call from such a callback that names one of them would wait for a lock its own
    /// caller holds, forever, so it is refused at once.
    held_by_callers: RefCell<Vec<(u64, &'static str)>>,
}

/// Marks resources as held by a call serving its callbacks, until dropped.
pub(crate) struct HeldByCaller<'a> {
    running: &'a RunningScript,
    count: usize,
}

impl Drop for HeldByCaller<'_> {
    fn drop(&mut self) {
        let mut held = self.running.held_by_callers.borrow_mut();
        let keep = held.len().saturating_sub(self.count);
        held.truncate(keep);
    }
}

impl RunningScript {
    /// The script's name, if it was given one.
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub(crate) fn new(
        control: Arc<ScriptControl>,
        waker: Arc<ScriptWaker>,
        name: Option<Arc<str>>,
    ) -> Self {
        Self {
            control,
            waker,
            name,
            calls_in_flight: Rc::default(),
            last_raised: RefCell::new(None),
            held_by_callers: RefCell::default(),
        }
    }

    /// Marks the resources `ids` as held by `function`, which is about to wait on a call that
    /// may run callbacks in this script, until the returned guard drops.
    pub(crate) fn hold_for_callbacks(
        &self,
        function: &'static str,
        ids: &[u64],
    ) -> HeldByCaller<'_> {
        self.held_by_callers
            .borrow_mut()
            .extend(ids.iter().map(|id| (*id, function)));
        HeldByCaller {
            running: self,
            count: ids.len(),
        }
    }

    /// The function holding the resource `id` while it waits on its callbacks, if one does.
    pub(crate) fn held_by_caller(&self, id: u64) -> Option<&'static str> {
        self.held_by_callers
            .borrow()
            .iter()
            .find(|(held, _)| *held == id)
            .map(|(_, function)| *function)
    }

    /// Rhai's `position` in this script, as errors report it.
    pub(crate) fn position(&self, position: Position) -> ScriptPosition {
        ScriptPosition::from_rhai(position, self.name.as_ref())
    }

    /// The call error whose map `value` is, if this script raised one like it: the typed error,
    /// with `position` (where it ended the script: a rethrown error ends it at the `throw`).
    pub(crate) fn raised_call_error(
        &self,
        value: &Dynamic,
        position: rhai::Position,
    ) -> Option<CallError> {
        let raised = self.last_raised.borrow();
        let raised = raised.as_ref()?;
        let map = value.read_lock::<Map>()?;
        let text = |key: &str| -> Option<String> {
            map.get(key)?
                .read_lock::<rhai::ImmutableString>()
                .map(|s| s.to_string())
        };
        let same = map.len() == 3 + usize::from(raised.param.is_some())
            && text("function")? == raised.function
            && text("kind")? == raised.kind.as_str()
            && text("message")? == raised.message
            && text("param") == raised.param;
        same.then(|| CallError {
            position: self.position(position),
            ..raised.clone()
        })
    }
}

/// A catchable script error carrying the map scripts see:
/// `#{ function, kind, message }` (plus `param` for argument errors). The typed error is kept
/// with the script that raised it (`raised_by`), so that the script's end can tell it from a map
/// the script built and threw itself.
pub(crate) fn call_error(
    raised_by: Option<&RunningScript>,
    function: &str,
    kind: CallErrorKind,
    message: String,
    param: Option<&'static str>,
    position: Position,
) -> Box<EvalAltResult> {
    if let Some(script) = raised_by {
        *script.last_raised.borrow_mut() = Some(CallError {
            function: function.to_owned(),
            kind,
            message: message.clone(),
            param: param.map(str::to_owned),
            position: script.position(position),
        });
    }
    let mut map = Map::new();
    map.insert("function".into(), function.into());
    map.insert("kind".into(), kind.as_str().into());
    map.insert("message".into(), message.into());
    if let Some(param) = param {
        map.insert("param".into(), param.into());
    }
    Box::new(EvalAltResult::ErrorRuntime(map.into(), position))
}

/// One script's calls in flight: started with `start` and neither waited on nor finished.
///
/// A handle dropped unwaited (`start(...)` whose result is thrown away) still counts until its
/// call finishes on the worker: otherwise a loop of `start` would keep any number of calls alive.
#[derive(Default)]
pub(crate) struct CallsInFlight {
    /// Handles alive and not waited on.
    handles: Cell<usize>,
    /// Replies of dropped handles whose calls had not finished.
    orphans: RefCell<Vec<Box<dyn ErasedReply>>>,
}

impl CallsInFlight {
    /// Counts one more call, unless `limit` are in flight already. Taken before the call is
    /// sent, so a refused call never reaches the worker.
    pub(crate) fn reserve(self: &Rc<Self>, limit: usize) -> Option<Reservation> {
        self.drop_finished_orphans();
        if self.handles.get() + self.orphans.borrow().len() >= limit {
            return None;
        }
        self.handles.set(self.handles.get() + 1);
        Some(Reservation(Some(Rc::downgrade(self))))
    }

    /// Drops the replies of dropped handles whose calls have finished since: a resource one
    /// returned is let go then, rather than when the script ends. Run before each call.
    #[inline]
    pub(crate) fn drop_finished_orphans(&self) {
        let mut orphans = self.orphans.borrow_mut();
        if !orphans.is_empty() {
            orphans.retain(|reply| !reply.is_finished());
        }
    }

    /// Counts one call less: its handle was waited on or dropped.
    pub(crate) fn release_handle(&self) {
        self.handles.set(self.handles.get() - 1);
    }

    /// Keeps counting the call of a handle dropped unwaited until `reply` arrives.
    pub(crate) fn keep_orphan(&self, reply: Box<dyn ErasedReply>) {
        if !reply.is_finished() {
            self.orphans.borrow_mut().push(reply);
        }
    }
}

/// A place among a script's calls in flight, for the handle of a call about to start; given
/// back if the call is never sent.
pub(crate) struct Reservation(Option<Weak<CallsInFlight>>);

impl Reservation {
    /// The calls in flight the place is among, now held by a handle (which gives it back).
    pub(crate) fn into_place(mut self) -> Weak<CallsInFlight> {
        self.0.take().unwrap_or_default()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(calls) = self.0.take().and_then(|calls| calls.upgrade()) {
            calls.release_handle();
        }
    }
}

/// A reply not yet taken, with its type erased so handles of different functions mix.
pub(crate) trait ErasedReply {
    /// Whether the reply arrived (or never will).
    fn is_finished(&self) -> bool;

    /// Asks for this thread to be unparked when the reply arrives (see [`CellReceiver::arm`](crate::sync::reply::CellReceiver::arm)).
    fn arm(&self);

    /// Converts the arrived reply for `running`; `position` is where the script takes it.
    fn finish(self: Box<Self>, running: &RunningScript, position: Position) -> ProxyResult;

    /// Blocks until the reply arrives (or the script must stop), then [`finish`](Self::finish)es.
    fn wait(
        self: Box<Self>,
        running: &RunningScript,
        spin: &SpinPolicy,
        position: Position,
    ) -> ProxyResult {
        match block_until(&running.control, spin, || self.is_finished(), || self.arm()) {
            Ok(()) => self.finish(running, position),
            Err(reason) => Err(terminated(reason, position)),
        }
    }
}
