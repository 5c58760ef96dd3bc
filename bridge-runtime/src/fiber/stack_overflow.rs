//! The last line of defence against a stack overflow inside a script's fiber: a fault on the
//! fiber's guard page ends that fiber (its coroutine returns the value the fiber was given for
//! this case) instead of the process.
//!
//! The stack check between operations (see `engine/build.rs`) ends scripts that recurse too deeply
//! long before this. What it cannot see is Rhai's own recursion inside one operation: cloning or
//! dropping nested data recurses without an operation in between. Only that reaches the guard
//! page, and corosensei can make a coroutine return from a signal handler (as wasmer does).
//!
//! What is on the abandoned stack is never dropped: its heap memory leaks, and a `RefCell` it
//! had borrowed (inside the engine) stays borrowed, so the engine thread retires after a trap. A
//! fault inside `malloc` would leave its lock held; overflows there are rare (the deepest frames
//! are Rhai's), and the alternative is the certain end of the process.
//!
//! Linux on x86-64 only; elsewhere a fiber's overflow ends the process, as a thread's would.

#![allow(unsafe_code)]

use std::cell::Cell;

/// The running fiber's guard page and how to make it return, as the signal handler needs them.
#[derive(Clone, Copy)]
pub(crate) struct ArmedFiber {
    /// The guard page: `[guard_start, guard_end)`.
    pub(crate) guard_start: usize,
    pub(crate) guard_end: usize,
    /// Passed to `redirect`: the fiber's trap target, which lives while the fiber runs.
    pub(crate) target: *const (),
    /// Sets up the fiber's coroutine to return, and points the interrupted registers there.
    pub(crate) redirect: unsafe fn(target: *const (), context: *mut std::ffi::c_void),
}

thread_local! {
    static ARMED: Cell<Option<ArmedFiber>> = const { Cell::new(None) };
    static TRAPPED: Cell<bool> = const { Cell::new(false) };
}

/// Arms (or, with `None`, disarms) recovery for the fiber about to run on this thread.
pub(crate) fn arm(fiber: Option<ArmedFiber>) {
    ARMED.with(|armed| armed.set(fiber));
}

/// Records that the running fiber returned from a trap (called on its stack, after the handler).
pub(crate) fn note_trapped() {
    TRAPPED.with(|trapped| trapped.set(true));
}

