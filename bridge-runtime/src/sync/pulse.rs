//! Whether the thread on the other side of a wait is on a CPU right now, and whether the
//! machine is crowded: what decides if spinning can pay.
//!
//! A spin pays only while the thread that will end it runs. On a machine with more runnable
//! threads than cores, the worker (or a waiting engine thread) is often off its CPU, and a
//! spinner then burns the very core its peer needs. So each side publishes a pulse: the worker
//! bumps a counter as it polls (and says when it runs a call or parks), a spinning waiter bumps
//! one as it looks. A pulse that stops while its owner should be polling means the owner was
//! descheduled; so does a gap between two of one's own looks far longer than a look, and a
//! worker that a sender woke still not polling after a wake-up's time. Each is evidence that
//! the machine is crowded: then nobody spins for a spell (doubling while the evidence keeps
//! coming), and waits park at once, as with `spin_wait(false)`.

use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A pulse that has not moved for this long, while its owner should be polling or spinning,
/// means the owner is off its CPU. The worker bumps its pulse about every microsecond while it
/// polls; a spinner every few hundred nanoseconds.
pub(crate) const STALL: Duration = Duration::from_micros(5);

/// How long a worker that a sender woke may take to be polling again: a wake-up on a quiet
/// virtual machine took 5-20 µs (tokio's driver leaves `epoll_wait`, the thread gets its CPU
/// back), longer than [`STALL`]. A woken worker still not polling after this is waiting for a
/// CPU.
pub(crate) const WAKE_ALLOWANCE: Duration = Duration::from_micros(30);

/// A gap this long between two looks of a spinning thread (normally a microsecond or two
/// apart) means the thread itself was descheduled.
pub(crate) const PREEMPTED_GAP: Duration = Duration::from_micros(20);

/// The first spell without spinning after evidence of crowding, and the longest.
const FIRST_CROWDED_SPELL: Duration = Duration::from_millis(1);
const MAX_CROWDED_SPELL: Duration = Duration::from_millis(64);

/// What the worker is doing, as its pulse says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WorkerState {
    /// Looking for commands: the pulse moves.
    Polling = 0,
    /// Running a call's first poll: the pulse stands still for as long as the call takes.
    InCall = 1,
    /// Parked until a command wakes it.
    Parked = 2,
    /// Parked, and a sender has woken it: it polls again as soon as it has a CPU.
    Waking = 3,
}

const STATE_BITS: u64 = 0b11;

/// The worker's pulse: its state in the low two bits, a count above them. Written by the worker
/// thread only.
pub(crate) struct WorkerPulse(CachePadded<AtomicU64>);

impl WorkerPulse {
    pub(crate) fn new() -> Self {
        Self(CachePadded::new(AtomicU64::new(
            WorkerState::Polling as u64,
        )))
    }

    /// Bumps the pulse, saying the worker is in `state`. Only the worker thread calls this.
    pub(crate) fn beat(&self, state: WorkerState) {
        // One writer: a load and a store, no read-modify-write.
        let pulse = self.0.load(Ordering::Relaxed);
        self.0
            .store(((pulse | STATE_BITS) + 1) | state as u64, Ordering::Relaxed);
    }

