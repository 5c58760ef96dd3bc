//! One engine thread: its Rhai engine, and the scripts it runs as fibers.
//!
//! The thread resumes the scripts that can go on: new ones, ones whose time slice ended, and ones
//! a reply, a stop or a deadline woke (see [`crate::engine::hosted`]). A script alone on the
//! thread simply blocks it while it waits (spinning, then parking), as if fibers did not exist;
//! beside others it suspends, and the thread resumes the next. When every script waits, the
//! thread spins and parks here.

use crate::call::env::EngineEnv;
use crate::call::running_script::RunningScript;
use crate::catch_unwind::{describe_panic, drop_quietly};
use crate::engine::build::build_engine;
use crate::engine::hosted::{Hosted, HostedScript};
use crate::engine::placement::{PoolShared, ScriptJob};

use crate::engine::run::{overflow_error, script_globals, ScriptRunner};
use crate::error::Error;
use crate::fiber::coroutine::{self as fiber, Fiber, Step, Suspend};
use crate::fiber::stacks::{StackCache, TRIM_PERIOD};
use crate::sync::wait::{idle_until, spin_briefly};
use crate::sync::wake::ReadyList;
use crate::trace;
use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What an engine thread works with: its engine, its scripts, and the stacks kept for the next.
struct EngineThread<'a> {
    pool: &'a Arc<PoolShared>,
    id: u64,
    env: Rc<EngineEnv>,
    runner: Rc<ScriptRunner>,
    stacks: StackCache,
    scripts: Hosted,
    /// The slots the current pass resumes (kept to reuse its allocation).
    due: Vec<usize>,
    /// Set after a script's stack overflowed: what it left on its abandoned stack may include
    /// a borrow inside the engine, so the thread takes no new scripts and exits once its own end.
    retiring: bool,
}

/// How long an engine thread that ran out of scripts looks for the next before it sleeps.
const SPIN_FOR_NEXT_SCRIPT: Duration = Duration::from_micros(20);

/// The body of engine thread `id`: runs the scripts that arrive in `inbox` until the pool lets
/// the thread go (the inbox closes, or it retires after idling) and its last script has ended.
///
/// Should the thread's own code ever panic (a bug: scripts and user code run under their own
/// `catch_unwind`), its scripts end with an error saying so, the scripts in its inbox go to other
/// threads, and a new thread takes its place.
pub(crate) fn run_engine_thread(pool: &Arc<PoolShared>, id: u64, inbox: &Receiver<ScriptJob>) {
    crate::sync::bridge_thread::mark_current();
    let _alt_stack = crate::fiber::stack_overflow::prepare_thread();
    let env = Rc::new(EngineEnv::for_current_thread(&pool.settings.calls));
    let settings = &pool.settings;
    let built = catch_unwind(AssertUnwindSafe(|| {
        let globals = script_globals(&settings.globals);
        let engine = build_engine(settings, &env, &globals);
        ScriptRunner::new(engine, settings.cached_scripts, globals, &settings.limits)
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
        scripts: Hosted::new(ReadyList::for_current_thread()),
        due: Vec::new(),
        retiring: false,
    };
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| thread.serve(inbox))) {
        thread.fail(inbox, &describe_panic(panic));
    }
}

