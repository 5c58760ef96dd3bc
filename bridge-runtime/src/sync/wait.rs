//! How an engine thread waits: the one place that decides how long to spin, when to park, and
//! how cancellation and deadlines interrupt a wait.
//!
//! A script that shares its engine thread with other scripts suspends its fiber instead of
//! blocking (see [`crate::fiber::coroutine`]); the thread then waits here only when all its scripts wait.
//!
//! Parking and being woken costs tens of microseconds on a virtual machine; a quick async call
//! answers in one or two. So a waiter first spins, for a budget learned from its own recent spins
//! (after a spin in vain, because calls are slow or the machine is busy, the next waits park at
//! once, more of them after each further failure), and only while fewer engine threads spin
//! than there are cores to spare beside the worker: on a busy machine, spinning would take the
//! CPU the reply needs.

use crate::fiber::coroutine::{self as fiber, Suspend};
use crate::sync::control::{ScriptControl, StopReason};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// The budget of a thread that has not spun yet, and the least it spins.
const MIN_SPIN: Duration = Duration::from_micros(5);

/// One engine thread's spinning policy: what its recent spins saw, and the bridge's gate.
pub(crate) struct SpinPolicy {
    /// How long the next wait may spin: about four times as long as recent spins took to see
    /// their reply. Learned from spins only: a wait that parked says how long the wake-up took,
    /// not when the reply came, and feeding it in would let slow wake-ups (tens of microseconds
    /// on a loaded virtual machine) switch spinning off for good.
    budget: Cell<Duration>,
    /// After a spin in vain (it ended without the reply because the call is slow, or the worker
    /// did not get a core in time: the machine is busy), this many following waits park at once;
    /// doubled on each further failure.
    penalty: Cell<u32>,
    skip: Cell<u32>,
    /// Whether the current wait parks because of the penalty.
    penalty_wait: Cell<bool>,
    /// How long waits that parked because of the penalty took (a moving average); zero while
    /// spinning has not failed lately, so calm machines never compare.
    park_cost: Cell<Duration>,
    gate: Arc<SpinGate>,
}

impl SpinPolicy {
    pub(crate) fn new(gate: Arc<SpinGate>) -> Self {
        Self {
            budget: Cell::new(MIN_SPIN),
            penalty: Cell::new(0),
            skip: Cell::new(0),
            penalty_wait: Cell::new(false),
            park_cost: Cell::new(Duration::ZERO),
            gate,
        }
    }

    /// How long this wait may spin: nothing while spinning is being penalised.
    fn budget(&self) -> Duration {
        if self.skip.get() > 0 {
            self.skip.set(self.skip.get() - 1);
            self.penalty_wait.set(true);
            return Duration::ZERO;
        }
        self.budget.get()
    }

    /// A spin saw its reply `spun` after the wait began. On a busy machine a spin can get its
    /// reply and still cost more than parking would have (the spinner held a core the worker
    /// needed): such a spin is penalised like one in vain, without lengthening the budget.
    fn spin_succeeded(&self, spun: Duration) {
        let park_cost = self.park_cost.get();
        if !park_cost.is_zero() && spun > park_cost {
            return self.penalize();
        }
        self.penalty.set(0);
        self.park_cost.set(Duration::ZERO);
        let target = (spun * 4 + MIN_SPIN).min(MAX_SPIN);
        self.budget.set((self.budget.get() * 3 + target) / 4);
    }

    /// A spin used its whole budget in vain: park the next waits, and allow the next spin
    /// longer (up to `MAX_SPIN`), in case the calls just take longer than the budget was.
    fn spin_failed(&self) {
        self.penalize();
        self.budget.set((self.budget.get() * 2).min(MAX_SPIN));
    }

    fn penalize(&self) {
        let penalty = (self.penalty.get() * 2 + 1).min(MAX_SPIN_PENALTY);
        self.penalty.set(penalty);
        self.skip.set(penalty);
    }

    /// Whether this thread may spin at all (`spin_wait` is on).
    pub(crate) fn may_spin(&self) -> bool {
        self.gate.is_enabled()
    }

    /// A wait that did not spin ended after `waited`.
    fn parked_for(&self, waited: Duration) {
        if self.penalty_wait.replace(false) {
            let cost = self.park_cost.get();
            self.park_cost.set(if cost.is_zero() {
                waited
            } else {
                (cost * 3 + waited) / 4
            });
        }
    }
}

/// Waits until `ready()` is true or the script must stop.
///
/// A script that shares its engine thread with other scripts suspends its fiber instead, and
/// the thread runs the others meanwhile (see [`crate::fiber::coroutine`]). Alone, it blocks the thread:
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
    loop {
        if fiber::has_company() {
            if let Some(outcome) = check() {
                return outcome;
            }
            if !suspended {
                // The thread may park while this fiber is suspended; look once more after arming.
                arm();
                if let Some(outcome) = check() {
                    return outcome;
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
            return outcome;
        }
    }
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
        // Until woken: what a park costs this thread, for the spin policy to compare with.
        spin.parked_for(started.elapsed());
    }
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
            spin.parked_for(started.elapsed());
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
    while outcome.is_none() && (!looks.is_multiple_of(16) || started.elapsed() < budget) {
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
        Some(_) => spin.spin_succeeded(started.elapsed()),
        None => spin.spin_failed(),
    }
    outcome
}

