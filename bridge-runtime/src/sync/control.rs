//! How one script is stopped: cancelled by its handle, past its deadline, or by bridge shutdown.
//!
//! Shared by the script's handle (any thread), its engine thread (checked between operations and
//! while waiting on a call) and the worker (its calls' futures end when the script stops).

use crate::state::{ContextValues, TypeMap};
use crate::sync::wake::ScriptWaker;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Why a script was stopped before it finished. Stored in the script's switch as its `u8`
/// value (0 is "running").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum StopReason {
    Cancelled = 1,
    TimedOut = 2,
    Shutdown = 3,
}

const RUNNING: u8 = 0;

impl StopReason {
    fn from_code(code: u8) -> Option<Self> {
        [Self::Cancelled, Self::TimedOut, Self::Shutdown]
            .into_iter()
            .find(|reason| *reason as u8 == code)
    }

    /// How the stop reads in Rhai's "script terminated" error, which carries it to the script's
    /// end (where the switch, not this text, says what happened).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timed out",
            Self::Shutdown => "bridge shutdown",
        }
    }
}

/// The stop switch of one script.
pub(crate) struct ScriptControl {
    stop: AtomicU8,
    deadline: Option<Instant>,
    /// The script's wall-clock limit, for its error message.
    timeout: Option<Duration>,
    /// Who must hear of a stop: the engine thread running the script, or the queue it waits in.
    listener: Mutex<StopListener>,
    /// What its calls on the worker share with it.
    calls: Arc<CallScope>,
}

/// Who is told when a script is stopped.
enum StopListener {
    /// Nobody yet: the script is on its way to an engine thread.
    Nobody,
    /// The script waits in the bridge's queue; this takes it out.
    Queue(Arc<dyn Fn() + Send + Sync>),
    /// The engine thread running the script: woken, so a waiting script sees the stop at once.
    EngineThread(Arc<ScriptWaker>),
}

/// What a script's calls on the worker share with it: a flag set once, when the script stops or
/// ends, and the script's context values.
///
/// One `Arc` per call for both, because a reference count is a cache line that the engine thread
/// and the worker hand back and forth on every call. The flag is an atomic plus a `Notify`, rather
/// than tokio-util's `CancellationToken`: a call checks it on the hot path, and the token takes a
/// lock to clone, drop or even read.
///
/// Aligned to a cache line so that its reference count (which the engine thread changes on every
/// call) does not share a line with the fields the worker reads.
#[repr(align(64))]
pub(crate) struct CallScope {
    stopped: AtomicBool,
    wake: Notify,
    context: ContextValues,
}

impl CallScope {
    /// The calling script's `ScriptContext` values.
    pub(crate) fn context(&self) -> Arc<TypeMap> {
        self.context.values()
    }

    pub(crate) fn is_set(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    fn set(&self) {
        self.stopped.store(true, Ordering::Release);
        self.wake.notify_waiters();
    }

    /// Completes once the flag is set.
    pub(crate) async fn wait(&self) {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

impl ScriptControl {
    /// The switch of a script with the time limit `timeout` and the context values `context`.
    pub(crate) fn new(timeout: Option<Duration>, context: ContextValues) -> Self {
        Self {
            stop: AtomicU8::new(RUNNING),
            deadline: timeout.and_then(|timeout| Instant::now().checked_add(timeout)),
            timeout,
            listener: Mutex::new(StopListener::Nobody),
            calls: Arc::new(CallScope {
                stopped: AtomicBool::new(false),
                wake: Notify::new(),
                context,
            }),
        }
    }

    fn listener(&self) -> std::sync::MutexGuard<'_, StopListener> {
        self.listener.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records how the script is woken on the engine thread that runs it, so a stop can wake it.
    pub(crate) fn attach(&self, waker: Arc<ScriptWaker>) {
        *self.listener() = StopListener::EngineThread(waker);
    }

    /// Records that the script waits in a queue, and what takes it out when it is stopped there.
    pub(crate) fn wait_in_queue(&self, take_out: Arc<dyn Fn() + Send + Sync>) {
        *self.listener() = StopListener::Queue(take_out);
    }

    /// Stops the script (if it is still running) for `reason`.
    pub(crate) fn stop(&self, reason: StopReason) {
        let code = reason as u8;
        // The first reason wins: a script cancelled after its deadline stays timed out.
        let _ = self
            .stop
            .compare_exchange(RUNNING, code, Ordering::AcqRel, Ordering::Acquire);
        self.calls.set();
        let take_out = match &*self.listener() {
            StopListener::Nobody => None,
            StopListener::EngineThread(waker) => {
                waker.wake();
                None
            }
            StopListener::Queue(take_out) => Some(take_out.clone()),
        };
        // Called without the lock: taking a script out of the queue takes the queue's lock.
        if let Some(take_out) = take_out {
            take_out();
        }
    }

    /// Why the script must stop now, if it must. Passing the deadline stops it here.
    pub(crate) fn stop_reason(&self) -> Option<StopReason> {
        match self.stop.load(Ordering::Acquire) {
            RUNNING => {
                if self
                    .deadline
                    .is_some_and(|deadline| Instant::now() >= deadline)
                {
                    self.stop(StopReason::TimedOut);
                    return self.stop_reason();
                }
                None
            }
            code => StopReason::from_code(code),
        }
    }

    /// The deadline, if the script has one.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The script's time limit, if it has one.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// What the script's calls on the worker share with it.
    pub(crate) fn calls(&self) -> &Arc<CallScope> {
        &self.calls
    }

    /// The script is over: drop whatever calls of it are still in flight.
    pub(crate) fn finish(&self) {
        self.calls.set();
    }
}