/// Whether the last fiber to finish on this thread did so through a trap; clears the record.
pub(crate) fn take_trapped() -> bool {
    TRAPPED.with(|trapped| trapped.replace(false))
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub(crate) use linux_x86_64::{prepare_thread, set_registers};

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub(crate) use unsupported::prepare_thread;

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod linux_x86_64 {
    use super::ARMED;
    use std::sync::OnceLock;

    /// The SIGSEGV action that was there before ours: faults that are not a fiber's overflow go
    /// to it (Rust's own handler reports a thread's stack overflow; the default ends the process).
    static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

    /// A signal stack of this thread's own, freed with the thread.
    pub(crate) struct AltStack {
        mapping: Option<(*mut libc::c_void, usize)>,
    }

    impl Drop for AltStack {
        fn drop(&mut self) {
            if let Some((address, length)) = self.mapping.take() {
                // SAFETY: the signal stack is switched off before its memory is unmapped; both
                // were set up by `prepare_thread` on this thread.
                unsafe {
                    let disabled = libc::stack_t {
                        ss_sp: std::ptr::null_mut(),
                        ss_flags: libc::SS_DISABLE,
                        ss_size: 0,
                    };
                    libc::sigaltstack(&disabled, std::ptr::null_mut());
                    libc::munmap(address, length);
                }
            }
        }
    }

    const ALT_STACK_SIZE: usize = 64 * 1024;

    /// Installs the process's handler (once) and makes sure this thread has a signal stack to
    /// run it on (its own stack is the one that overflowed). Keep the result for the thread's life.
    pub(crate) fn prepare_thread() -> AltStack {
        PREVIOUS.get_or_init(|| {
            // SAFETY: a plain `sigaction` call with a handler that is async-signal-safe (it reads
            // thread-locals, adjusts registers, or calls the previous handler).
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_fault as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                libc::sigaction(libc::SIGSEGV, &action, &mut previous);
                previous
            }
        });
        // SAFETY: queries and, if there is none, sets this thread's signal stack to a mapping
        // that `AltStack` owns and unmaps only after switching the signal stack off.
        unsafe {
            let mut current: libc::stack_t = std::mem::zeroed();
            libc::sigaltstack(std::ptr::null(), &mut current);
            if current.ss_flags & libc::SS_DISABLE == 0 {
                // Rust's runtime gave this thread one already.
                return AltStack { mapping: None };
            }
            let address = libc::mmap(
                std::ptr::null_mut(),
                ALT_STACK_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if address == libc::MAP_FAILED {
                return AltStack { mapping: None };
            }
            let stack = libc::stack_t {
                ss_sp: address,
                ss_flags: 0,
                ss_size: ALT_STACK_SIZE,
            };
            libc::sigaltstack(&stack, std::ptr::null_mut());
            AltStack {
                mapping: Some((address, ALT_STACK_SIZE)),
            }
        }
    }

    /// Points the interrupted registers in `context` at the code `regs` describes.
    ///
    /// # Safety
    /// `context` must be the `ucontext_t` a SIGSEGV handler received.
    pub(crate) unsafe fn set_registers(
        context: *mut std::ffi::c_void,
        regs: corosensei::trap::TrapHandlerRegs,
    ) {
        // SAFETY: as the caller promises, `context` is the handler's `ucontext_t`.
        let gregs = unsafe { &mut (*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
        gregs[libc::REG_RIP as usize] = regs.rip as i64;
        gregs[libc::REG_RSP as usize] = regs.rsp as i64;
        gregs[libc::REG_RBP as usize] = regs.rbp as i64;
        gregs[libc::REG_RDI as usize] = regs.rdi as i64;
        gregs[libc::REG_RSI as usize] = regs.rsi as i64;
    }

    extern "C" fn on_fault(
        signal: libc::c_int,
        info: *mut libc::siginfo_t,
        context: *mut libc::c_void,
    ) {
        // SAFETY: the kernel passes a valid `siginfo_t` for SIGSEGV with SA_SIGINFO.
        let address = unsafe { (*info).si_addr() } as usize;
        let armed = ARMED.with(|armed| armed.get());
        if let Some(fiber) = armed {
            if (fiber.guard_start..fiber.guard_end).contains(&address) {
                // Only once: the fiber is finished after this.
                ARMED.with(|armed| armed.set(None));
                // SAFETY: `target` is the running fiber's, which lives while it runs, and
                // `context` is this handler's.
                unsafe { (fiber.redirect)(fiber.target, context) };
                return;
            }
        }
        let Some(previous) = PREVIOUS.get() else {
            return;
        };
        // SAFETY: hands the fault to the handler that was installed before ours, the way it
        // asked to be called; the default action is restored and the faulting instruction
        // re-runs under it.
        unsafe {
            match previous.sa_sigaction {
                libc::SIG_DFL | libc::SIG_IGN => {
                    libc::sigaction(libc::SIGSEGV, previous, std::ptr::null_mut());
                }
                handler if previous.sa_flags & libc::SA_SIGINFO != 0 => {
                    let handler: extern "C" fn(
                        libc::c_int,
                        *mut libc::siginfo_t,
                        *mut libc::c_void,
                    ) = std::mem::transmute(handler);
                    handler(signal, info, context);
                }
                handler => {
                    let handler: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
                    handler(signal);
                }
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
mod unsupported {
    /// Nothing to keep where recovery is not supported.
    pub(crate) struct AltStack;

    pub(crate) fn prepare_thread() -> AltStack {
        AltStack
    }
}
