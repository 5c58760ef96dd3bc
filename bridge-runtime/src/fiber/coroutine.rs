//! Scripts as stackful coroutines ("fibers"), so that one engine thread can run many scripts.
//!
//! A script runs on its own stack. When it waits for a call beside other scripts on the same
//! thread, it suspends instead of blocking the thread, and the thread runs another script in the
//! meantime: while one script waits on the worker, the next one executes. On two cores that is
//! the only way a second script adds throughput, because a third busy thread (a second engine
//! beside the first and the worker) can only take turns through the OS scheduler, which costs
//! more than a call.
//!
//! Rhai values are not `Send`, so a fiber never leaves the thread that started it.

#![allow(unsafe_code)]

use crate::fiber::stack_overflow::{self, ArmedFiber};
use crate::fiber::stacks::{page_size, MappedStack};
use corosensei::stack::Stack;
use corosensei::trap::CoroutineTrapHandler;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use std::cell::{Cell, RefCell};
use std::ptr;
use std::time::{Duration, Instant};

/// Address space reserved for each fiber's stack unless the builder says otherwise (touched only
/// as deep as the script goes, and given back when a deep script's stack is cached): about 8,000
/// script call levels of a release build. Rhai clones and drops nested data recursively without
/// an operation in between, where the stack check cannot stop it (a release build overflows
/// 64 MiB cloning an array nested 200,000-400,000 levels deep); `crate::fiber::stack_overflow` catches
/// that. 256 MiB made the hand-off measurably slower (bridge_ready 3.1-3.4x direct against
/// 2.4-2.7x in the same runs), so the default stays 64 MiB.
pub(crate) const DEFAULT_STACK_SIZE: usize = 64 * 1024 * 1024;

/// A script that runs longer than this without waiting hands its thread to the other scripts
/// there (checked every few dozen Rhai operations), so a busy loop cannot starve them.
const TIME_SLICE: Duration = Duration::from_millis(1);

/// Why a fiber handed its thread back.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Suspend {
    /// It waits for a call (or calls) to finish.
    Waiting {
        /// Whether it ran script code since it was last resumed, rather than only finding its
        /// reply still missing.
        progressed: bool,
        /// When its script must stop, if it has a deadline: the thread must not sleep past it.
        deadline: Option<Instant>,
    },
    /// It used up its time slice and can go on at once.
    SliceOver,
}

/// One step of a fiber.
pub(crate) enum Step<R> {
    Suspended(Suspend),
    Finished(R),
}

type ScriptYielder = Yielder<(), Suspend>;

/// What the engine thread tells the fiber it runs, and the fiber reads without a handle to it.
struct Host {
    /// The running fiber's yielder; null while no fiber runs on this thread.
    yielder: Cell<*const ScriptYielder>,
    /// Whether a script is waiting in this thread's inbox to start.
    has_mail: RefCell<Option<Box<dyn Fn() -> bool>>>,
    /// Other fibers on this thread beside the running one.
    siblings: Cell<usize>,
    /// When the running fiber's time slice began; `None` until it first looks.
    resumed_at: Cell<Option<Instant>>,
    /// The lowest address of the running fiber's stack mapping (its guard page); 0 while no
    /// fiber runs.
    stack_limit: Cell<usize>,
    /// The deepest point of the running fiber's stack seen so far (by [`stack_left`]).
    deepest: Cell<usize>,
}

thread_local! {
    static HOST: Host = const {
        Host {
            yielder: Cell::new(ptr::null()),
            has_mail: RefCell::new(None),
            siblings: Cell::new(0),
            resumed_at: Cell::new(None),
            stack_limit: Cell::new(0),
            deepest: Cell::new(usize::MAX),
        }
    };
}

/// Tells fibers on this thread how to learn whether a new script is waiting to start here.
pub(crate) fn set_mail_check(has_mail: impl Fn() -> bool + 'static) {
    HOST.with(|host| *host.has_mail.borrow_mut() = Some(Box::new(has_mail)));
}

