//! Synchronisation primitives, each knowing nothing of Rhai engines or commands.
//!
//! The one-slot cell a call and its reply travel in (`reply`), a script's stop switch
//! (`control`), fibers, their stacks and the guard against overflowing them (`fiber`, `stacks`,
//! `stack_overflow`), spinning and parking (`wait`), waking one waiting script among many
//! (`wake`), the slot a script's outcome arrives in (`outcome`), the marker of the bridge's
//! own threads (`bridge_thread`) and values usable only on their own thread (`thread_bound`).
//! Uses only the leaves (`state`, `error`).

pub(crate) mod bridge_thread;
pub(crate) mod control;
pub(crate) mod fiber;
pub(crate) mod outcome;
pub(crate) mod reply;
pub(crate) mod stack_overflow;
pub(crate) mod stacks;
pub(crate) mod thread_bound;
pub(crate) mod wait;
pub(crate) mod wake;
