//! Engine threads, and which one runs each script.
//!
//! Each engine thread owns one Rhai engine (Rhai values are not `Send`) and runs its scripts as
//! fibers (see [`crate::fiber::coroutine`]): while one waits on a call, another runs. A new script goes to a
//! thread with no script, else to a new thread while there are fewer than `max_threads`, else to
//! the thread with the fewest scripts; once there, it stays. Threads that stay idle for a while
//! exit, down to the minimum (at least one stays warm).

use crate::engine::backlog::Tenant;
use crate::engine::build::EngineSettings;
use crate::engine::placement::{PoolShared, PoolSize, PoolState, ScriptJob, ThreadEntry};
use crate::engine::thread::run_engine_thread;
use crate::error::Error;
use crate::sync::control::ScriptControl;
use crossbeam_channel::{Receiver, Sender};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

/// The engine threads of one bridge.
pub(crate) struct EnginePool {
    shared: Arc<PoolShared>,
}

/// Address space reserved for each engine thread's own stack. Scripts run on their fibers'
/// stacks; this one only builds the engine and schedules.
const ENGINE_THREAD_STACK_SIZE: usize = 8 * 1024 * 1024;

impl EnginePool {
    /// A pool with its minimum of engine threads already started (they build their engines at
    /// once, so the first scripts do not pay for it).
    pub(crate) fn new(settings: EngineSettings, mut size: PoolSize) -> Result<Self, Error> {
        size.max_threads = size.max_threads.max(size.min_threads).max(1);
        let pool = Self {
            shared: Arc::new(PoolShared::new(settings, size)),
        };
        {
            let mut state = pool.shared.state();
            for _ in 0..pool.shared.size.min_threads {
                pool.shared.spawn_thread(&mut state)?;
            }
        }
        Ok(pool)
    }

    /// The settings every engine thread builds its engine from.
    pub(crate) fn settings(&self) -> &EngineSettings {
        &self.shared.settings
    }

    /// Gives a script to an engine thread, or queues it if `max_scripts` run already. If it
    /// cannot be run, its outcome is the reason.
    pub(crate) fn submit(&self, job: ScriptJob) {
        self.shared.submit(job);
    }

    /// Whether the caller runs on one of this pool's engine threads.
    pub(crate) fn is_own_thread(&self) -> bool {
        let current = std::thread::current().id();
        let handles = self
            .shared
            .handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        handles.iter().any(|handle| handle.thread().id() == current)
    }

    /// Refuses new scripts, gives queued ones a shutdown error, lets every thread go once its
    /// scripts end (scripts in its inbox still get an outcome) and, if `join`, joins them.
    pub(crate) fn shutdown(&mut self, join: bool) {
        let (threads, backlog) = {
            let mut state = self.shared.state();
            state.closed = true;
            (std::mem::take(&mut state.threads), state.backlog.take_all())
        };
        for job in backlog {
            job.outcome.send(Err(Error::Shutdown));
        }
        for entry in threads {
            // Closing the inbox tells the thread to exit once its scripts have ended.
            drop(entry.inbox);
            entry.thread.unpark();
        }
        let handles = std::mem::take(
            &mut *self
                .shared
                .handles
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if !join {
            return;
        }
        for handle in handles {
            // Scripts run under `catch_unwind`, so an engine thread does not panic.
            let _ = handle.join();
        }
    }

    /// Makes the next engine thread that resumes a script fail (for tests of the recovery).
    pub(crate) fn fail_one_thread(&self) {
        self.shared.fail_one_thread.store(true, Ordering::Relaxed);
    }

    /// Whether threads waiting on this pool's scripts may spin (`spin_wait`).
    pub(crate) fn may_spin(&self) -> bool {
        self.shared.settings.calls.spin_gate.is_enabled()
    }

    /// How many engine threads are alive now.
    pub(crate) fn live_threads(&self) -> usize {
        self.shared.state().threads.len()
    }
}

/// Placement: which engine thread runs each script. On the shared state, so that an engine thread
/// that fails can hand the scripts in its inbox on and start its own replacement. Here rather
/// than beside `PoolShared` in `placement`, as it starts engine threads, and `thread` uses
/// `placement`: one file would make the two import each other.
impl PoolShared {
    /// Takes the failed engine thread `id` out of the pool (its scripts no longer count) and,
    /// unless the pool is closing, starts another in its place and gives it the queued scripts
    /// there is now room for. The scripts left in its inbox, `unstarted`, are placed again.
    pub(crate) fn replace_failed(
        self: &Arc<Self>,
        id: u64,
        ended: &[Tenant],
        unstarted: Vec<ScriptJob>,
    ) {
        let room_for = {
            let mut state = self.state();
            if let Some(index) = state.threads.iter().position(|entry| entry.id == id) {
                let entry = state.threads.remove(index);
                state.running -= entry.scripts;
            }
            let unstarted_tenants = unstarted.iter().map(|job| &job.tenant);
            for tenant in ended.iter().chain(unstarted_tenants) {
                state.tenant_ended(tenant);
            }
            if !state.closed {
                // Should the new thread not start, the next script submitted starts one.
                let _ = self.spawn_thread(&mut state);
            }
            let room = self
                .size
                .max_scripts
                .saturating_sub(state.running + unstarted.len());
            let cap = self.size.max_scripts_per_tenant;
            (0..room)
                .map_while(|_| state.next_queued(cap))
                .collect::<Vec<_>>()
        };
        for job in unstarted.into_iter().chain(room_for) {
            self.submit(job);
        }
    }

