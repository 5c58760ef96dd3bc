//! The worker side: one thread whose tokio runtime performs the real async calls.
//!
//! Calls run as local tasks on one current-thread runtime, so the async functions' futures need not
//! be `Send` and can hold non-`Send` clients; the worker's tokio context is current inside them,
//! so `tokio::time`, `tokio::net`, `tokio::fs` and `tokio::spawn` work. A bridge given more
//! threads (`call_threads`) runs the calls whose futures are `Send` on a multi-thread runtime
//! instead; the worker still takes every command and keeps the resources. Uses the command queue
//! and commands (`call`), `sync` and the leaves; knows nothing of engines or scripts.

pub(crate) mod call_threads;
pub(crate) mod serve;
pub(crate) mod thread;
