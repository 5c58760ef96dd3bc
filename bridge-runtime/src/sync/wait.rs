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
//! CPU the reply needs. A spin also stops as soon as the worker is seen off its CPU or parked
//! (one that a sender has just woken gets a wake-up's time first, which the budget does not
//! count), and after any sign that the machine is crowded nobody spins for a while (see
//! [`crate::sync::pulse`]).

use crate::fiber::coroutine::{self as fiber, Suspend};
use crate::sync::control::{ScriptControl, StopReason};
use crate::sync::pulse::{
    Crowding, SpinnerWatch, SpinnersSeen, WorkerPulse, WorkerWatch, WAKE_ALLOWANCE,
};
use crossbeam_utils::CachePadded;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a waiter spins before parking.
const MAX_SPIN: Duration = Duration::from_micros(50);

/// How many engine threads of one bridge may spin at once, and how many do; and what each side
/// of a wait publishes about itself (see [`crate::sync::pulse`]).
pub(crate) struct SpinGate {
    /// The number of spinning threads in the low bits, their pulse above.
    spinners: CachePadded<AtomicU64>,
    limit: u64,
    worker: WorkerPulse,
    crowding: Crowding,
}

/// The low bits of `SpinGate::spinners`: how many threads spin.
const SPINNER_COUNT: u64 = 0xffff;
const SPINNER_BEAT: u64 = SPINNER_COUNT + 1;

