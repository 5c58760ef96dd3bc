//! The call protocol: one script call from its proxy to the worker and back.
//!
//! What a generated proxy sees (`proxy`: converting arguments, then the call's stages:
//! interception `intercept`, delivery by `mode` or an `eager` first poll, the hand-off
//! `transport`, and the reply as the script gets it `script_reply`), the engine thread's
//! environment it runs in (`env`), the running script's calls in
//! flight and raised errors (`script`, `handle`, `raise`), the commands and how the worker runs
//! them (`command`), the queue between them (`queue`), calls recorded, replayed or mocked (`recorded`, written by `record_writer`, replay logs read and checked by `replay_log`, mocks run by `mocked`), the link-time registry of functions
//! (`registry`) and their signatures (`signature`), and the type checks generated code relies on (`type_checks`). Uses `sync` and the leaves only; the engine and the worker build on it.

pub(crate) mod command;
pub(crate) mod eager;
pub(crate) mod env;
pub(crate) mod handle;
pub(crate) mod intercept;
pub(crate) mod mocked;
pub(crate) mod mode;
pub(crate) mod proxy;
pub(crate) mod queue;
pub(crate) mod raise;
pub(crate) mod record_writer;
pub(crate) mod recorded;
pub(crate) mod registry;
pub(crate) mod replay_log;
pub(crate) mod script;
pub(crate) mod script_reply;
pub(crate) mod signature;
pub(crate) mod transport;
pub(crate) mod type_checks;
