//! The scripts one engine thread hosts, and which of them to resume next.
//!
//! Each script has a slot. With a few scripts, a pass resumes each of them to look at its reply:
//! as cheap as being told, and a reply then only unparks the thread. With more, a pass resumes
//! only the scripts that can go on: new ones, ones whose time slice ended, ones a reply or a
//! stop woke (their [`ScriptWaker`] listed them), and ones whose deadline (a time limit, the end
//! of a `sleep`) has come. Nothing scans every script on every pass, so 10,000 waiting scripts
//! cost nothing until their replies come.

use crate::call::running_script::RunningScript;
use crate::engine::backlog::Tenant;
use crate::fiber::coroutine::Fiber;
use crate::sync::outcome::{Outcome, OutcomeSender};
use crate::sync::wake::{ReadyList, ScriptWaker};
use crate::trace::Span;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

/// A script running on this thread.
pub(super) struct HostedScript {
    pub(super) fiber: Fiber<Outcome>,
    pub(super) span: Span,
    pub(super) running: Rc<RunningScript>,
    pub(super) outcome: OutcomeSender,
    /// Who it runs for.
    pub(super) tenant: Tenant,
    /// Its tenant's turn, as the passes tell tenants apart; `None` without a tenant.
    turn: Option<u64>,
    /// Its deadline, as it last reported while waiting.
    deadline: Option<Instant>,
    /// The deadline it has an entry for in the deadline heap.
    listed_deadline: Option<Instant>,
}

impl HostedScript {
    pub(super) fn new(
        fiber: Fiber<Outcome>,
        span: Span,
        running: Rc<RunningScript>,
        outcome: OutcomeSender,
        tenant: Tenant,
    ) -> Self {
        let turn = tenant.as_deref().map(|name| {
            let mut hasher = std::hash::DefaultHasher::new();
            name.hash(&mut hasher);
            hasher.finish()
        });
        Self {
            fiber,
            span,
            running,
            outcome,
            tenant,
            turn,
            deadline: None,
            listed_deadline: None,
        }
    }
}

/// Up to this many scripts, a pass resumes every waiting one to look at its reply (as cheap as
/// being told, and replies need not be listed); beyond it, only the woken ones.
const RESUME_ALL_UP_TO: usize = 32;

/// The scripts of one engine thread, by slot.
pub(super) struct Hosted {
    slots: Vec<Option<HostedScript>>,
    free: Vec<usize>,
    count: usize,
    /// Slots to resume on the next pass whatever else happens: new scripts, ended time slices.
    runnable: Vec<usize>,
    /// Slots woken by replies and stops.
    ready: Arc<ReadyList>,
    /// Each waiting script's deadline, earliest first (entries go stale when a script ends or
    /// reports another deadline; they are skipped when they come up).
    deadlines: BinaryHeap<Reverse<(Instant, usize)>>,
    woken: Vec<usize>,
    /// Whether the ready list is told that every script is resumed anyway.
    polling: bool,
    /// Scripts hosted that were given a tenant: while there are any, a pass gives each tenant
    /// one turn.
    tenanted: usize,
    /// The tenants that had their turn in the pass being made.
    turns_taken: HashSet<u64>,
    /// Counts the passes that gave tenants turns.
    rotation: usize,
}