    /// Gives a script to an engine thread, or queues it if `max_scripts` run already. If it
    /// cannot be run, its outcome is the reason.
    pub(crate) fn submit(self: &Arc<Self>, job: ScriptJob) {
        let mut state = self.state();
        if state.closed {
            drop(state);
            return job.outcome.send(Err(Error::Shutdown));
        }
        let cap = self.size.max_scripts_per_tenant;
        if state.running >= self.size.max_scripts || state.tenant_at_cap(&job.tenant, cap) {
            let control = job.control.clone();
            // Under the pool's lock, so that an engine thread taking the script from the queue
            // (which attaches itself as the listener) comes after this.
            self.listen_in_queue(&control);
            state.backlog.push(job);
            drop(state);
            self.watch_queued(&control);
            return;
        }
        let index = match self.pick_thread(&state) {
            Some(index) => index,
            None => match self.spawn_thread(&mut state) {
                Ok(index) => index,
                Err(error) => {
                    drop(state);
                    return job.outcome.send(Err(error));
                }
            },
        };
        state.running += 1;
        state.tenant_started(&job.tenant);
        let entry = &mut state.threads[index];
        entry.scripts += 1;
        // The thread holds its inbox's receiver until it leaves the pool, which needs this lock.
        if let Err(unsent) = entry.inbox.send(job) {
            unsent.into_inner().outcome.send(Err(Error::Shutdown));
            return;
        }
        entry.thread.unpark();
    }

    /// Lets a stop take a queued script out of the queue at once with its outcome, instead of
    /// when a place frees.
    fn listen_in_queue(self: &Arc<Self>, control: &ScriptControl) {
        let pool = Arc::downgrade(self);
        control.wait_in_queue(Arc::new(move || {
            if let Some(pool) = pool.upgrade() {
                pool.remove_stopped_from_queue();
            }
        }));
    }

    /// Takes a script that was stopped before it was queued out again, and starts a timer on
    /// the worker's runtime that stops it at its deadline (which takes it out of the queue).
    fn watch_queued(&self, control: &Arc<ScriptControl>) {
        // Stopped before it was queued: nobody else will take it out.
        if control.stop_reason().is_some() {
            self.remove_stopped_from_queue();
            return;
        }
        if let Some(deadline) = control.deadline() {
            let control = Arc::downgrade(control);
            self.settings.calls.runtime.spawn(async move {
                tokio::time::sleep_until(deadline.into()).await;
                if let Some(control) = control.upgrade() {
                    // Past the deadline, this stops the script, which takes it out of the queue.
                    control.stop_reason();
                }
            });
        }
    }

    /// A thread with no script; else none if another thread may start; else the least busy.
    fn pick_thread(&self, state: &PoolState) -> Option<usize> {
        let least_busy = (0..state.threads.len()).min_by_key(|&index| state.threads[index].scripts);
        match least_busy {
            Some(index) if state.threads[index].scripts == 0 => Some(index),
            _ if state.threads.len() < self.size.max_threads => None,
            least_busy => least_busy,
        }
    }

    /// Starts an engine thread and returns its index in `state.threads`.
    pub(super) fn spawn_thread(self: &Arc<Self>, state: &mut PoolState) -> Result<usize, Error> {
        let (inbox, mail): (Sender<ScriptJob>, Receiver<ScriptJob>) =
            crossbeam_channel::unbounded();
        let id = state.next_id;
        state.next_id += 1;
        let shared = self.clone();
        let handle = std::thread::Builder::new()
            .name("bridge-engine".to_owned())
            .stack_size(ENGINE_THREAD_STACK_SIZE)
            .spawn(move || run_engine_thread(&shared, id, &mail))
            .map_err(|e| Error::Startup(format!("engine thread: {e}")))?;
        state.threads.push(ThreadEntry {
            id,
            inbox,
            thread: handle.thread().clone(),
            scripts: 0,
        });
        let mut handles = self.handles.lock().unwrap_or_else(PoisonError::into_inner);
        handles.retain(|handle| !handle.is_finished());
        handles.push(handle);
        Ok(state.threads.len() - 1)
    }
}

impl Drop for EnginePool {
    fn drop(&mut self) {
        let join = !self.is_own_thread();
        self.shutdown(join);
    }
}
