//! Synchronisation primitives, each knowing nothing of Rhai engines or commands.
//!
//! The one-slot cell a call and its reply travel in (`reply`), a script's stop switch
//! (`control`), spinning and parking (`wait`) and whether it can pay (`pulse`), waking one waiting script among many (`wake`),
//! the slot a script's outcome arrives in (`outcome`), the marker of the bridge's own threads
//! (`bridge_thread`) and values usable only on their own thread (`thread_bound`). Uses the
//! fibers (`crate::fiber`) and the leaves only.

pub(crate) mod bridge_thread;
pub(crate) mod control;
pub(crate) mod outcome;
pub(crate) mod pulse;
pub(crate) mod reply;
pub(crate) mod thread_bound;
pub(crate) mod wait;
pub(crate) mod wake;
