//! Fibers: scripts as coroutines on their own stacks, so that one engine thread runs many and
//! a script waiting on a call gives its thread to the others.
//!
//! A fiber and its switches (`coroutine`), the stacks it runs on, mapped with guard pages and
//! kept for reuse (`stacks`), and the signal handler that turns an overflow of one into that
//! script's error rather than the process's end (`stack_overflow`). Knows nothing of scripts,
//! engines or calls; uses only the leaves.

pub(crate) mod coroutine;
pub(crate) mod stack_overflow;
pub(crate) mod stacks;
