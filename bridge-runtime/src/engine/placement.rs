//! The pool's state, shared with its engine threads: which thread has how many scripts, the
//! queue of scripts waiting for a place, and the decisions made under its one lock.

use crate::engine::backlog::{Backlog, Queued, Tenant};
use crate::engine::build::EngineSettings;
use crate::engine::run::{stopped_error, ScriptBody};
use crate::sync::control::ScriptControl;
use crate::sync::control::StopReason;
use crate::sync::outcome::OutcomeSender;
use crate::trace::Span;
use crossbeam_channel::Sender;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

/// One script to run.
pub(crate) struct ScriptJob {
    pub(crate) body: ScriptBody,
    /// Who it runs for: queued scripts and engine threads' turns go round the tenants.
    pub(crate) tenant: Tenant,
    /// The script's tracing span, entered whenever it runs.
    pub(crate) span: Span,
    pub(crate) control: Arc<ScriptControl>,
    pub(crate) outcome: OutcomeSender,
}

impl Queued for ScriptJob {
    fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    fn stop_reason(&self) -> Option<StopReason> {
        self.control.stop_reason()
    }
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
    /// At most this many scripts of one tenant run at once; more wait in the queue.
    pub(crate) max_scripts_per_tenant: Option<usize>,
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
    /// Scripts beyond `max_scripts` (or their tenant's share), taken round the tenants.
    pub(super) backlog: Backlog<ScriptJob>,
    /// How many scripts of each named tenant run now.
    pub(super) tenants_running: HashMap<Arc<str>, usize>,
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

impl PoolState {
    /// Whether a script of `tenant` must wait for one of its tenant's to end first.
    pub(super) fn tenant_at_cap(&self, tenant: &Tenant, cap: Option<usize>) -> bool {
        match (tenant, cap) {
            (Some(tenant), Some(cap)) => {
                self.tenants_running.get(tenant).copied().unwrap_or(0) >= cap
            }
            _ => false,
        }
    }

    pub(super) fn tenant_started(&mut self, tenant: &Tenant) {
        if let Some(tenant) = tenant {
            *self.tenants_running.entry(tenant.clone()).or_default() += 1;
        }
    }

    pub(super) fn tenant_ended(&mut self, tenant: &Tenant) {
        if let Some(tenant) = tenant {
            if let Some(count) = self.tenants_running.get_mut(tenant) {
                *count -= 1;
                if *count == 0 {
                    self.tenants_running.remove(tenant);
                }
            }
        }
    }

    /// The next queued script that may start (its tenant below `cap`), round the tenants.
    pub(super) fn next_queued(&mut self, cap: Option<usize>) -> Option<ScriptJob> {
        let running = &self.tenants_running;
        let below_cap = |tenant: &Tenant| match (tenant, cap) {
            (Some(tenant), Some(cap)) => running.get(tenant).copied().unwrap_or(0) < cap,
            _ => true,
        };
        self.backlog.pop_next(below_cap)
    }
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

    /// Records that a script of `tenant` on thread `id` finished; hands that thread the next
    /// queued script, if any may start, to run next.
    pub(crate) fn script_finished(&self, id: u64, tenant: &Tenant) -> Option<ScriptJob> {
        let mut state = self.state();
        state.running -= 1;
        state.tenant_ended(tenant);
        let entry = state.threads.iter_mut().find(|entry| entry.id == id);
        if let Some(entry) = entry {
            entry.scripts -= 1;
        }
        let job = state.next_queued(self.size.max_scripts_per_tenant)?;
        state.running += 1;
        state.tenant_started(&job.tenant);
        if let Some(entry) = state.threads.iter_mut().find(|entry| entry.id == id) {
            entry.scripts += 1;
        }
        Some(job)
    }

    /// Ends every queued script that was stopped, each with its stop's error.
    pub(super) fn remove_stopped_from_queue(&self) {
        let stopped = self.state().backlog.take_stopped();
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
