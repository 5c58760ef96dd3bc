//! Host objects: values a script holds that stay on the worker (a transaction, a connection, a
//! cursor), reached from the script only through a token.
//!
//! The value and its optional close hook (`value`), what a function may return, a resource or
//! data (`returned`), the token a script holds and what it carries
//! across threads (`token`), a call's resource parameters locked in one order (`claims`, giving
//! `guards`; each lock taken at once when free, `locking`), and the worker's table of every
//! script's objects, which orders the calls on each and releases them (`table`, its closes run by
//! `closes`). Uses `sync` and the leaves only; the call protocol builds on it.

pub(crate) mod claims;
pub(crate) mod closes;
pub(crate) mod guards;
pub(crate) mod locking;
pub(crate) mod registration;
pub(crate) mod returned;
pub(crate) mod stream;
pub(crate) mod table;
pub(crate) mod token;
pub(crate) mod value;
