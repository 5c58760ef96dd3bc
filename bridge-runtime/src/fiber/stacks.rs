//! Fibers' stacks: mapped, kept for the next scripts, and counted against the system's limit on
//! memory mappings.
//!
//! Mapping a stack costs three system calls and its first pages' faults, unmapping it two more:
//! at thousands of short scripts that was a quarter of the bridge's CPU time. So an engine thread
//! keeps every finished script's stack while it is busy, and gives back what it has not needed
//! for a while (the fewest it kept idle over a [`TRIM_PERIOD`], beyond [`ALWAYS_KEPT`]).
//!
//! Each stack is two mappings (its guard page and the rest), and Linux allows a process
//! `vm.max_map_count` of them (65,530 by default). At that ceiling every later `mmap` in the
//! process fails, the allocator's included, and a failed allocation aborts the process. So the
//! bridge counts the stacks it has mapped, process-wide, and refuses a new one with a clear
//! error once they would leave fewer than [`RESERVED_MAPPINGS`] mappings for everything else.

#![allow(unsafe_code)]

use corosensei::stack::{DefaultStack, Stack, StackPointer};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Mappings left to the rest of the process (threads' stacks, the allocator's large blocks,
/// libraries) when stacks are counted against `vm.max_map_count`.
const RESERVED_MAPPINGS: usize = 2048;

/// Mappings per stack: its guard page and its usable part.
const MAPPINGS_PER_STACK: usize = 2;

/// `vm.max_map_count` where it cannot be read (Linux's default).
const DEFAULT_MAX_MAP_COUNT: usize = 65_530;

/// Stacks every engine thread keeps however long it idles.
const ALWAYS_KEPT: usize = 8;

/// How often an engine thread gives back the stacks it kept without needing them.
pub(crate) const TRIM_PERIOD: Duration = Duration::from_secs(1);

/// How much of the top of a kept stack may stay resident: what ordinary scripts touch (a page
/// multiple). A script that went deeper has the pages below released when its stack is kept.
const RESIDENT_STACK: usize = 256 * 1024;

/// Stacks mapped by every bridge of this process.
static MAPPED: AtomicUsize = AtomicUsize::new(0);

/// The most stacks this process may map, and the system limit it was derived from.
fn ceiling() -> (usize, usize) {
    static CEILING: OnceLock<(usize, usize)> = OnceLock::new();
    *CEILING.get_or_init(|| {
        let max_map_count = std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(DEFAULT_MAX_MAP_COUNT);
        let stacks = max_map_count.saturating_sub(RESERVED_MAPPINGS) / MAPPINGS_PER_STACK;
        (stacks, max_map_count)
    })
}

/// A new stack could not be mapped.
#[derive(Debug)]
pub(crate) enum StackError {
    /// As many stacks are mapped as the system's limit on memory mappings allows.
    Ceiling { stacks: usize, max_map_count: usize },
    /// The system refused the mapping.
    Map(std::io::Error),
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ceiling {
                stacks,
                max_map_count,
            } => write!(
                f,
                "this process already has {stacks} script stacks, as many as the system's limit on \
                 memory mappings allows (vm.max_map_count = {max_map_count}, two per stack, \
                 {RESERVED_MAPPINGS} left to the rest of the process); lower \
                 max_concurrent_scripts, or raise vm.max_map_count"
            ),
            Self::Map(error) => write!(f, "the system refused a script stack: {error}"),
        }
    }
}

/// A fiber's stack, counted in [`MAPPED`] while it exists.
pub(crate) struct MappedStack(DefaultStack);

impl MappedStack {
    fn map(size: usize) -> Result<Self, StackError> {
        let (limit, max_map_count) = ceiling();
        if MAPPED.fetch_add(1, Ordering::Relaxed) >= limit {
            MAPPED.fetch_sub(1, Ordering::Relaxed);
            return Err(StackError::Ceiling {
                stacks: limit,
                max_map_count,
            });
        }
        DefaultStack::new(size).map(Self).map_err(|error| {
            MAPPED.fetch_sub(1, Ordering::Relaxed);
            StackError::Map(error)
        })
    }
}

