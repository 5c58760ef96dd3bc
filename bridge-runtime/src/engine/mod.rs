//! The engine side: the threads that run scripts.
//!
//! The pool places each script on an engine thread; each thread owns one Rhai engine (Rhai
//! values are not `Send`), built once with a proxy per function and the bridge's own script
//! functions (`start`/`wait`, the replaced standard-library functions, output hooks, limits),
//! and runs its scripts as fibers. Uses the call protocol (`call`), the synchronisation
//! primitives (`sync`) and the leaves; never the API above it or the worker beside it, which it
//! reaches only through the command queue.

pub(crate) mod ast_cache;
pub(crate) mod backlog;
pub(crate) mod build;
pub(crate) mod hosted;
pub(crate) mod limits;
pub(crate) mod output;
pub(crate) mod placement;
pub(crate) mod pool;
pub(crate) mod run;
pub(crate) mod start_wait;
pub(crate) mod stdlib;
pub(crate) mod thread;