/// Spins until `ready()` or for `limit` at most; returns whether it became ready. For the short
/// gaps between one script and the next, where parking and being woken would cost more than
/// the gap (a caller's next script, a script's outcome).
pub(crate) fn spin_briefly(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    let mut looks = 0_u32;
    while !ready() {
        if looks.is_multiple_of(16) && started.elapsed() >= limit {
            return false;
        }
        if looks % 64 == 63 {
            // Now and then give the core away: on a busy machine, whoever makes us ready may
            // be waiting for exactly this core.
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
        looks = looks.wrapping_add(1);
    }
    true
}

/// Waits until `until` (for ever if `None`) unless the script must stop first: a script's own
/// `sleep`. Beside other scripts it suspends its fiber, alone it parks the thread; it never
/// spins, since a sleep is long on purpose. A stop (cancel, deadline, bridge shutdown) wakes the
/// engine thread, so it ends the sleep at once.
pub(crate) fn sleep_until(
    control: &ScriptControl,
    bridge_stopped: &AtomicBool,
    until: Option<Instant>,
) -> Result<(), StopReason> {
    let mut suspended = false;
    loop {
        if bridge_stopped.load(Ordering::Relaxed) {
            return Err(StopReason::Shutdown);
        }
        if let Some(reason) = control.stop_reason() {
            return Err(reason);
        }
        if until.is_some_and(|until| Instant::now() >= until) {
            return Ok(());
        }
        let wake_at = earliest(until, control.deadline());
        if fiber::has_company() {
            fiber::suspend(Suspend::Waiting {
                progressed: !suspended,
                deadline: wake_at,
            });
            suspended = true;
        } else {
            park(wake_at);
        }
    }
}

/// The earlier of two optional instants.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SpinPolicy {
        SpinPolicy::new(SpinGate::for_this_machine())
    }

    #[test]
    fn a_failed_spin_parks_the_next_waits_and_allows_a_longer_spin() {
        let spin = policy();
        assert_eq!(spin.budget(), MIN_SPIN);
        spin.spin_failed();
        assert_eq!(
            spin.budget(),
            Duration::ZERO,
            "one wait parks after one failure"
        );
        assert_eq!(spin.budget(), MIN_SPIN * 2);
        spin.spin_failed();
        let parked = (0..3).filter(|_| spin.budget().is_zero()).count();
        assert_eq!(
            parked, 3,
            "three waits park after a second failure in a row"
        );
        assert_eq!(spin.budget(), MIN_SPIN * 4);
    }

    #[test]
    fn calls_of_20us_learn_to_spin_long_enough_and_slow_waits_never_switch_spinning_off() {
        let spin = policy();
        // Cold: the 5 µs budget fails until it has doubled past the call's 20 µs.
        while spin.budget.get() < Duration::from_micros(20) {
            spin.spin_failed();
        }
        for _ in 0..20 {
            // The waits in between park, until one may spin again.
            while spin.budget().is_zero() {}
            spin.spin_succeeded(Duration::from_micros(20));
        }
        let learned = spin.budget();
        assert!(learned > MAX_SPIN * 9 / 10, "{learned:?}");
        // However long the parked waits of a loaded machine take, only spins teach the budget:
        // after failures and their parked waits, the next spin gets the whole budget again.
        for _ in 0..10 {
            spin.spin_failed();
        }
        let parked = std::iter::repeat_with(|| spin.budget())
            .take_while(Duration::is_zero)
            .count();
        assert_eq!(parked as u32, MAX_SPIN_PENALTY);
        spin.spin_succeeded(Duration::from_micros(20));
        assert_eq!(spin.budget(), MAX_SPIN);
    }

    #[test]
    fn on_a_busy_machine_a_spin_slower_than_parking_counts_as_failed() {
        let spin = policy();
        spin.spin_failed();
        // The penalised wait parks and takes 4 µs.
        assert!(spin.budget().is_zero());
        spin.parked_for(Duration::from_micros(4));
        // The next spin gets its reply, but after 30 µs: parking was cheaper.
        assert!(!spin.budget().is_zero());
        spin.spin_succeeded(Duration::from_micros(30));
        let parked = std::iter::repeat_with(|| spin.budget())
            .take_while(Duration::is_zero)
            .count();
        assert_eq!(parked, 3, "penalised like a second failure");
        // A quick spin clears the penalty and the comparison.
        spin.spin_succeeded(Duration::from_micros(1));
        assert!(!spin.budget().is_zero());
        spin.spin_succeeded(Duration::from_micros(30));
        assert!(
            !spin.budget().is_zero(),
            "calm again: a 30 µs reply is just a slow call"
        );
    }

    #[test]
    fn quick_replies_keep_the_budget_short() {
        let spin = policy();
        for _ in 0..50 {
            spin.spin_succeeded(Duration::from_nanos(500));
        }
        let budget = spin.budget();
        assert!(budget >= MIN_SPIN && budget < MIN_SPIN * 2, "{budget:?}");
    }
}