impl SpinGate {
    /// Leaves one core for the worker: on two cores, one engine thread spins at a time.
    pub(crate) fn for_this_machine() -> Arc<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::with_limit(cores.saturating_sub(1).max(1) as u64)
    }

    /// No thread spins: every wait parks at once (`BridgeBuilder::spin_wait(false)`).
    pub(crate) fn disabled() -> Arc<Self> {
        Self::with_limit(0)
    }

    fn with_limit(limit: u64) -> Arc<Self> {
        Arc::new(Self {
            spinners: CachePadded::new(AtomicU64::new(0)),
            limit: limit.min(SPINNER_COUNT),
            worker: WorkerPulse::new(),
            crowding: Crowding::new(),
        })
    }

    /// Whether waiting threads may spin at all.
    pub(crate) fn is_enabled(&self) -> bool {
        self.limit > 0
    }

    fn enter(&self) -> bool {
        let mut current = self.spinners.load(Ordering::Relaxed);
        while current & SPINNER_COUNT < self.limit {
            // A beat too: a spinner that gets its reply before its first beat still shows the
            // worker a pulse that moved.
            match self.spinners.compare_exchange_weak(
                current,
                current + 1 + SPINNER_BEAT,
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
        self.spinners.fetch_sub(1, Ordering::AcqRel);
    }

    /// A spinning thread is still looking (on its CPU).
    fn spinner_beat(&self) {
        self.spinners.fetch_add(SPINNER_BEAT, Ordering::Relaxed);
    }

    /// What `watch` makes of the spinning engine threads now: whether one spins on its CPU (it
    /// will send its next call within moments). One that holds a slot but stopped looking is
    /// off its CPU: that is noted as crowding.
    pub(crate) fn spinners(&self, watch: &mut SpinnerWatch, now: Instant) -> SpinnersSeen {
        let word = self.spinners.load(Ordering::Relaxed);
        let seen = watch.look(now, word >> 16, word & SPINNER_COUNT > 0);
        if seen == SpinnersSeen::Stalled {
            self.crowding.note(now);
        }
        seen
    }

    /// The worker's pulse, which the worker thread bumps.
    pub(crate) fn worker(&self) -> &WorkerPulse {
        &self.worker
    }

    /// Whether the machine was seen crowded lately: then nobody spins.
    pub(crate) fn is_crowded(&self, now: Instant) -> bool {
        self.crowding.is_crowded(now)
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
    let gate = &spin.gate;
    if !gate.is_enabled() {
        return None;
    }
    // A crowded machine: the worker is likely off its CPU, or needs this one.
    if gate.is_crowded(started) {
        return None;
    }
    let budget = spin.budget();
    if budget.is_zero() {
        return None;
    }
    // With a spinning slot, spin on the CPU; without one (more waiters than cores to spare),
    // give the core away between checks instead, so the worker and the other scripts run.
    let spinning = gate.enter();
    // From now, not from `started`: a wait that parked and spins again must not read the time
    // in between as its own preemption.
    let spin_started = Instant::now();
    let mut watch = WorkerWatch::start(spin_started, gate.worker());
    let mut waking = WakeTime::new(spin_started);
    let mut outcome = None;
    let mut stopped = None;
    let mut looks = 0_u32;
    while outcome.is_none() {
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
        // The clock is read every 8 looks only: reading it costs about as much as a look.
        if outcome.is_none() && looks.is_multiple_of(8) {
            let now = Instant::now();
            stopped = watch.look_at(now, gate.worker());
            if stopped.is_some() {
                break;
            }
            let waited_for_wake = waking.look(now, watch.worker_waking());
            if now.saturating_duration_since(started) >= budget + waited_for_wake {
                break;
            }
            if spinning {
                gate.spinner_beat();
            }
        }
    }
    if spinning {
        gate.leave();
    }
    match (&outcome, stopped) {
        (Some(_), _) => {
            spin.spin_succeeded(started.elapsed().saturating_sub(waking.total()));
            gate.crowding.calm();
        }
        // Not the call's fault: crowding parks every waiter for a spell instead.
        (None, Some(stop)) if stop.is_crowding() => gate.crowding.note(Instant::now()),
        // The worker was parked and nobody had woken it: the call is slow, spinning won't pay.
        (None, Some(_)) => {}
        (None, None) => spin.spin_failed(),
    }
    outcome
}

/// How long a spin has seen the worker getting up after a sender woke it. That time is not the
/// call's: the spin's budget is lengthened by it, but by [`WAKE_ALLOWANCE`] at most in all. Other
/// scripts' calls may wake the worker again and again while this one's call is slow, and a spin
/// must never outlast its budget by more than one wake-up's time.
struct WakeTime {
    total: Duration,
    last_look: Instant,
}

impl WakeTime {
    fn new(now: Instant) -> Self {
        Self {
            total: Duration::ZERO,
            last_look: now,
        }
    }

    /// A look at `now`, which saw the worker `waking` or not: the time to add to the budget.
    fn look(&mut self, now: Instant, waking: bool) -> Duration {
        if waking {
            let since = now.saturating_duration_since(self.last_look);
            self.total = (self.total + since).min(WAKE_ALLOWANCE);
        }
        self.last_look = now;
        self.total
    }

    fn total(&self) -> Duration {
        self.total
    }
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
    use crate::sync::pulse::WorkerState;

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
    fn a_spin_outlasts_its_budget_while_the_worker_it_woke_gets_up() {
        // The worker takes 15 µs to be up after a sender woke it, then replies at once; the
        // budget is 5 µs. Waiting for the wake-up is not the call's time, so the spin pays.
        // Each attempt can fail if the test thread itself is preempted for 20 µs (a busy
        // machine); without the allowance every attempt fails.
        let paid = (0..5).any(|_| {
            let spin = policy();
            assert_eq!(spin.budget.get(), MIN_SPIN);
            let worker = spin.gate.worker();
            worker.beat(WorkerState::Parked);
            worker.woken();
            let started = Instant::now();
            let outcome = spin_phase(&spin, started, &mut || {
                if started.elapsed() < Duration::from_micros(15) {
                    return None;
                }
                spin.gate.worker().beat(WorkerState::Polling);
                Some(())
            });
            outcome.is_some()
        });
        assert!(paid, "every spin gave up on a worker still getting up");
    }

    #[test]
    fn a_worker_woken_again_and_again_lengthens_a_spin_by_one_wake_up_at_most() {
        // Other scripts' calls keep waking the worker while this wait's call is slow: every
        // look for 10 ms sees it waking. The budget grows by one allowance, no more.
        let start = Instant::now();
        let mut waking = WakeTime::new(start);
        let mut added = Duration::ZERO;
        for step in 1..=5_000 {
            added = waking.look(start + Duration::from_micros(2 * step), true);
        }
        assert_eq!(added, WAKE_ALLOWANCE);
        // Looks that see it up add nothing; the time it was seen getting up counts once.
        let mut waking = WakeTime::new(start);
        assert_eq!(
            waking.look(start + Duration::from_micros(4), true),
            Duration::from_micros(4)
        );
        assert_eq!(
            waking.look(start + Duration::from_micros(50), false),
            Duration::from_micros(4)
        );
        assert_eq!(
            waking.look(start + Duration::from_micros(53), true),
            Duration::from_micros(7)
        );
        assert_eq!(waking.total(), Duration::from_micros(7));
    }

    #[test]
    fn on_a_crowded_machine_a_wait_parks_at_once_and_penalises_nothing() {
        let spin = policy();
        spin.gate.crowding.note(Instant::now());
        let mut looks = 0;
        let outcome: Option<()> = spin_phase(&spin, Instant::now(), &mut || {
            looks += 1;
            None
        });
        assert!(outcome.is_none());
        assert_eq!(looks, 1, "one look, no spin");
        assert_eq!(spin.budget(), MIN_SPIN, "no failed spin was counted");
    }

    #[test]
    fn a_spinner_entering_moves_the_pulse_the_worker_watches() {
        let gate = SpinGate::for_this_machine();
        let mut watch = SpinnerWatch::new();
        let start = Instant::now();
        assert!(gate.enter());
        assert_eq!(gate.spinners(&mut watch, start), SpinnersSeen::Running);
        gate.leave();
        assert_eq!(gate.spinners(&mut watch, start), SpinnersSeen::None);
        // Spins too quick to beat, one after another between two looks of the worker: each
        // entry moves the pulse, so they are not mistaken for one spinner that stopped.
        for step in 1..10 {
            assert!(gate.enter());
            gate.leave();
            assert!(gate.enter());
            let at = start + crate::sync::pulse::STALL * 2 * step;
            assert_eq!(gate.spinners(&mut watch, at), SpinnersSeen::Running);
            gate.leave();
        }
        assert!(gate.enter());
        let late = start + crate::sync::pulse::STALL * 30;
        assert_eq!(gate.spinners(&mut watch, late), SpinnersSeen::Running);
        assert_eq!(
            gate.spinners(&mut watch, late + crate::sync::pulse::STALL * 2),
            SpinnersSeen::Stalled
        );
        assert!(gate.is_crowded(late + crate::sync::pulse::STALL * 2));
        gate.leave();
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
