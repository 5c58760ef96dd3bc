//! One engine thread: its Rhai engine, and the scripts it runs as fibers.
//!
//! The thread resumes its scripts in turn. A script alone on the thread simply blocks it while
//! it waits (spinning, then parking), as if fibers did not exist; beside others it suspends, and
//! the thread resumes the next. When every script waits, the thread spins and parks here.

use crate::call::env::EngineEnv;
use crate::call::script::RunningScript;
use crate::catch_unwind::describe_panic;
use crate::engine::build::build_engine;
use crate::engine::placement::{PoolShared, ScriptJob};
use crate::engine::run::{overflow_error, ScriptRunner};
use crate::error::Error;
use crate::sync::fiber::{self, Fiber, StackCache, Step, Suspend};
use crate::sync::outcome::{Outcome, OutcomeSender};
use crate::sync::wait::idle_until;
use crate::trace::{self, Span};
use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// A script running on this thread.
struct HostedScript {
    fiber: Fiber<Outcome>,
    span: Span,
    running: Rc<RunningScript>,
    outcome: OutcomeSender,
    /// Its deadline, as it last reported while waiting.
    deadline: Option<Instant>,
}

/// What an engine thread works with: its engine, its scripts, and the stacks kept for the next.
struct EngineThread<'a> {
    pool: &'a PoolShared,
    id: u64,
    env: Rc<EngineEnv>,
    runner: Rc<ScriptRunner>,
    stacks: StackCache,
    scripts: Vec<HostedScript>,
    /// Set after a script's stack overflowed: what it left on its abandoned stack may include
    /// a borrow inside the engine, so the thread takes no new scripts and exits once its own end.
    retiring: bool,
}

