//! How an engine thread waits: the one place that decides how long to spin, when to park, and
//! how cancellation and deadlines interrupt a wait.
//!
//! A later coroutine mode (many scripts on one engine thread, each suspended instead of blocking)
//! replaces this module and nothing else.
//!
//! Parking and being woken costs tens of microseconds on a virtual machine; a quick async call
//! answers in one or two. So a waiter first spins, for a budget learned from its own recent waits
//! (no spinning at all when its calls take longer than spinning could cover), and only while
//! fewer engine threads spin than there are cores to spare beside the worker: on a busy machine,
//! spinning would take the CPU the reply needs.

use crate::control::{ScriptControl, StopReason};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a waiter spins before parking.
const MAX_SPIN: Duration = Duration::from_micros(50);

/// How many engine threads of one bridge may spin at once, and how many do.
pub(crate) struct SpinGate {
    spinning: AtomicUsize,
    limit: usize,
}

impl SpinGate {
    /// Leaves one core for the worker: on two cores, one engine thread spins at a time.
    pub(crate) fn for_this_machine() -> Arc<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Arc::new(Self {
            spinning: AtomicUsize::new(0),
            limit: cores.saturating_sub(1).max(1),
        })
    }

    fn enter(&self) -> bool {
        let mut current = self.spinning.load(Ordering::Relaxed);
        while current < self.limit {
            match self.spinning.compare_exchange_weak(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
        false
    }

    fn leave(&self) {
        self.spinning.fetch_sub(1, Ordering::AcqRel);
    }

    /// Whether any engine thread is spinning now (it will send its next call within moments).
    pub(crate) fn anyone_spinning(&self) -> bool {
        self.spinning.load(Ordering::Relaxed) > 0
    }
}

/// One engine thread's spinning policy: its recent waits, and the bridge's gate.
pub(crate) struct SpinPolicy {
    /// A moving average of how long this thread's recent waits took.
    recent_wait: Cell<Duration>,
    gate: Arc<SpinGate>,
}

impl SpinPolicy {
    pub(crate) fn new(gate: Arc<SpinGate>) -> Self {
        Self {
            recent_wait: Cell::new(Duration::ZERO),
            gate,
        }
    }

    /// Spin long enough to cover a typical recent wait, or not at all if they are long.
    fn budget(&self) -> Duration {
        let recent = self.recent_wait.get();
        if recent > MAX_SPIN {
            Duration::ZERO
        } else {
            (recent * 4 + Duration::from_micros(5)).min(MAX_SPIN)
        }
    }

    fn record(&self, waited: Duration) {
        let recent = self.recent_wait.get();
        self.recent_wait.set((recent * 3 + waited) / 4);
    }
}

/// Blocks the current thread until `ready()` is true or the script must stop.
///
/// Whatever makes `ready()` true must unpark this thread afterwards (reply slots do), and so does
/// stopping the script; spurious wake-ups are harmless because the loop re-checks.
pub(crate) fn block_until(
    control: &ScriptControl,
    spin: &SpinPolicy,
    mut ready: impl FnMut() -> bool,
) -> Result<(), StopReason> {
    let started = Instant::now();
    let mut check = || {
        // Readiness is read before the stop flag: a stop abandons the script's replies after
        // setting the flag, so a reply seen abandoned here always comes with the flag seen set.
        let is_ready = ready();
        match control.stop_reason() {
            Some(reason) => Some(Err(reason)),
            None => is_ready.then_some(Ok(())),
        }
    };
    let outcome = spin_then_park(control, spin, started, &mut check);
    spin.record(started.elapsed());
    outcome
}

fn spin_then_park(
    control: &ScriptControl,
    spin: &SpinPolicy,
    started: Instant,
    check: &mut impl FnMut() -> Option<Result<(), StopReason>>,
) -> Result<(), StopReason> {
    if let Some(outcome) = check() {
        return outcome;
    }
    let budget = spin.budget();
    if !budget.is_zero() {
        // With a spinning slot, spin on the CPU; without one (more waiters than cores to spare),
        // give the core away between checks instead, so the worker and the other scripts run.
        let spinning = spin.gate.enter();
        let mut outcome = None;
        while outcome.is_none() && started.elapsed() < budget {
            if spinning {
                // A few pause instructions between looks: one pause is ~40-140 cycles.
                for _ in 0..4 {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
            outcome = check();
        }
        if spinning {
            spin.gate.leave();
        }
        if let Some(outcome) = outcome {
            return outcome;
        }
    }
    loop {
        if let Some(outcome) = check() {
            return outcome;
        }
        match control.deadline() {
            Some(deadline) => {
                let now = Instant::now();
                if deadline > now {
                    std::thread::park_timeout(deadline - now);
                }
            }
            None => std::thread::park(),
        }
    }
}