/// Whether the caller runs in a fiber that shares its thread with other work (other fibers, or a
/// script waiting to start). Such a fiber should suspend rather than block the thread.
pub(crate) fn has_company() -> bool {
    HOST.with(|host| {
        !host.yielder.get().is_null()
            && (host.siblings.get() > 0
                || host.has_mail.borrow().as_ref().is_some_and(|check| check()))
    })
}

/// Whether the running fiber has had the thread for a whole time slice while others wait for it.
///
/// The slice starts at the first look after a resume, not at the resume itself, so that neither
/// a fiber alone nor one that suspends before its first look reads the clock.
pub(crate) fn slice_over() -> bool {
    if !has_company() {
        return false;
    }
    HOST.with(|host| match host.resumed_at.get() {
        Some(started) => started.elapsed() >= TIME_SLICE,
        None => {
            host.resumed_at.set(Some(Instant::now()));
            false
        }
    })
}

/// How much of the running fiber's stack is left below the caller; `None` outside a fiber.
///
/// Rhai recurses on the native stack (script calls, nested data), and a fiber's stack ends in a
/// guard page: reaching it kills the process. Checked between operations, this lets a script
/// that nests too deeply end with an error while there is still room to unwind.
pub(crate) fn stack_left() -> Option<usize> {
    let marker = 0_u8;
    let here = std::hint::black_box(&marker) as *const u8 as usize;
    HOST.with(|host| {
        let limit = host.stack_limit.get();
        if limit == 0 {
            return None;
        }
        host.deepest.set(host.deepest.get().min(here));
        Some(here.saturating_sub(limit))
    })
}

/// Suspends the running fiber until its thread resumes it. Returns at once outside a fiber.
pub(crate) fn suspend(why: Suspend) {
    let yielder = HOST.with(|host| host.yielder.get());
    if yielder.is_null() {
        return;
    }
    // SAFETY: the pointer was set from the `&Yielder` the running coroutine received; it lives
    // on that coroutine's stack for the coroutine's whole life, and this code runs on that stack
    // (fibers never leave their thread, and the pointer is cleared whenever no fiber runs).
    let yielder = unsafe { &*yielder };
    yielder.suspend(why);
    // Other fibers ran meanwhile and set their own yielder; this one is running again.
    HOST.with(|host| host.yielder.set(yielder));
}

/// One script's coroutine.
pub(crate) struct Fiber<R> {
    coroutine: Coroutine<(), Suspend, R, MappedStack>,
    stack_limit: usize,
    /// The deepest point of its stack seen while it ran.
    deepest: usize,
    /// What it returns if its stack overflows; boxed so that its address, which the signal
    /// handler is given, stays put.
    overflow: Option<Box<OverflowTarget<R>>>,
}

/// How a fiber whose stack overflowed returns (see [`crate::fiber::stack_overflow`]).
struct OverflowTarget<R> {
    handler: CoroutineTrapHandler<R>,
    result: fn() -> R,
}

/// Makes the overflowed fiber `target` return `result()` once the signal handler returns.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
unsafe fn redirect<R: 'static>(target: *const (), context: *mut std::ffi::c_void) {
    // SAFETY: as the caller promises, `target` points to the running fiber's
    // `OverflowTarget<R>`, and `context` is the interrupted context of a fault on its guard page.
    let target = unsafe { &*target.cast::<OverflowTarget<R>>() };
    let result = target.result;
    // SAFETY: the fault is on this coroutine's own guard page, so its stack pointer is within
    // it; the registers are updated as corosensei asks. The abandoned frames are never resumed.
    unsafe {
        let regs = target.handler.setup_trap_handler(move || {
            stack_overflow::note_trapped();
            result()
        });
        stack_overflow::set_registers(context, regs);
    }
}

/// Where recovery is not supported, an overflow ends the process, as a thread's would.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
unsafe fn redirect<R: 'static>(_target: *const (), _context: *mut std::ffi::c_void) {}

