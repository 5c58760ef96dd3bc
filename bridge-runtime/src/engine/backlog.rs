//! Scripts waiting for a place to run, taken round the tenants: one tenant's 200 queued scripts
//! get one place between each other tenant's, instead of all going first. Scripts given no
//! tenant share one queue, first in, first out.

use crate::sync::control::StopReason;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Who a script runs for, as [`ScriptRun::tenant`](crate::ScriptRun::tenant) named it (`None`:
/// no tenant was given).
pub(crate) type Tenant = Option<Arc<str>>;

/// What the backlog needs of a queued script.
pub(crate) trait Queued {
    fn tenant(&self) -> &Tenant;
    /// Why it was stopped while it waited, if it was.
    fn stop_reason(&self) -> Option<StopReason>;
}

/// The queued scripts, by tenant, and the order the tenants take turns in.
pub(crate) struct Backlog<J> {
    queues: HashMap<Tenant, VecDeque<J>>,
    /// Each tenant with queued scripts, once, the next to be served first.
    turns: VecDeque<Tenant>,
    len: usize,
}

impl<J> Default for Backlog<J> {
    fn default() -> Self {
        Self {
            queues: HashMap::new(),
            turns: VecDeque::new(),
            len: 0,
        }
    }
}

impl<J: Queued> Backlog<J> {
    /// Queues `job` behind its tenant's other scripts.
    pub(crate) fn push(&mut self, job: J) {
        let queue = self.queues.entry(job.tenant().clone()).or_default();
        if queue.is_empty() {
            self.turns.push_back(job.tenant().clone());
        }
        queue.push_back(job);
        self.len += 1;
    }

    /// The next script of the first tenant in turn that `may_start` allows; that tenant's turn
    /// then goes to the back.
    pub(crate) fn pop_next(&mut self, may_start: impl Fn(&Tenant) -> bool) -> Option<J> {
        let index = self.turns.iter().position(may_start)?;
        let tenant = self.turns.remove(index)?;
        let queue = self.queues.get_mut(&tenant)?;
        let job = queue.pop_front()?;
        if queue.is_empty() {
            self.queues.remove(&tenant);
        } else {
            self.turns.push_back(tenant);
        }
        self.len -= 1;
        Some(job)
    }

    /// Takes out every script that was stopped, each with why.
    pub(crate) fn take_stopped(&mut self) -> Vec<(J, StopReason)> {
        let mut stopped = Vec::new();
        for queue in self.queues.values_mut() {
            let mut index = 0;
            while index < queue.len() {
                match queue[index].stop_reason() {
                    Some(reason) => stopped.extend(queue.remove(index).map(|job| (job, reason))),
                    None => index += 1,
                }
            }
        }
        self.len -= stopped.len();
        self.queues.retain(|_, queue| !queue.is_empty());
        let queues = &self.queues;
        self.turns.retain(|tenant| queues.contains_key(tenant));
        stopped
    }

    /// Takes out every script, in turn order.
    pub(crate) fn take_all(&mut self) -> Vec<J> {
        let mut all = Vec::with_capacity(self.len);
        while let Some(job) = self.pop_next(|_| true) {
            all.push(job);
        }
        all
    }
}