    /// Says that a sender has woken the parked worker. Called by senders (the one place other
    /// threads write the pulse): only a parked worker's state changes, so a worker that is
    /// already up is never said to be waking.
    pub(crate) fn woken(&self) {
        let pulse = self.0.load(Ordering::Relaxed);
        if state_of(pulse) == WorkerState::Parked {
            // Failing means the worker beat in between: it is up.
            let _ = self.0.compare_exchange(
                pulse,
                pulse | WorkerState::Waking as u64,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    fn read(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

fn state_of(pulse: u64) -> WorkerState {
    match pulse & STATE_BITS {
        0 => WorkerState::Polling,
        1 => WorkerState::InCall,
        2 => WorkerState::Parked,
        _ => WorkerState::Waking,
    }
}

/// Why a spinning waiter should stop before its reply or its budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StopSpinning {
    /// The worker is parked, and no sender has woken it (its calls are slow): the reply will
    /// take longer than a spin should.
    WorkerParked,
    /// The worker should be polling (or was woken a while ago) but its pulse stopped: it is off
    /// its CPU.
    WorkerDescheduled,
    /// This thread was off its CPU between two looks.
    Preempted,
}

impl StopSpinning {
    /// Whether this says the machine is crowded (a parked worker says nothing about it).
    pub(crate) fn is_crowding(self) -> bool {
        !matches!(self, Self::WorkerParked)
    }
}

/// What a spinning engine thread has seen of the worker's pulse and of its own looks.
pub(crate) struct WorkerWatch {
    pulse: u64,
    pulse_since: Instant,
    last_look: Instant,
}

impl WorkerWatch {
    /// Starts watching at `now`, when the worker's pulse reads `pulse`.
    pub(crate) fn new(now: Instant, pulse: u64) -> Self {
        Self {
            pulse,
            pulse_since: now,
            last_look: now,
        }
    }

    /// Starts watching `worker` now.
    pub(crate) fn start(now: Instant, worker: &WorkerPulse) -> Self {
        Self::new(now, worker.read())
    }

    /// Looks again at `worker`.
    pub(crate) fn look_at(&mut self, now: Instant, worker: &WorkerPulse) -> Option<StopSpinning> {
        self.look(now, worker.read())
    }

    /// A look at `now`, when the worker's pulse reads `pulse`: whether to stop spinning.
    pub(crate) fn look(&mut self, now: Instant, pulse: u64) -> Option<StopSpinning> {
        let gap = now.saturating_duration_since(self.last_look);
        self.last_look = now;
        if gap > PREEMPTED_GAP {
            return Some(StopSpinning::Preempted);
        }
        if pulse != self.pulse {
            self.pulse = pulse;
            self.pulse_since = now;
            return None;
        }
        let still = now.saturating_duration_since(self.pulse_since);
        match state_of(pulse) {
            // A call's poll may take long; the budget bounds that spin.
            WorkerState::InCall => None,
            WorkerState::Polling if still > STALL => Some(StopSpinning::WorkerDescheduled),
            WorkerState::Parked if still > STALL => Some(StopSpinning::WorkerParked),
            WorkerState::Waking if still > WAKE_ALLOWANCE => Some(StopSpinning::WorkerDescheduled),
            _ => None,
        }
    }

    /// Whether the worker was last seen woken but not yet polling: the time it takes to get
    /// up is not the call's.
    pub(crate) fn worker_waking(&self) -> bool {
        state_of(self.pulse) == WorkerState::Waking
    }
}

/// What the worker has seen of the spinning waiters' pulse (see `SpinGate::spinners`): whether
/// one of them is on a CPU, about to send its next call.
pub(crate) struct SpinnerWatch {
    pulse: u64,
    pulse_since: Option<Instant>,
}

impl SpinnerWatch {
    pub(crate) fn new() -> Self {
        Self {
            pulse: 0,
            pulse_since: None,
        }
    }

    /// At `now` the spinners' word reads `pulse`, of which `spinning` threads hold a slot:
    /// whether one of them is spinning and on a CPU. A spinner whose pulse stopped is off its
    /// CPU: the caller should note the crowding.
    pub(crate) fn look(&mut self, now: Instant, pulse: u64, spinning: bool) -> SpinnersSeen {
        if !spinning {
            self.pulse_since = None;
            return SpinnersSeen::None;
        }
        match self.pulse_since {
            Some(since) if pulse == self.pulse => {
                if now.saturating_duration_since(since) > STALL {
                    SpinnersSeen::Stalled
                } else {
                    SpinnersSeen::Running
                }
            }
            _ => {
                self.pulse = pulse;
                self.pulse_since = Some(now);
                SpinnersSeen::Running
            }
        }
    }
}

/// What [`SpinnerWatch::look`] saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SpinnersSeen {
    /// No engine thread spins.
    None,
    /// One spins, and its pulse moves.
    Running,
    /// Some hold a spinning slot, but their pulse stopped: they are off their CPUs.
    Stalled,
}

/// Whether the machine was seen crowded lately: until when nobody spins, and how long the last
/// spell was (it doubles while evidence keeps coming, and ends with the first spin that pays).
pub(crate) struct Crowding {
    epoch: Instant,
    /// Nanoseconds after `epoch`.
    until: AtomicU64,
    /// Nanoseconds; zero while no evidence came since the last spin that paid.
    spell: AtomicU64,
}

impl Crowding {
    pub(crate) fn new() -> Self {
        Self {
            epoch: Instant::now(),
            until: AtomicU64::new(0),
            spell: AtomicU64::new(0),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Whether nobody should spin at `now`.
    pub(crate) fn is_crowded(&self, now: Instant) -> bool {
        self.nanos(now) < self.until.load(Ordering::Relaxed)
    }

    /// Evidence of crowding at `now`: nobody spins for the next spell, twice as long as the
    /// last one unless a spin paid since.
    pub(crate) fn note(&self, now: Instant) {
        let first = FIRST_CROWDED_SPELL.as_nanos() as u64;
        let last = self.spell.load(Ordering::Relaxed);
        let spell = if last == 0 {
            first
        } else {
            (last * 2).min(MAX_CROWDED_SPELL.as_nanos() as u64)
        };
        self.spell.store(spell, Ordering::Relaxed);
        self.until
            .fetch_max(self.nanos(now).saturating_add(spell), Ordering::Relaxed);
    }

    /// A spin paid: the next evidence starts with the first, short spell again.
    pub(crate) fn calm(&self) {
        // Read before written: on a calm machine this runs on every wait.
        if self.spell.load(Ordering::Relaxed) != 0 {
            self.spell.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn a_worker_whose_pulse_moves_keeps_a_spinner_spinning() {
        let start = Instant::now();
        let worker = WorkerPulse::new();
        let mut watch = WorkerWatch::start(start, &worker);
        for step in 1..100 {
            worker.beat(WorkerState::Polling);
            assert_eq!(watch.look_at(start + micros(step), &worker), None);
        }
    }

    #[test]
    fn a_polling_worker_whose_pulse_stops_is_descheduled() {
        let start = Instant::now();
        let worker = WorkerPulse::new();
        worker.beat(WorkerState::Polling);
        let mut watch = WorkerWatch::start(start, &worker);
        let mut at = start;
        let verdict = std::iter::repeat_with(|| {
            at += micros(2);
            watch.look_at(at, &worker)
        })
        .find_map(|verdict| verdict)
        .unwrap();
        assert_eq!(verdict, StopSpinning::WorkerDescheduled);
        assert!(at - start > STALL && at - start <= STALL + micros(2));
        assert!(verdict.is_crowding());
    }

    #[test]
    fn a_worker_in_a_long_call_is_waited_for_and_a_parked_one_is_not() {
        let start = Instant::now();
        let worker = WorkerPulse::new();
        worker.beat(WorkerState::InCall);
        let mut watch = WorkerWatch::start(start, &worker);
        for step in 1..50 {
            assert_eq!(watch.look_at(start + micros(step), &worker), None);
        }
        worker.beat(WorkerState::Parked);
        let mut watch = WorkerWatch::start(start, &worker);
        assert_eq!(watch.look_at(start + micros(3), &worker), None);
        let verdict = watch.look_at(start + micros(6), &worker).unwrap();
        assert_eq!(verdict, StopSpinning::WorkerParked);
        assert!(
            !verdict.is_crowding(),
            "a parked worker says nothing of the machine"
        );
    }

    #[test]
    fn a_woken_worker_is_given_a_wake_ups_time_then_counted_off_its_cpu() {
        let start = Instant::now();
        let worker = WorkerPulse::new();
        worker.beat(WorkerState::Parked);
        worker.woken();
        let mut watch = WorkerWatch::start(start, &worker);
        assert!(watch.worker_waking());
        let mut at = start;
        while at - start <= WAKE_ALLOWANCE {
            assert_eq!(watch.look_at(at, &worker), None, "at {:?}", at - start);
            at += micros(2);
        }
        let verdict = watch.look_at(at, &worker).unwrap();
        assert_eq!(verdict, StopSpinning::WorkerDescheduled);
        assert!(verdict.is_crowding());
    }

    #[test]
    fn only_a_parked_worker_is_said_to_be_waking() {
        let worker = WorkerPulse::new();
        for state in [WorkerState::Polling, WorkerState::InCall] {
            worker.beat(state);
            worker.woken();
            assert_eq!(state_of(worker.read()), state);
        }
        worker.beat(WorkerState::Parked);
        worker.woken();
        assert_eq!(state_of(worker.read()), WorkerState::Waking);
        let mut watch = WorkerWatch::start(Instant::now(), &worker);
        worker.beat(WorkerState::Polling);
        assert_eq!(state_of(worker.read()), WorkerState::Polling);
        assert_eq!(watch.look_at(Instant::now(), &worker), None);
        assert!(!watch.worker_waking(), "up again");
    }

    #[test]
    fn a_long_gap_between_two_looks_means_this_thread_was_preempted() {
        let start = Instant::now();
        let worker = WorkerPulse::new();
        let mut watch = WorkerWatch::start(start, &worker);
        worker.beat(WorkerState::Polling);
        assert_eq!(watch.look_at(start + micros(1), &worker), None);
        worker.beat(WorkerState::Polling);
        assert_eq!(
            watch.look_at(start + micros(1) + PREEMPTED_GAP * 2, &worker),
            Some(StopSpinning::Preempted)
        );
    }

    #[test]
    fn a_spinner_whose_pulse_stops_is_seen_stalled_and_a_new_one_is_not() {
        let start = Instant::now();
        let mut watch = SpinnerWatch::new();
        assert_eq!(watch.look(start, 7, false), SpinnersSeen::None);
        // A spinner that just entered, whose pulse the worker has not seen move yet.
        assert_eq!(watch.look(start, 7, true), SpinnersSeen::Running);
        assert_eq!(
            watch.look(start + micros(4), 7, true),
            SpinnersSeen::Running
        );
        assert_eq!(
            watch.look(start + micros(6), 7, true),
            SpinnersSeen::Stalled
        );
        assert_eq!(
            watch.look(start + micros(7), 8, true),
            SpinnersSeen::Running
        );
        assert_eq!(watch.look(start + micros(8), 8, false), SpinnersSeen::None);
        assert_eq!(
            watch.look(start + micros(30), 8, true),
            SpinnersSeen::Running
        );
    }

    #[test]
    fn crowding_spells_double_while_evidence_comes_and_a_spin_that_pays_resets_them() {
        let start = Instant::now();
        let crowding = Crowding::new();
        let t0 = start + micros(10);
        assert!(!crowding.is_crowded(t0));
        crowding.note(t0);
        assert!(crowding.is_crowded(t0 + FIRST_CROWDED_SPELL - micros(1)));
        assert!(!crowding.is_crowded(t0 + FIRST_CROWDED_SPELL + micros(1)));
        let t1 = t0 + FIRST_CROWDED_SPELL * 2;
        crowding.note(t1);
        assert!(crowding.is_crowded(t1 + FIRST_CROWDED_SPELL * 2 - micros(1)));
        assert!(!crowding.is_crowded(t1 + FIRST_CROWDED_SPELL * 2 + micros(1)));
        let mut at = t1;
        for _ in 0..20 {
            at += MAX_CROWDED_SPELL * 2;
            crowding.note(at);
        }
        assert!(crowding.is_crowded(at + MAX_CROWDED_SPELL - micros(1)));
        assert!(
            !crowding.is_crowded(at + MAX_CROWDED_SPELL + micros(1)),
            "capped"
        );
        let later = at + MAX_CROWDED_SPELL * 2;
        crowding.calm();
        crowding.note(later);
        assert!(!crowding.is_crowded(later + FIRST_CROWDED_SPELL + micros(1)));
    }
}
