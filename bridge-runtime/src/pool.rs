//! Engine threads: each owns one Rhai engine (Rhai values are not `Send`) and runs scripts from a
//! shared queue.
//!
//! A script blocks its engine thread while it waits on a call, so concurrent scripts need one
//! thread each: the pool starts a thread when a script arrives and none is idle (up to a bound,
//! queueing beyond it), and lets threads that stay idle for a while exit, keeping one warm.

use crate::catch_unwind::panic_message;
use crate::control::ScriptControl;
use crate::engine::{build_engine, run_script, EngineEnv, EngineSettings, RunningScript};
use crate::handle::OutcomeSender;
use crate::state::TypeMap;
use crate::Error;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// One script to run.
pub(crate) struct ScriptJob {
    pub(crate) script: String,
    pub(crate) control: Arc<ScriptControl>,
    pub(crate) context: Arc<TypeMap>,
    pub(crate) outcome: OutcomeSender,
}

/// Engine thread accounting, kept under one lock so a queued script always has a thread coming.
#[derive(Default)]
struct ThreadCounts {
    /// Threads alive.
    live: usize,
    /// Threads waiting for a script that no queued script has been promised to.
    idle: usize,
    /// Queued scripts that no idle thread was promised to (all threads were busy, at the bound).
    backlog: usize,
}

/// How many engine threads a bridge keeps and allows.
pub(crate) struct PoolSize {
    /// Started with the bridge and never retired.
    pub(crate) min_threads: usize,
    /// At most this many scripts run at once; more wait in the queue.
    pub(crate) max_threads: usize,
    /// A thread above the minimum idle this long exits.
    pub(crate) idle_timeout: Duration,
}

struct PoolShared {
    settings: EngineSettings,
    size: PoolSize,
    queue: Receiver<ScriptJob>,
    counts: Mutex<ThreadCounts>,
}

impl PoolShared {
    fn counts(&self) -> MutexGuard<'_, ThreadCounts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The engine threads of one bridge.
pub(crate) struct EnginePool {
    jobs: Option<Sender<ScriptJob>>,
    shared: Arc<PoolShared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Address space reserved for each engine thread's stack (touched only as deep as scripts go):
/// Rhai clones and drops nested data recursively, and a script-built 20,000-deep array needs it.
const ENGINE_STACK_SIZE: usize = 64 * 1024 * 1024;

impl EnginePool {
    /// A pool with its minimum of engine threads already started (they build their engines at
    /// once, so the first scripts do not pay for it).
    pub(crate) fn new(settings: EngineSettings, size: PoolSize) -> Result<Self, Error> {
        let (jobs, queue) = crossbeam_channel::unbounded();
        let min_threads = size.min_threads.min(size.max_threads);
        let pool = Self {
            jobs: Some(jobs),
            shared: Arc::new(PoolShared {
                settings,
                size,
                queue,
                counts: Mutex::new(ThreadCounts::default()),
            }),
            threads: Mutex::new(Vec::new()),
        };
        for _ in 0..min_threads {
            pool.spawn_thread()?;
            let mut counts = pool.shared.counts();
            counts.live += 1;
            counts.idle += 1;
        }
        Ok(pool)
    }

    /// Queues a script, starting an engine thread for it if none is free and the bound allows.
    /// If it cannot be queued, its outcome is the reason.
    pub(crate) fn submit(&self, job: ScriptJob) {
        let Some(jobs) = self.jobs.as_ref() else {
            return job.outcome.send(Err(Error::Shutdown));
        };
        {
            let mut counts = self.shared.counts();
            if counts.idle > 0 {
                counts.idle -= 1;
            } else if counts.live < self.shared.size.max_threads {
                if let Err(error) = self.spawn_thread() {
                    return job.outcome.send(Err(error));
                }
                counts.live += 1;
            } else {
                counts.backlog += 1;
            }
        }
        if let Err(unsent) = jobs.send(job) {
            unsent.into_inner().outcome.send(Err(Error::Shutdown));
        }
    }

    fn spawn_thread(&self) -> Result<(), Error> {
        let shared = self.shared.clone();
        let thread = std::thread::Builder::new()
            .name("bridge-engine".to_owned())
            .stack_size(ENGINE_STACK_SIZE)
            .spawn(move || engine_thread(&shared))
            .map_err(|e| Error::Startup(format!("engine thread: {e}")))?;
        let mut threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        threads.retain(|thread| !thread.is_finished());
        threads.push(thread);
        Ok(())
    }

    /// Closes the queue (scripts already queued still get an outcome) and joins every thread.
    pub(crate) fn shutdown(&mut self) {
        self.jobs = None;
        let threads = std::mem::take(
            self.threads
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for thread in threads {
            // Scripts run under `catch_unwind`, so an engine thread does not panic.
            let _ = thread.join();
        }
    }

    /// How many engine threads are alive now.
    pub(crate) fn live_threads(&self) -> usize {
        self.shared.counts().live
    }
}

impl Drop for EnginePool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn engine_thread(shared: &PoolShared) {
    let settings = &shared.settings;
    let env = Rc::new(EngineEnv::for_current_thread(settings));
    let engine = build_engine(settings, &env);
    loop {
        match shared.queue.recv_timeout(shared.size.idle_timeout) {
            Ok(job) => {
                let ScriptJob {
                    script,
                    control,
                    context,
                    outcome,
                } = job;
                control.attach(std::thread::current());
                let outcome_value = if settings.bridge_stopped.load(Ordering::Relaxed) {
                    Err(Error::Shutdown)
                } else {
                    let running = RunningScript { control, context };
                    catch_unwind(AssertUnwindSafe(|| {
                        run_script(&engine, &env, &script, running)
                    }))
                    .unwrap_or_else(|panic| Err(Error::Internal(panic_message(panic.as_ref()))))
                };
                // Counted as free before the caller hears back, so a caller that submits its
                // next script at once finds this thread instead of starting another.
                {
                    let mut counts = shared.counts();
                    if counts.backlog > 0 {
                        counts.backlog -= 1;
                    } else {
                        counts.idle += 1;
                    }
                }
                outcome.send(outcome_value);
            }
            Err(RecvTimeoutError::Timeout) => {
                let mut counts = shared.counts();
                // Idle here means no queued script was promised to this thread.
                if counts.idle > 0 && counts.live > shared.size.min_threads.max(1) {
                    counts.idle -= 1;
                    counts.live -= 1;
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
