//! Which threads belong to a bridge (its worker and its engine threads). Waiting there for a
//! script would wait on the very thread the script needs, so blocking calls refuse to.

use std::cell::Cell;

thread_local! {
    static ON_BRIDGE_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as a bridge's own (called once, as the thread starts).
pub(crate) fn mark_current() {
    ON_BRIDGE_THREAD.with(|flag| flag.set(true));
}

/// Whether the current thread is a bridge's worker or engine thread.
pub(crate) fn is_current() -> bool {
    ON_BRIDGE_THREAD.with(Cell::get)
}
