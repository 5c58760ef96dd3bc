//! The worker's loop: takes commands off the queue and runs each call as a local task.

use crate::call::command::{Command, WorkerContext};
use crate::call::queue::CommandReceiver;
use crate::catch_unwind::drop_quietly;
use crate::resource::table::{ResourceSettings, ResourceTables};
use crate::state::TypeMap;
use crate::sync::pulse::{SpinnerWatch, SpinnersSeen, WorkerState};
use crate::sync::wait::SpinGate;
use crate::worker::call_threads::CallPoolRuntime;
use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::LocalSet;

/// The worker thread's body: serves commands until `stopped` fires or every sender is gone.
pub(super) fn serve(
    runtime: tokio::runtime::Runtime,
    pool: CallPoolRuntime,
    received: CommandReceiver,
    stopped: oneshot::Receiver<()>,
    states: Arc<TypeMap>,
    spin_gate: Arc<SpinGate>,
    resources: ResourceSettings,
) {
    /// Closes the queue however `serve` ends: should the worker ever die of a panic, every
    /// later call fails at once, saying so, instead of waiting for a worker that is gone.
    struct CloseOnExit<'a>(&'a CommandReceiver);
    impl Drop for CloseOnExit<'_> {
        fn drop(&mut self) {
            self.0.close(std::thread::panicking());
        }
    }
    let _close_on_exit = CloseOnExit(&received);
    crate::sync::bridge_thread::mark_current();
    let worker = WorkerContext {
        states,
        resources: ResourceTables::new(resources),
        pool: pool.pool,
    };
    let calls = LocalSet::new();
    let serving = calls.run_until(async {
        tokio::task::spawn_local(worker.resources.clone().serve_releases());
        tokio::select! {
            _ = stopped => {}
            () = receive_commands(&received, &worker, &spin_gate) => {}
        }
    });
    worker.resources.serve(&runtime, serving);
    received.close(false);
    // Dropping the local set drops the futures of unfinished calls, and with them their reply
    // senders, inside the runtime's context.
    let entered = runtime.enter();
    drop(calls);
    drop(entered);
    // Then every resource still in the table is closed, on this thread, inside the runtime:
    // each close hook bounded by the close timeout, all at once. That takes those whose last
    // token went just now too (they stay in the table until released): releasing them here
    // first would spawn their closes outside any local set, a panic that left every resource
    // unclosed.
    let closed = worker.resources.shut_down(&runtime);
    if closed > 0 {
        runtime.block_on(settle(runtime.handle(), resources.settle_time()));
    }
    // Blocking work still running (a slow mock, a function's `spawn_blocking`) runs on to its
    // end on its own thread; the bridge does not wait for it past this.
    runtime.shutdown_timeout(BLOCKING_WORK_GRACE);
    // The calls' own runtime last: the calls on it were aborted as the local set dropped.
    if let Some(owned) = pool.owned {
        owned.shutdown_timeout(BLOCKING_WORK_GRACE);
    }
}

