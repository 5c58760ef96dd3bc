//! The functions `#[script_async]` registered: each one's name, signature, proxy and
//! requirements, collected at link time (`function`). Used by the bridge's API and its engine
//! threads; builds on the call protocol (a function's proxy is a `call::proxy` function).

pub(crate) mod function;