impl Drop for MappedStack {
    fn drop(&mut self) {
        MAPPED.fetch_sub(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards to `DefaultStack`, whose memory this wrapper owns and never touches.
unsafe impl Stack for MappedStack {
    fn base(&self) -> StackPointer {
        self.0.base()
    }

    fn limit(&self) -> StackPointer {
        self.0.limit()
    }

    #[cfg(windows)]
    fn teb_fields(&self) -> corosensei::stack::StackTebFields {
        self.0.teb_fields()
    }

    #[cfg(windows)]
    fn update_teb_fields(&mut self, stack_limit: usize, guaranteed_stack_bytes: usize) {
        self.0
            .update_teb_fields(stack_limit, guaranteed_stack_bytes)
    }
}

/// Finished fibers' stacks kept for the next scripts on one engine thread.
pub(crate) struct StackCache {
    stacks: Vec<MappedStack>,
    /// Address space reserved for each new stack.
    stack_size: usize,
    /// The fewest stacks kept at any moment since the last trim: so many were not needed.
    low_water: usize,
    last_trim: Instant,
}

impl StackCache {
    pub(crate) fn new(stack_size: usize) -> Self {
        Self {
            stacks: Vec::new(),
            stack_size,
            low_water: 0,
            last_trim: Instant::now(),
        }
    }

    /// A stack for a new fiber: a kept one, or a new mapping.
    pub(crate) fn take(&mut self) -> Result<MappedStack, StackError> {
        match self.stacks.pop() {
            Some(stack) => {
                self.low_water = self.low_water.min(self.stacks.len());
                Ok(stack)
            }
            None => {
                self.low_water = 0;
                MappedStack::map(self.stack_size)
            }
        }
    }

    /// Keeps a finished fiber's stack. If its script went deeper than [`RESIDENT_STACK`] (its
    /// deepest point is `deepest`), the pages below that are given back to the system first: a
    /// few deep scripts would otherwise leave their kept stacks holding hundreds of megabytes.
    pub(crate) fn give_back(&mut self, (stack, deepest): (MappedStack, usize)) {
        let base = stack.base().get();
        if base.saturating_sub(deepest) > RESIDENT_STACK {
            // Deeper native frames than the last check saw may have touched pages further down:
            // release everything below the resident part, above the guard page (which `limit`
            // includes).
            let limit = stack.limit().get() + page_size();
            let length = base - RESIDENT_STACK - limit;
            // SAFETY: `[limit, limit + length)` lies inside the stack's own read-write mapping
            // (below its top `RESIDENT_STACK` bytes), and no fiber uses this stack now; the
            // kernel gives fresh zero pages on the next touch. `limit` and `base` are
            // page-aligned, and so is `RESIDENT_STACK`.
            let released =
                unsafe { libc::madvise(limit as *mut libc::c_void, length, libc::MADV_DONTNEED) };
            if released != 0 {
                // Could not release: better to map a fresh stack next time than keep the pages.
                return;
            }
        }
        self.stacks.push(stack);
    }

    /// Whether the cache holds more than it always keeps (so a trim may give some back).
    pub(crate) fn has_surplus(&self) -> bool {
        self.stacks.len() > ALWAYS_KEPT
    }

    /// Once per [`TRIM_PERIOD`]: unmaps the stacks that stayed unused since the last trim, beyond
    /// the [`ALWAYS_KEPT`] few.
    pub(crate) fn trim(&mut self, now: Instant) {
        if now.saturating_duration_since(self.last_trim) < TRIM_PERIOD {
            return;
        }
        let unused = self.low_water.min(self.stacks.len());
        let keep = (self.stacks.len() - unused).max(ALWAYS_KEPT.min(self.stacks.len()));
        self.stacks.truncate(keep);
        self.low_water = self.stacks.len();
        self.last_trim = now;
    }
}

/// The size of a memory page.
pub(crate) fn page_size() -> usize {
    static PAGE_SIZE: OnceLock<usize> = OnceLock::new();
    *PAGE_SIZE.get_or_init(|| {
        // SAFETY: `sysconf` has no preconditions.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(size).unwrap_or(4096)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_unused_for_a_period_are_given_back_down_to_the_few_always_kept() {
        let mut cache = StackCache::new(64 * 1024);
        let start = cache.last_trim;
        let stacks: Vec<_> = (0..20).map(|_| cache.take().unwrap()).collect();
        for stack in stacks {
            cache.give_back((stack, usize::MAX));
        }
        cache.trim(start + TRIM_PERIOD / 2);
        assert_eq!(cache.stacks.len(), 20, "not a period yet");
        cache.trim(start + TRIM_PERIOD);
        assert_eq!(
            cache.stacks.len(),
            20,
            "all 20 were in use during the period"
        );
        // Busy: 10 at a time taken and given back; 10 were never needed during the period.
        let busy: Vec<_> = (0..10).map(|_| cache.take().unwrap()).collect();
        for stack in busy {
            cache.give_back((stack, usize::MAX));
        }
        cache.trim(start + TRIM_PERIOD * 2);
        assert_eq!(cache.stacks.len(), 10, "what the period needed");
        cache.trim(start + TRIM_PERIOD * 3);
        assert_eq!(
            cache.stacks.len(),
            ALWAYS_KEPT,
            "idle: only the few always kept"
        );
        assert!(!cache.has_surplus());
    }

    #[test]
    fn mapped_stacks_are_counted_until_dropped() {
        // Other tests map stacks concurrently: only this test's own difference is certain.
        let stack = MappedStack::map(64 * 1024).unwrap();
        assert!(MAPPED.load(Ordering::Relaxed) >= 1);
        let (limit, max_map_count) = ceiling();
        assert!(max_map_count >= RESERVED_MAPPINGS && limit > 0);
        drop(stack);
    }
}