impl EngineThread<'_> {
    /// Runs the scripts that arrive in `inbox` until the pool lets the thread go and its last
    /// script has ended.
    fn serve(&mut self, inbox: &Receiver<ScriptJob>) {
        loop {
            let inbox_open = loop {
                match inbox.try_recv() {
                    Ok(job) => {
                        // Run it at once: a short script ends on its first resume and gives its
                        // stack, still in the cache, to the next one (starting thousands before
                        // running any touched thousands of cold stacks).
                        self.accept_and_run(job);
                    }
                    Err(TryRecvError::Empty) => break true,
                    Err(TryRecvError::Disconnected) => break false,
                }
            };
            if self.scripts.is_empty() {
                if !inbox_open || self.retiring {
                    return;
                }
                // A caller's next script often follows its last one's outcome within microseconds:
                // look for it a moment before sleeping (being woken costs more than the gap).
                if self.env.spin().may_spin()
                    && spin_briefly(SPIN_FOR_NEXT_SCRIPT, || !inbox.is_empty())
                {
                    continue;
                }
                // Idle: wake up in time to give back the stacks the busy spell left, if any.
                let surplus = self.stacks.has_surplus();
                let idle_for = if surplus {
                    self.pool.size.idle_timeout.min(TRIM_PERIOD)
                } else {
                    self.pool.size.idle_timeout
                };
                match inbox.recv_timeout(idle_for) {
                    Ok(job) => self.accept(job),
                    Err(RecvTimeoutError::Timeout) if surplus => self.stacks.trim(Instant::now()),
                    Err(RecvTimeoutError::Timeout) if self.pool.retire(self.id) => return,
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                continue;
            }
            if self.pass() || !inbox.is_empty() {
                continue;
            }
            // Every script waits on a call: look again after a short spin, or once woken (by a
            // reply, a stop or a new script) or at the earliest deadline.
            let deadline = self.scripts.earliest_deadline();
            self.stacks.trim(Instant::now());
            let spin = self.env.clone();
            idle_until(spin.spin(), deadline, || self.pass() || !inbox.is_empty());
        }
    }

    /// After the thread's own code panicked with `panic`: ends every script it hosts with an
    /// error saying so (their calls in flight are dropped), hands the scripts in its inbox to
    /// the pool again, and has the pool start a thread in its place.
    fn fail(&mut self, inbox: &Receiver<ScriptJob>, panic: &str) {
        let hosted = self.scripts.take_all();
        let unstarted: Vec<ScriptJob> = inbox.try_iter().collect();
        let ended: Vec<_> = hosted.iter().map(|script| script.tenant.clone()).collect();
        // Out of the pool first (its inbox then closes), then what came before that.
        self.pool.replace_failed(self.id, &ended, unstarted);
        let unstarted: Vec<ScriptJob> = inbox.try_iter().collect();
        trace::engine_thread_failed(panic, hosted.len());
        let message = format!(
            "the engine thread running this script failed ({panic}); the script was ended, and \
             a new thread took its place"
        );
        for script in hosted {
            script.running.control.finish();
            let HostedScript { fiber, outcome, .. } = script;
            outcome.send(Err(Error::Internal(message.clone())));
            // The fiber was suspended at a call, not inside the failure: unwinding it is the
            // same as ending a suspended script. Anything it panics with stays here.
            drop_quietly(fiber);
        }
        for job in unstarted {
            self.pool.submit(job);
        }
    }

    /// Starts `job` as a fiber (or ends it at once if it cannot run).
    fn accept(&mut self, job: ScriptJob) {
        let mut next = Some(job);
        while let Some(job) = next.take() {
            next = self.start(job, false);
        }
    }

    /// Starts `job` and resumes it right away, before any other script.
    fn accept_and_run(&mut self, job: ScriptJob) {
        if let Some(next) = self.start(job, true) {
            self.accept(next);
        }
    }

    /// Starts `job`; if it ends at once, returns the queued script this thread takes instead.
    ///
    /// With `run_now` the script is resumed at once; otherwise at the next pass. (Not from inside
    /// a pass: a script that ends at once hands over to the next queued one, which would nest.)
    fn start(&mut self, job: ScriptJob, run_now: bool) -> Option<ScriptJob> {
        let ScriptJob {
            body,
            tenant,
            span,
            control,
            outcome,
        } = job;
        let (slot, waker) = self.scripts.reserve();
        control.attach(waker.clone());
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
                .map_err(|error| Error::Resources(error.to_string()))
        };
        let stack = match stack {
            Ok(stack) => stack,
            Err(error) => {
                self.scripts.release(slot);
                let next = self.pool.script_finished(self.id, &tenant);
                outcome.send(Err(error));
                return next;
            }
        };
        let running = Rc::new(RunningScript::new(control, waker, body.name.clone()));
        let (runner, script_running) = (self.runner.clone(), running.clone());
        let fiber = Fiber::new(stack, move || {
            catch_unwind(AssertUnwindSafe(|| runner.run(&body, &script_running)))
                .unwrap_or_else(|panic| Err(Error::Internal(describe_panic(panic))))
        })
        .on_overflow(|| Err(overflow_error()));
        let script = HostedScript::new(fiber, span, running, outcome, tenant);
        self.scripts.insert(slot, script, !run_now);
        if run_now {
            self.resume(slot);
        }
        None
    }

    /// Resumes every script that can go on (see [`Hosted::take_due`]); returns whether any of
    /// them got anywhere.
    fn pass(&mut self) -> bool {
        // Once the bridge shuts down, every script is resumed so that it sees the stop, a
        // `sleep` included.
        let everyone = self
            .pool
            .settings
            .calls
            .bridge_stopped
            .load(Ordering::Relaxed);
        let mut due = std::mem::take(&mut self.due);
        // Scripts held back for their tenant's next turn can go on at once.
        let mut progressed = self.scripts.take_due(everyone, &mut due);
        for &slot in &due {
            progressed |= self.resume(slot);
        }
        self.due = due;
        progressed
    }

    /// Resumes the script in `slot` until it suspends or ends; returns whether it got anywhere.
    fn resume(&mut self, slot: usize) -> bool {
        if self.pool.fail_one_thread.load(Ordering::Relaxed)
            && self.pool.fail_one_thread.swap(false, Ordering::Relaxed)
        {
            panic!("failed on purpose (a test asked for it)");
        }
        let siblings = self.scripts.len().saturating_sub(1);
        let Some(hosted) = self.scripts.get_mut(slot) else {
            // It ended earlier in this pass.
            return false;
        };
        hosted.running.waker.clear();
        self.env.set_running(Some(hosted.running.clone()));
        let (span, fiber) = (&hosted.span, &mut hosted.fiber);
        let step = trace::in_span(span, || fiber.resume(siblings));
        self.env.set_running(None);
        match step {
            Step::Suspended(Suspend::Waiting {
                progressed,
                deadline,
            }) => {
                self.scripts.waiting(slot, deadline);
                progressed
            }
            Step::Suspended(Suspend::SliceOver) => {
                self.scripts.slice_over(slot);
                true
            }
            Step::Finished(outcome) => {
                let Some(hosted) = self.scripts.remove(slot) else {
                    return true;
                };
                if crate::fiber::stack_overflow::take_trapped() {
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
                let next = self.pool.script_finished(self.id, &hosted.tenant);
                let ended = outcome.as_ref().map_or_else(Error::kind_name, |_| "ok");
                trace::script_ended(&hosted.span, ended);
                hosted.outcome.send(outcome);
                if let Some(job) = next {
                    self.accept(job);
                }
                true
            }
        }
    }
}

/// What an engine thread whose engine could not be built (a `configure_engine` hook panicked)
/// does: leaves the pool and fails every script it was given, saying why.
fn refuse_every_script(pool: &Arc<PoolShared>, id: u64, inbox: &Receiver<ScriptJob>, panic: &str) {
    pool.leave(id);
    let error = Error::Config(format!("building the script engine panicked: {panic}"));
    // Leaving the pool dropped the inbox's sender: this ends once the inbox is empty.
    while let Ok(job) = inbox.recv() {
        let mut next = Some(job);
        while let Some(job) = next.take() {
            job.outcome.send(Err(error.clone()));
            next = pool.script_finished(id, &job.tenant);
        }
    }
}
