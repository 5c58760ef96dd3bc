//! The public API: what users build and hold.
//!
//! [`Bridge`](bridge::Bridge) and its [`BridgeBuilder`](builder::BridgeBuilder), a
//! [`Script`](script::Script) and one run of it ([`ScriptRun`](script_run::ScriptRun), with its
//! inputs), the default bridge behind [`run`](bridge::run), and
//! [`ScriptHandle`](handle::ScriptHandle). Starting a bridge starts the worker and the engine
//! pool and hands them their settings; this folder may use every other part of the crate and
//! nothing uses it but the crate root.

pub(crate) mod bridge;
pub(crate) mod builder;
pub(crate) mod definitions;
pub(crate) mod dispatch;
pub(crate) mod exposure;
pub(crate) mod handle;
pub(crate) mod inputs;
pub(crate) mod limits;
pub(crate) mod recording;
pub(crate) mod script;
pub(crate) mod script_run;
pub(crate) mod setting_bounds;