/// Lets the runtime's tasks run until none is left, or `limit` passes: what closing resources
/// spawned (a connection on its way back to its pool) finishes before the runtime goes.
async fn settle(runtime: &tokio::runtime::Handle, limit: Duration) {
    let started = Instant::now();
    while runtime.metrics().num_alive_tasks() > 0 && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// How long a dropped bridge waits for blocking work of its calls that is still running.
const BLOCKING_WORK_GRACE: Duration = Duration::from_secs(1);

/// While no call is a task, a polling worker still gives the runtime a turn this often: the
/// bridge's own tasks (releases, close hooks) run then. With a call pending it takes one after
/// every look, since that call's wake-up may be waiting. A turn with nothing to run costs a
/// system call (`epoll_wait`).
const RUNTIME_TURN_INTERVAL: Duration = Duration::from_micros(50);

/// After its last command the worker keeps polling this long, or as long as an engine thread is
/// spinning on a reply and on its CPU (its next call follows within moments), but at most
/// `WORKER_MAX_SPIN`. When every script is parked on long calls, a command is a wake-up away
/// anyway: don't spin. On a crowded machine (see [`crate::sync::pulse`]) it parks as soon as a
/// look finds nothing: the engine thread it would wait for may need this very core, and the
/// scheduler runs a thread that sleeps sooner than one that polls.
const WORKER_GRACE: Duration = Duration::from_micros(10);
const WORKER_MAX_SPIN: Duration = Duration::from_micros(100);

async fn receive_commands(
    received: &CommandReceiver,
    worker: &WorkerContext,
    spin_gate: &SpinGate,
) {
    let mut last_command = Instant::now();
    let mut last_runtime_turn = last_command;
    let mut inline_streak = 0_u32;
    let mut spinners = SpinnerWatch::new();
    let pending = PendingCalls::default();
    loop {
        match take_commands(received, worker, spin_gate, &pending).await {
            Taken::AllFinished if inline_streak < MAX_INLINE_STREAK => {
                // Every call finished inline: nothing new for the runtime to run, so look for the
                // next command at once (a trip through the scheduler costs a system call).
                inline_streak += 1;
                last_command = Instant::now();
                continue;
            }
            Taken::AllFinished | Taken::SomePending => last_command = Instant::now(),
            Taken::Nothing => {
                let now = Instant::now();
                let idle = now.saturating_duration_since(last_command);
                let keep_polling = !spin_gate.is_crowded(now)
                    && (idle < WORKER_GRACE
                        || (idle < WORKER_MAX_SPIN
                            && spin_gate.spinners(&mut spinners, now) == SpinnersSeen::Running));
                if !keep_polling {
                    spin_gate.worker().beat(WorkerState::Parked);
                    received.park().await;
                    spin_gate.worker().beat(WorkerState::Polling);
                    last_command = Instant::now();
                    last_runtime_turn = last_command;
                    continue;
                }
                if pending.none()
                    && now.saturating_duration_since(last_runtime_turn) < RUNTIME_TURN_INTERVAL
                {
                    continue;
                }
            }
        }
        inline_streak = 0;
        // Let spawned calls, timers and I/O run, then look again. The pulse stands still while
        // the runtime runs them: said to be in a call, so a waiter does not read the stillness
        // as the worker being off its CPU and park.
        spin_gate.worker().beat(WorkerState::InCall);
        tokio::task::yield_now().await;
        spin_gate.worker().beat(WorkerState::Polling);
        last_runtime_turn = Instant::now();
    }
}

/// Calls finished inline in a row before the worker yields to the runtime anyway, so timers and
/// I/O of pending calls are never held up for long.
const MAX_INLINE_STREAK: u32 = 256;

/// What one look at the queue found.
enum Taken {
    Nothing,
    /// Commands whose calls all finished on their first poll.
    AllFinished,
    /// Commands of which at least one became a task.
    SomePending,
}

/// Starts every queued call: polled once right here (most quick calls finish on that first poll,
/// without becoming a task), spawned as a local task if not finished. Polls the queue a little
/// before giving up, since the next command is often a few hundred nanoseconds away; returns as
/// soon as it took any, so spawned calls get to run. Bumps the worker's pulse as it polls, so
/// spinning waiters see it is on its CPU.
async fn take_commands(
    received: &CommandReceiver,
    worker: &WorkerContext,
    spin_gate: &SpinGate,
    pending: &PendingCalls,
) -> Taken {
    let pulse = spin_gate.worker();
    for attempt in 0..64 {
        if attempt % 8 == 0 {
            pulse.beat(WorkerState::Polling);
        }
        let mut taken = Taken::Nothing;
        while let Some(command) = received.try_next() {
            pulse.beat(WorkerState::InCall);
            let finished = match command {
                Command::Call(call) => {
                    // Resources a script let go of are gone before its next call opens more.
                    worker.resources.release_dropped();
                    start_call(call.into_future(worker), pending).await
                }
            };
            taken = match (taken, finished) {
                (Taken::SomePending, _) | (_, false) => Taken::SomePending,
                _ => Taken::AllFinished,
            };
        }
        if !matches!(taken, Taken::Nothing) {
            return taken;
        }
        std::hint::spin_loop();
    }
    Taken::Nothing
}

/// How many calls are local tasks that have not ended.
#[derive(Default)]
struct PendingCalls(Rc<Cell<usize>>);

impl PendingCalls {
    fn none(&self) -> bool {
        self.0.get() == 0
    }

    /// Counts `call` until it ends (or is dropped with the local set).
    fn track(&self, call: Pin<Box<dyn Future<Output = ()>>>) -> impl Future<Output = ()> {
        struct Ended(Rc<Cell<usize>>);
        impl Drop for Ended {
            fn drop(&mut self) {
                self.0.set(self.0.get() - 1);
            }
        }
        self.0.set(self.0.get() + 1);
        let ended = Ended(self.0.clone());
        async move {
            let _ended = ended;
            call.await;
        }
    }
}

/// Polls `call` once inline; if it is not finished, hands it to the local set as a task (whose
/// first poll registers the task's own waker, so the inline poll's waker is never relied on),
/// counted in `pending` until it ends. Returns whether it finished inline.
async fn start_call(mut call: Pin<Box<dyn Future<Output = ()>>>, pending: &PendingCalls) -> bool {
    // User code inside runs under `CatchUnwind`; this guards the worker against anything else.
    let first_poll = std::future::poll_fn(|cx| {
        Poll::Ready(catch_unwind(AssertUnwindSafe(|| {
            call.as_mut().poll(cx).is_ready()
        })))
    })
    .await;
    match first_poll {
        Ok(true) => {
            drop_quietly(call);
            true
        }
        Ok(false) => {
            // tokio catches a panic inside a task, and drops the task's future quietly.
            tokio::task::spawn_local(pending.track(call));
            false
        }
        Err(payload) => {
            // Dropping the call drops its reply sender: the waiting script hears no reply comes.
            drop_quietly(payload);
            drop_quietly(call);
            true
        }
    }
}
