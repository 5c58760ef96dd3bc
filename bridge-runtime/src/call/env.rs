//! What the proxies on one engine thread share: the way to the worker, the bridge-wide call
//! settings, and the script running now.

use crate::call::call_records::CallRecords;
use crate::call::queue::CommandSender;
use crate::call::raise::runtime_error;
use crate::call::running_script::RunningScript;
use crate::state::TypeMap;
use crate::sync::thread_bound::{ThreadBound, OFF_ITS_THREAD};
use crate::sync::wait::{SpinGate, SpinPolicy};
use rhai::EvalAltResult;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// What calls on every engine thread of one bridge share.
#[derive(Clone)]
pub(crate) struct CallSettings {
    pub(crate) commands: CommandSender,
    /// Set when the bridge shuts down: running scripts end at their next operation.
    pub(crate) bridge_stopped: Arc<AtomicBool>,
    /// The time limit of calls whose function sets none.
    pub(crate) call_timeout: Option<Duration>,
    /// At most this many calls started and not waited on, per script.
    pub(crate) max_calls_in_flight: usize,
    /// How many of this bridge's engine threads may spin while waiting.
    pub(crate) spin_gate: Arc<SpinGate>,
    /// The worker's runtime: eager calls take their first poll within its context.
    pub(crate) runtime: tokio::runtime::Handle,
    /// The bridge's `State` values, for eager calls.
    pub(crate) states: Arc<TypeMap>,
    /// Calls recorded, replayed or mocked; `None` when none are.
    pub(crate) records: Option<Arc<CallRecords>>,
}

/// What the proxies on one engine thread share.
pub(crate) struct EngineEnv {
    commands: CommandSender,
    call_timeout: Option<Duration>,
    max_calls_in_flight: usize,
    running: RefCell<Option<Rc<RunningScript>>>,
    spin: SpinPolicy,
    runtime: tokio::runtime::Handle,
    states: Arc<TypeMap>,
    bridge_stopped: Arc<AtomicBool>,
    records: Option<Arc<CallRecords>>,
}

impl EngineEnv {
    /// An environment for proxies that run on the current thread.
    pub(crate) fn for_current_thread(settings: &CallSettings) -> Self {
        Self {
            commands: settings.commands.clone(),
            call_timeout: settings.call_timeout,
            max_calls_in_flight: settings.max_calls_in_flight,
            running: RefCell::new(None),
            spin: SpinPolicy::new(settings.spin_gate.clone()),
            runtime: settings.runtime.clone(),
            states: settings.states.clone(),
            bridge_stopped: settings.bridge_stopped.clone(),
            records: settings.records.clone(),
        }
    }

    /// Set when the bridge shuts down.
    pub(crate) fn bridge_stopped(&self) -> &AtomicBool {
        &self.bridge_stopped
    }

    pub(crate) fn commands(&self) -> &CommandSender {
        &self.commands
    }

    pub(crate) fn call_timeout(&self) -> Option<Duration> {
        self.call_timeout
    }

    /// At most this many calls started and not waited on, per script.
    pub(crate) fn max_calls_in_flight(&self) -> usize {
        self.max_calls_in_flight
    }

    /// The worker's runtime.
    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// The bridge's `State` values.
    pub(crate) fn states(&self) -> &Arc<TypeMap> {
        &self.states
    }

    /// Calls recorded, replayed or mocked, if any are.
    pub(crate) fn records(&self) -> Option<&Arc<CallRecords>> {
        self.records.as_ref()
    }

    /// How this thread spins while it waits.
    pub(crate) fn spin(&self) -> &SpinPolicy {
        &self.spin
    }

    /// The script running now, if any.
    pub(crate) fn running(&self) -> Option<Rc<RunningScript>> {
        self.running.borrow().clone()
    }

    /// The script running now, or the script error that says none is (a function of this engine
    /// called from outside a script run by the bridge).
    pub(crate) fn require_running(
        &self,
        position: rhai::Position,
    ) -> Result<Rc<RunningScript>, Box<EvalAltResult>> {
        self.running()
            .ok_or_else(|| runtime_error("no script is running on this engine thread", position))
    }

    /// Makes `script` the one running now (the engine thread does, around each resume).
    pub(crate) fn set_running(&self, script: Option<Rc<RunningScript>>) {
        *self.running.borrow_mut() = script;
    }
}

/// An engine thread's [`EngineEnv`] as the functions registered on its engine hold it: usable
/// only on that thread (see [`ThreadBound`]), so that they are `Send + Sync` as Rhai's `sync`
/// feature asks, while the environment itself stays thread-local.
#[derive(Clone)]
pub(crate) struct BoundEnv(ThreadBound<Rc<EngineEnv>>);

impl BoundEnv {
    /// Binds `env` to the current thread (the engine thread building its engine).
    pub(crate) fn new(env: &Rc<EngineEnv>) -> Self {
        Self(ThreadBound::new(env.clone()))
    }

    /// The environment, or the script error raised at `position` off its engine thread.
    #[inline]
    pub(crate) fn get(&self, position: rhai::Position) -> Result<&EngineEnv, Box<EvalAltResult>> {
        self.0
            .get()
            .map(|env| &**env)
            .ok_or_else(|| runtime_error(OFF_ITS_THREAD, position))
    }

    /// The environment, if this is its engine thread.
    #[inline]
    pub(crate) fn on_this_thread(&self) -> Option<&EngineEnv> {
        self.0.get().map(|env| &**env)
    }
}
