//! The pool's state, shared with its engine threads: which thread has how many scripts, the
//! queue of scripts waiting for a place, and the decisions made under its one lock.

use crate::engine::build::EngineSettings;
use crate::engine::run::{stopped_error, ScriptBody};
use crate::sync::control::ScriptControl;
use crate::sync::control::StopReason;
use crate::sync::outcome::OutcomeSender;
use crate::trace::Span;
use crossbeam_channel::Sender;
use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

/// One script to run.
pub(crate) struct ScriptJob {
    pub(crate) body: ScriptBody,
    /// The script's tracing span, entered whenever it runs.
    pub(crate) span: Span,
    pub(crate) control: Arc<ScriptControl>,
    pub(crate) outcome: OutcomeSender,
}

/// How many engine threads and scripts a bridge allows.
pub(crate) struct PoolSize {
    /// Threads started with the bridge and never retired.
    pub(crate) min_threads: usize,
    /// At most this many engine threads; their scripts share them.
    pub(crate) max_threads: usize,
    /// At most this many scripts run at once; more wait in a queue.
    pub(crate) max_scripts: usize,
    /// A thread above the minimum idle this long exits.
    pub(crate) idle_timeout: Duration,
}

/// The pool's view of one engine thread.
pub(super) struct ThreadEntry {
    pub(super) id: u64,
    pub(super) inbox: Sender<ScriptJob>,
    pub(super) thread: Thread,
    /// Scripts given to it (in its inbox or running there) and not finished yet.
    pub(super) scripts: usize,
}

/// Everything placement decides on, under one lock, so a queued script always has a thread
/// coming and a thread never retires with a script on its way.
#[derive(Default)]
pub(super) struct PoolState {
    pub(super) threads: Vec<ThreadEntry>,
    /// Scripts given to threads and not finished yet.
    pub(super) running: usize,
    /// Scripts beyond `max_scripts`, in arrival order.
    pub(super) backlog: VecDeque<ScriptJob>,
    pub(super) next_id: u64,
    pub(super) closed: bool,
}

/// What the pool and its engine threads share.
pub(crate) struct PoolShared {
    pub(crate) settings: EngineSettings,
    pub(crate) size: PoolSize,
    state: Mutex<PoolState>,
    /// Every engine thread started and not yet joined.
    pub(super) handles: Mutex<Vec<JoinHandle<()>>>,
    /// Set by a test to make the next engine thread that resumes a script fail, as a bug in the
    /// bridge would (see [`Bridge::__fail_an_engine_thread`](crate::Bridge::__fail_an_engine_thread)).
    pub(crate) fail_one_thread: AtomicBool,
}

impl PoolShared {
    pub(super) fn new(settings: EngineSettings, size: PoolSize) -> Self {
        Self {
            settings,
            size,
            state: Mutex::default(),
            handles: Mutex::default(),
            fail_one_thread: AtomicBool::new(false),
        }
    }

    pub(super) fn state(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that a script on thread `id` finished; hands that thread the next queued script,
    /// if any, to run next.
    pub(crate) fn script_finished(&self, id: u64) -> Option<ScriptJob> {
        let mut state = self.state();
        state.running -= 1;
        let entry = state.threads.iter_mut().find(|entry| entry.id == id);
        if let Some(entry) = entry {
            entry.scripts -= 1;
        }
        let job = state.backlog.pop_front()?;
        state.running += 1;
        if let Some(entry) = state.threads.iter_mut().find(|entry| entry.id == id) {
            entry.scripts += 1;
        }
        Some(job)
    }

    /// Ends every queued script that was stopped, each with its stop's error.
    pub(super) fn remove_stopped_from_queue(&self) {
        let stopped: Vec<(ScriptJob, StopReason)> = {
            let mut state = self.state();
            let mut stopped = Vec::new();
            let mut index = 0;
            while index < state.backlog.len() {
                match state.backlog[index].control.stop_reason() {
                    Some(reason) => {
                        stopped.extend(state.backlog.remove(index).map(|job| (job, reason)))
                    }
                    None => index += 1,
                }
            }
            stopped
        };
        for (job, reason) in stopped {
            let error = stopped_error(reason, &job.control);
            job.outcome.send(Err(error));
        }
    }

    /// Takes thread `id` out of the pool: it gets no more scripts, and exits once its own end.
    pub(crate) fn leave(&self, id: u64) {
        self.state().threads.retain(|entry| entry.id != id);
    }

    /// Whether idle thread `id` may exit now (it has no script and the pool keeps enough
    /// threads without it); if so, it is no longer given scripts.
    pub(crate) fn retire(&self, id: u64) -> bool {
        let mut state = self.state();
        let keep = self.size.min_threads.max(1);
        let Some(index) = state.threads.iter().position(|entry| entry.id == id) else {
            // Already let go by shutdown.
            return true;
        };
        if state.threads[index].scripts > 0 || state.threads.len() <= keep {
            return false;
        }
        state.threads.swap_remove(index);
        true
    }
}
