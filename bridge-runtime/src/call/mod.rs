//! The call protocol: one script call from its proxy to the worker and back.
//!
//! What a generated proxy sees (`proxy`: converting arguments, then the call's stages:
//! interception `intercept`, delivery by `mode` or an `eager` first poll, the hand-off
//! `transport`, and the reply as the script gets it `script_reply`), the engine thread's
//! environment it runs in (`env`), the running script's calls in flight and raised errors
//! (`running_script`, `call_handle`, `raise`), the script functions a call may call back
//! (`callback`), the commands and how the worker runs them
//! (`command`, each call driven to its end by `run_call`), where a call's future runs (`placement`), the queue between them (`queue`), and calls recorded, replayed or mocked
//! (`call_records`, written by `record_writer`, replay logs read and checked by `replay_log`,
//! mocks run by `mocked`). Uses `sync`, `fiber` and the leaves only; the registry, the engine
//! and the worker build on it.

pub(crate) mod call_env;
pub(crate) mod call_handle;
pub(crate) mod call_records;
pub(crate) mod callback;
pub(crate) mod command;
pub(crate) mod eager;
pub(crate) mod env;
pub(crate) mod intercept;
pub(crate) mod mocked;
pub(crate) mod mode;
pub(crate) mod placement;
pub(crate) mod proxy;
pub(crate) mod queue;
pub(crate) mod raise;
pub(crate) mod record_writer;
pub(crate) mod replay_log;
pub(crate) mod run_call;
pub(crate) mod running_script;
pub(crate) mod script_reply;
pub(crate) mod stream_pull;
pub(crate) mod transport;
