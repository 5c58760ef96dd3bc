//! How an engine thread waits: the one place that decides how long to spin, when to park, and
//! how cancellation and deadlines interrupt a wait.
//!
//! A script that shares its engine thread with other scripts suspends its fiber instead of
//! blocking (see [`crate::fiber`]); the thread then waits here only when all its scripts wait.
//!
//! Parking and being woken costs tens of microseconds on a virtual machine; a quick async call
//! answers in one or two. So a waiter first spins, for a budget learned from its own recent waits
//! (no spinning at all when its calls take longer than spinning could cover), and only while
//! fewer engine threads spin than there are cores to spare beside the worker: on a busy machine,
//! spinning would take the CPU the reply needs.

use crate::control::{ScriptControl, StopReason};
use crate::fiber::{self, Suspend};
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

    /// No thread spins: every wait parks at once (`BridgeBuilder::spin_wait(false)`).
    pub(crate) fn disabled() -> Arc<Self> {
        Arc::new(Self {
            spinning: AtomicUsize::new(0),
            limit: 0,
        })
    }

    /// Whether waiting threads may spin at all.
    pub(crate) fn is_enabled(&self) -> bool {
        self.limit > 0
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

/// The most waits that park without trying to spin after spinning has failed again and again.
const MAX_SPIN_PENALTY: u32 = 64;

/// One engine thread's spinning policy: its recent waits, and the bridge's gate.
pub(crate) struct SpinPolicy {
    /// A moving average of how long this thread's recent waits took.
    recent_wait: Cell<Duration>,
    /// After a spin that ended without the reply (the worker did not get a core in time: the
    /// machine is busy), this many following waits park at once; doubled on each further failure.
    penalty: Cell<u32>,
    skip: Cell<u32>,
    gate: Arc<SpinGate>,
}

impl SpinPolicy {
    pub(crate) fn new(gate: Arc<SpinGate>) -> Self {
        Self {
            recent_wait: Cell::new(Duration::ZERO),
            penalty: Cell::new(0),
            skip: Cell::new(0),
            gate,
        }
    }

    /// Spin long enough to cover a typical recent wait, or not at all if they are long or
    /// spinning has lately been in vain.
    fn budget(&self) -> Duration {
        if self.skip.get() > 0 {
            self.skip.set(self.skip.get() - 1);
            return Duration::ZERO;
        }
        let recent = self.recent_wait.get();
        if recent > MAX_SPIN {
            Duration::ZERO
        } else {
            (recent * 4 + Duration::from_micros(5)).min(MAX_SPIN)
        }
    }

    fn spin_succeeded(&self) {
        self.penalty.set(0);
    }

    fn spin_failed(&self) {
        let penalty = (self.penalty.get() * 2 + 1).min(MAX_SPIN_PENALTY);
        self.penalty.set(penalty);
        self.skip.set(penalty);
    }

    fn record(&self, waited: Duration) {
        let recent = self.recent_wait.get();
        self.recent_wait.set((recent * 3 + waited) / 4);
    }
}

/// Waits until `ready()` is true or the script must stop.
///
/// A script that shares its engine thread with other scripts suspends its fiber instead, and
/// the thread runs the others meanwhile (see [`crate::fiber`]). Alone, it blocks the thread:
/// spinning briefly, then parking. Before anything that may park the thread, `arm()` asks
/// whatever will make `ready()` true to unpark this thread when it does (reply cells do);
/// stopping the script and a new script arriving for this thread unpark it too. Spurious
/// wake-ups are harmless because the loop re-checks.
pub(crate) fn block_until(
    control: &ScriptControl,
    spin: &SpinPolicy,
    mut ready: impl FnMut() -> bool,
    mut arm: impl FnMut(),
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
    let mut suspended = false;
    let outcome = loop {
        if fiber::has_company() {
            if let Some(outcome) = check() {
                break outcome;
            }
            if !suspended {
                // The thread may park while this fiber is suspended; look once more after arming.
                arm();
                if let Some(outcome) = check() {
                    break outcome;
                }
            }
            fiber::suspend(Suspend::Waiting {
                progressed: !suspended,
                deadline: control.deadline(),
            });
            suspended = true;
            continue;
        }
        let mut alone = || match check() {
            Some(outcome) => Some(Some(outcome)),
            // Company arrived: stop blocking the thread it needs.
            None => fiber::has_company().then_some(None),
        };
        if let Some(outcome) =
            spin_then_park(spin, control.deadline(), started, &mut alone, &mut arm)
        {
            break outcome;
        }
    };
    if !suspended {
        // Waits that gave the thread to other scripts say little about how long replies take.
        spin.record(started.elapsed());
    }
    outcome
}

/// An engine thread whose fibers all wait: spins (running `pass`, which resumes each fiber to
/// look at its reply, and reports whether any went on) while that is likely to pay, then parks
/// until something wakes the thread or `deadline` passes. The caller's next pass looks again.
pub(crate) fn idle_until(
    spin: &SpinPolicy,
    deadline: Option<Instant>,
    mut pass: impl FnMut() -> bool,
) {
    let started = Instant::now();
    if spin_phase(spin, started, &mut || pass().then_some(())).is_none() {
        park(deadline);
    }
    spin.record(started.elapsed());
}

/// Spins until `check` gives a value or this wait's spinning budget is spent, then arms and
/// parks until it gives one.
fn spin_then_park<T>(
    spin: &SpinPolicy,
    deadline: Option<Instant>,
    started: Instant,
    check: &mut impl FnMut() -> Option<T>,
    arm: &mut impl FnMut(),
) -> T {
    if let Some(outcome) = spin_phase(spin, started, check) {
        return outcome;
    }
    arm();
    loop {
        if let Some(outcome) = check() {
            return outcome;
        }
        park(deadline);
    }
}

/// Looks with `check` while this wait's spinning budget lasts; `None` if it never gave a value.
fn spin_phase<T>(
    spin: &SpinPolicy,
    started: Instant,
    check: &mut impl FnMut() -> Option<T>,
) -> Option<T> {
    if let Some(outcome) = check() {
        return Some(outcome);
    }
    let budget = spin.budget();
    if budget.is_zero() || !spin.gate.is_enabled() {
        return None;
    }
    // With a spinning slot, spin on the CPU; without one (more waiters than cores to spare),
    // give the core away between checks instead, so the worker and the other scripts run.
    let spinning = spin.gate.enter();
    let mut outcome = None;
    let mut looks = 0_u32;
    // The clock is read every 16 looks only: reading it costs as much as a look.
    while outcome.is_none() && (looks % 16 != 0 || started.elapsed() < budget) {
        if spinning && looks % 64 != 63 {
            // A few pause instructions between looks: one pause is ~40-140 cycles.
            for _ in 0..4 {
                std::hint::spin_loop();
            }
        } else {
            // Without a spinning slot, and now and then even with one, give the core away:
            // if the machine is busy, the worker may be waiting for exactly this core.
            std::thread::yield_now();
        }
        looks = looks.wrapping_add(1);
        outcome = check();
    }
    if spinning {
        spin.gate.leave();
    }
    match outcome {
        Some(_) => spin.spin_succeeded(),
        None => spin.spin_failed(),
    }
    outcome
}

/// Parks this thread until it is unparked or `deadline` passes.
fn park(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => {
            let now = Instant::now();
            if deadline > now {
                std::thread::park_timeout(deadline - now);
            }
        }
        None => std::thread::park(),
    }
}
