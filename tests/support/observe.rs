//! Observing the process from a test: thread counts and drops.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The number of threads this process has now (Linux: `/proc/self/status`).
pub fn thread_count() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|count| count.trim().parse().ok())
        .expect("a Threads: line in /proc/self/status")
}

/// A memory figure of this process from `/proc/self/status` (Linux), in bytes: `"VmRSS"` is the
/// resident memory now, `"VmHWM"` its peak so far.
pub fn memory_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let kib: usize = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("a {field}: line in /proc/self/status"));
    kib * 1024
}

/// Counts how many of its clones' owners were dropped: put one in a future to see it dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    /// A guard that bumps the counter when dropped.
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }

    /// How many guards were dropped so far.
    pub fn dropped(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Waits (up to 5 s) until `count` guards were dropped; drops happen on the bridge's worker
    /// thread, a moment after the script that owned them has moved on. Blocks the calling thread.
    pub fn wait_for_drops(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.dropped() < count && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            self.dropped(),
            count,
            "the future holding the guard was not dropped"
        );
    }
}

/// Bumps its [`DropCounter`] when dropped.
pub struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Asserts that each of `names` is registered exactly once, under that script name.
pub fn assert_registered_once(names: &[&str]) {
    let functions = bridge_runtime::registry::registered_functions();
    for name in names {
        let count = functions.iter().filter(|f| f.name() == *name).count();
        assert_eq!(count, 1, "`{name}` should be registered exactly once");
    }
}