impl<R: 'static> Fiber<R> {
    /// A fiber that will run `body` on `stack` when first resumed.
    pub(crate) fn new(stack: MappedStack, body: impl FnOnce() -> R + 'static) -> Self {
        let stack_limit = stack.limit().get();
        let coroutine = Coroutine::with_stack(stack, move |yielder: &ScriptYielder, ()| {
            HOST.with(|host| host.yielder.set(yielder));
            body()
        });
        Self {
            coroutine,
            stack_limit,
            deepest: usize::MAX,
            overflow: None,
        }
    }

    /// Makes the fiber return `result()` if its stack overflows, instead of ending the process
    /// (where supported: see [`crate::fiber::stack_overflow`]).
    pub(crate) fn on_overflow(mut self, result: fn() -> R) -> Self {
        self.overflow = Some(Box::new(OverflowTarget {
            handler: self.coroutine.trap_handler(),
            result,
        }));
        self
    }

    /// Runs the fiber until it suspends or finishes. `siblings` is how many other fibers share
    /// the thread.
    pub(crate) fn resume(&mut self, siblings: usize) -> Step<R> {
        HOST.with(|host| {
            host.siblings.set(siblings);
            host.resumed_at.set(None);
            host.stack_limit.set(self.stack_limit);
            host.deepest.set(self.deepest);
        });
        stack_overflow::arm(self.overflow.as_deref().map(|target| ArmedFiber {
            guard_start: self.stack_limit,
            guard_end: self.stack_limit + page_size(),
            target: (target as *const OverflowTarget<R>).cast(),
            redirect: redirect::<R>,
        }));
        let result = self.coroutine.resume(());
        stack_overflow::arm(None);
        HOST.with(|host| {
            host.yielder.set(ptr::null());
            host.resumed_at.set(None);
            host.stack_limit.set(0);
            self.deepest = host.deepest.replace(usize::MAX);
        });
        match result {
            CoroutineResult::Yield(why) => Step::Suspended(why),
            CoroutineResult::Return(value) => Step::Finished(value),
        }
    }

    /// The stack of a finished fiber, for the next one, and the deepest point its script reached.
    pub(crate) fn into_stack(self) -> (MappedStack, usize) {
        (self.coroutine.into_stack(), self.deepest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiber::stacks::StackCache;

    fn stack() -> MappedStack {
        StackCache::new(256 * 1024).take().unwrap()
    }

    #[test]
    fn a_fiber_alone_has_no_company_and_one_with_siblings_has() {
        let mut fiber = Fiber::new(stack(), || {
            let alone = !has_company();
            suspend(Suspend::SliceOver);
            (alone, has_company())
        });
        assert!(matches!(
            fiber.resume(0),
            Step::Suspended(Suspend::SliceOver)
        ));
        assert!(!has_company(), "outside a fiber there is no company");
        match fiber.resume(1) {
            Step::Finished((alone_first, company_later)) => {
                assert!(alone_first);
                assert!(company_later);
            }
            Step::Suspended(why) => panic!("suspended again: {why:?}"),
        }
    }

    #[test]
    fn two_fibers_take_turns_on_one_thread() {
        let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let make = |name: &'static str| {
            let log = log.clone();
            Fiber::new(stack(), move || {
                for step in 0..3 {
                    log.borrow_mut().push((name, step));
                    suspend(Suspend::Waiting {
                        progressed: true,
                        deadline: None,
                    });
                }
                name
            })
        };
        let mut fibers = vec![make("a"), make("b")];
        let mut finished = Vec::new();
        while !fibers.is_empty() {
            let mut index = 0;
            while index < fibers.len() {
                match fibers[index].resume(1) {
                    Step::Finished(name) => {
                        finished.push(name);
                        let fiber = fibers.remove(index);
                        let mut cache = StackCache::new(256 * 1024);
                        cache.give_back(fiber.into_stack());
                        assert!(cache.take().is_ok());
                    }
                    Step::Suspended(_) => index += 1,
                }
            }
        }
        assert_eq!(finished, ["a", "b"]);
        assert_eq!(
            *log.borrow(),
            [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]
        );
    }

    #[test]
    fn suspending_outside_a_fiber_returns_at_once() {
        suspend(Suspend::SliceOver);
        assert!(!slice_over());
    }
}