/// The body of engine thread `id`: runs the scripts that arrive in `inbox` until the pool lets
/// the thread go (the inbox closes, or it retires after idling) and its last script has ended.
pub(crate) fn run_engine_thread(pool: &PoolShared, id: u64, inbox: &Receiver<ScriptJob>) {
    crate::sync::bridge_thread::mark_current();
    let _alt_stack = crate::sync::stack_overflow::prepare_thread();
    let env = Rc::new(EngineEnv::for_current_thread(&pool.settings.calls));
    let settings = &pool.settings;
    let built = catch_unwind(AssertUnwindSafe(|| {
        let engine = build_engine(settings, &env);
        let (cache, globals) = (settings.cached_scripts, &settings.globals);
        ScriptRunner::new(engine, cache, globals, &settings.limits)
    }));
    let runner = match built {
        Ok(runner) => Rc::new(runner),
        Err(panic) => return refuse_every_script(pool, id, inbox, &describe_panic(panic)),
    };
    let mail = inbox.clone();
    fiber::set_mail_check(move || !mail.is_empty());
    let mut thread = EngineThread {
        pool,
        id,
        env,
        runner,
        stacks: StackCache::new(pool.settings.stack_size),
        scripts: Vec::new(),
        retiring: false,
    };
    loop {
        let inbox_open = loop {
            match inbox.try_recv() {
                Ok(job) => thread.accept(job),
                Err(TryRecvError::Empty) => break true,
                Err(TryRecvError::Disconnected) => break false,
            }
        };
        if thread.scripts.is_empty() {
            if !inbox_open || thread.retiring {
                return;
            }
            match inbox.recv_timeout(pool.size.idle_timeout) {
                Ok(job) => thread.accept(job),
                Err(RecvTimeoutError::Timeout) if pool.retire(id) => return,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            continue;
        }
        if thread.pass() || !inbox.is_empty() {
            continue;
        }
        // Every script waits on a call: look again after a short spin, or once woken (by a
        // reply, a stop or a new script) or at the earliest deadline.
        let deadline = thread.scripts.iter().filter_map(|s| s.deadline).min();
        let spin = thread.env.clone();
        idle_until(spin.spin(), deadline, || thread.pass() || !inbox.is_empty());
    }
}

impl EngineThread<'_> {
    /// Starts `job` as a fiber (or ends it at once if it cannot run).
    fn accept(&mut self, job: ScriptJob) {
        let mut next = Some(job);
        while let Some(job) = next.take() {
            next = self.start(job);
        }
    }

    /// Starts `job`; if it ends at once, returns the queued script this thread takes instead.
    fn start(&mut self, job: ScriptJob) -> Option<ScriptJob> {
        let ScriptJob {
            body,
            span,
            control,
            outcome,
        } = job;
        control.attach(std::thread::current());
        let stack = if self
            .pool
            .settings
            .calls
            .bridge_stopped
            .load(Ordering::Relaxed)
        {
            Err(Error::Shutdown)
        } else {
            self.stacks
                .take()
                .map_err(|e| Error::Startup(format!("script stack: {e}")))
        };
        let stack = match stack {
            Ok(stack) => stack,
            Err(error) => {
                let next = self.pool.script_finished(self.id);
                outcome.send(Err(error));
                return next;
            }
        };
        let running = Rc::new(RunningScript::new(control, body.name.clone()));
        let (runner, script_running) = (self.runner.clone(), running.clone());
        let fiber = Fiber::new(stack, move || {
            catch_unwind(AssertUnwindSafe(|| runner.run(&body, &script_running)))
                .unwrap_or_else(|panic| Err(Error::Internal(describe_panic(panic))))
        })
        .on_overflow(|| Err(overflow_error()));
        self.scripts.push(HostedScript {
            fiber,
            span,
            running,
            outcome,
            deadline: None,
        });
        None
    }

    /// Resumes every script once; returns whether any of them got anywhere.
    fn pass(&mut self) -> bool {
        let mut progressed = false;
        let mut index = 0;
        while index < self.scripts.len() {
            let siblings = self.scripts.len() - 1;
            let hosted = &mut self.scripts[index];
            self.env.set_running(Some(hosted.running.clone()));
            let (span, fiber) = (&hosted.span, &mut hosted.fiber);
            let step = trace::in_span(span, || fiber.resume(siblings));
            self.env.set_running(None);
            match step {
                Step::Suspended(Suspend::Waiting {
                    progressed: went_on,
                    deadline,
                }) => {
                    progressed |= went_on;
                    hosted.deadline = deadline;
                    index += 1;
                }
                Step::Suspended(Suspend::SliceOver) => {
                    progressed = true;
                    index += 1;
                }
                Step::Finished(outcome) => {
                    progressed = true;
                    let hosted = self.scripts.swap_remove(index);
                    if crate::sync::stack_overflow::take_trapped() {
                        // Its frames were abandoned, `run_script`'s own clean-up among them.
                        hosted.running.control.finish();
                        if !self.retiring {
                            self.retiring = true;
                            self.pool.leave(self.id);
                        }
                    } else {
                        self.stacks.give_back(hosted.fiber.into_stack());
                    }
                    // Counted as finished before the caller hears back, so a caller that submits
                    // its next script at once finds this thread free instead of starting another.
                    let next = self.pool.script_finished(self.id);
                    let ended = outcome.as_ref().map_or_else(Error::kind_name, |_| "ok");
                    trace::script_ended(&hosted.span, ended);
                    hosted.outcome.send(outcome);
                    if let Some(job) = next {
                        self.accept(job);
                    }
                }
            }
        }
        progressed
    }
}

/// What an engine thread whose engine could not be built (a `configure_engine` hook panicked)
/// does: leaves the pool and fails every script it was given, saying why.
fn refuse_every_script(pool: &PoolShared, id: u64, inbox: &Receiver<ScriptJob>, panic: &str) {
    pool.leave(id);
    let error = Error::Config(format!("building the script engine panicked: {panic}"));
    // Leaving the pool dropped the inbox's sender: this ends once the inbox is empty.
    while let Ok(job) = inbox.recv() {
        let mut next = Some(job);
        while let Some(job) = next.take() {
            job.outcome.send(Err(error.clone()));
            next = pool.script_finished(id);
        }
    }
}
