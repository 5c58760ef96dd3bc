//! The integration suite: real scripts against real async functions, one module per subject.
//!
//! One binary, so the suite links the bridge, tokio and the rest once instead of once per file.
//! Scenarios that could take the process down, or that measure the process's own memory or
//! output, still get a process of their own: they re-run this binary as a child filtered to
//! their own test (`tests/support/child.rs`), so their names are written with the module path
//! (`hostile::every_hostile_script_...`).
//!
//! Three test files stay their own binaries, because what they check is the whole process's:
//!
//! - `tests/threads.rs` counts the process's threads, which any other test's bridge would change;
//! - `tests/tracing.rs` installs the process-wide `tracing` subscriber, which would also record
//!   (and be disturbed by) every other test's spans;
//! - `tests/duplicate_names.rs` registers two functions under one script name on purpose, which
//!   makes every bridge in its process fail to start.
//!
//! The trybuild cases live in a package of their own, `compile-tests/`.
//!
//! Every script name is registered once across the whole binary (a bridge refuses to start
//! otherwise), so two modules never define functions under one script name;
//! [`registration`] checks that every function defined here is registered exactly once.

mod bytes;
mod call_threads;
mod callbacks;
mod calling;
mod command_module;
mod compiled_scripts;
mod concurrency;
mod deep_scripts;
mod eager;
mod errors;
mod faults;
mod host_api;
mod hostile;
mod hostile_resources;
mod in_flight;
mod inputs;
mod limits;
mod many_scripts;
mod record_replay;
mod registration;
mod resource_params;
mod resources;
mod resources_sqlx;
mod runner;
mod script_output;
mod script_sleep;
mod settings;
mod shared_engine_thread;
mod signatures;
mod standard_library;
mod state_and_access;
mod stopping;
mod streams;
mod survival;
mod tenants;
mod types;
mod web_service_example;