impl Hosted {
    /// No scripts yet; `ready` is the current thread's ready list.
    pub(super) fn new(ready: Arc<ReadyList>) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            count: 0,
            runnable: Vec::new(),
            ready,
            deadlines: BinaryHeap::new(),
            woken: Vec::new(),
            polling: false,
            tenanted: 0,
            turns_taken: HashSet::new(),
            rotation: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.count
    }

    pub(super) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// A free slot for the next script, and the waker that will name it.
    pub(super) fn reserve(&mut self) -> (usize, Arc<ScriptWaker>) {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        (slot, ScriptWaker::new(&self.ready, slot))
    }

    /// Hosts `script` in `slot` (from [`reserve`](Self::reserve)); if `runnable`, it runs on the
    /// next pass (otherwise the caller resumes it).
    pub(super) fn insert(&mut self, slot: usize, script: HostedScript, runnable: bool) {
        debug_assert!(self.slots[slot].is_none());
        self.tenanted += usize::from(script.turn.is_some());
        self.slots[slot] = Some(script);
        self.count += 1;
        if runnable {
            self.runnable.push(slot);
        }
    }

    /// Gives a slot reserved for a script that could not start back.
    pub(super) fn release(&mut self, slot: usize) {
        self.free.push(slot);
    }

    pub(super) fn get_mut(&mut self, slot: usize) -> Option<&mut HostedScript> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    /// Takes the finished script out of `slot`.
    pub(super) fn remove(&mut self, slot: usize) -> Option<HostedScript> {
        let script = self.slots.get_mut(slot).and_then(Option::take)?;
        self.count -= 1;
        self.tenanted -= usize::from(script.turn.is_some());
        self.free.push(slot);
        Some(script)
    }

    /// Takes every script out (the thread failed).
    pub(super) fn take_all(&mut self) -> Vec<HostedScript> {
        let scripts: Vec<HostedScript> = self.slots.iter_mut().filter_map(Option::take).collect();
        self.slots.clear();
        self.free.clear();
        self.runnable.clear();
        self.deadlines.clear();
        self.count = 0;
        self.tenanted = 0;
        scripts
    }

    /// The script in `slot` used up its time slice: it goes on at the next pass.
    pub(super) fn slice_over(&mut self, slot: usize) {
        self.runnable.push(slot);
    }

    /// The script in `slot` waits until woken, or until `deadline` if it has one.
    pub(super) fn waiting(&mut self, slot: usize, deadline: Option<Instant>) {
        let Some(script) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        script.deadline = deadline;
        if let Some(at) = deadline.filter(|&at| script.listed_deadline != Some(at)) {
            script.listed_deadline = Some(at);
            self.deadlines.push(Reverse((at, slot)));
            if self.deadlines.len() > 2 * self.count + 64 {
                self.rebuild_deadlines();
            }
        }
    }

    /// Heaps grow by stale entries of scripts that ended early: rebuilt from the live ones.
    fn rebuild_deadlines(&mut self) {
        self.deadlines.clear();
        for (slot, script) in self.slots.iter_mut().enumerate() {
            if let Some(script) = script {
                script.listed_deadline = script.deadline;
                if let Some(at) = script.deadline {
                    self.deadlines.push(Reverse((at, slot)));
                }
            }
        }
    }

    /// The earliest deadline of a waiting script (perhaps one that no longer holds: waking for
    /// it is harmless).
    pub(super) fn earliest_deadline(&self) -> Option<Instant> {
        self.deadlines.peek().map(|Reverse((at, _))| *at)
    }

    /// Fills `due` with the slots to resume now: the runnable and woken ones, and those whose
    /// deadline has come; every slot if `everyone` (the bridge is shutting down). A slot may
    /// appear twice; resuming a script that cannot go on only suspends it again.
    ///
    /// While some scripts have a tenant, each tenant gets one turn per pass: its other due
    /// scripts wait for the next pass (see [`one_turn_per_tenant`](Self::one_turn_per_tenant)).
    /// Returns whether any were held back so.
    pub(super) fn take_due(&mut self, everyone: bool, due: &mut Vec<usize>) -> bool {
        self.collect_due(everyone, due);
        self.tenanted > 0 && due.len() > 1 && self.one_turn_per_tenant(due)
    }

    /// Keeps in `due` the first slot of each tenant (and every slot without one or told to
    /// stop); the others go on at the next pass. Returns whether any were held back.
    fn one_turn_per_tenant(&mut self, due: &mut Vec<usize>) -> bool {
        // Each pass starts further along, so every script of a tenant comes first in its turn.
        self.rotation = self.rotation.wrapping_add(1);
        let start = self.rotation % due.len();
        due.rotate_left(start);
        self.turns_taken.clear();
        let before = due.len();
        let (slots, taken, runnable) = (&self.slots, &mut self.turns_taken, &mut self.runnable);
        due.retain(|&slot| {
            let Some(script) = slots[slot].as_ref() else {
                return true;
            };
            let Some(turn) = script.turn else {
                return true;
            };
            // A script told to stop (cancelled, out of time, the bridge shutting down) only
            // ends: that is no slice of work, so it never waits for its tenant's turn.
            if taken.insert(turn) || script.running.control.stop_reason().is_some() {
                return true;
            }
            runnable.push(slot);
            false
        });
        due.len() < before
    }

    fn collect_due(&mut self, everyone: bool, due: &mut Vec<usize>) {
        due.clear();
        let few = self.count <= RESUME_ALL_UP_TO;
        let mut switched_to_listing = false;
        if few != self.polling {
            self.polling = few;
            self.ready.set_polling(few);
            // Wakes until now listed nothing: everyone once.
            switched_to_listing = !few;
        }
        if everyone || few || switched_to_listing {
            self.ready.take(&mut self.woken);
            self.runnable.clear();
            due.extend((0..self.slots.len()).filter(|&slot| self.slots[slot].is_some()));
            return;
        }
        due.append(&mut self.runnable);
        self.ready.take(&mut self.woken);
        due.extend_from_slice(&self.woken);
        if self.earliest_deadline().is_none() {
            return;
        }
        let now = Instant::now();
        while let Some(&Reverse((at, slot))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            if let Some(script) = self.slots[slot].as_mut() {
                if script.listed_deadline == Some(at) {
                    script.listed_deadline = None;
                    if script.deadline.is_some_and(|deadline| deadline <= now) {
                        due.push(slot);
                    }
                }
            }
        }
    }
}
