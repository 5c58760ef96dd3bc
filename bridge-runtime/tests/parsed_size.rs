//! What a parsed script takes, against the estimate the engine threads' parse cache uses to
//! bound itself (`PARSED_BYTES_PER_SOURCE_BYTE` in `src/engine/ast_cache.rs`: 18 bytes per byte
//! of source). Measured with a counting allocator, so in its own test binary.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The cache's estimate, per byte of source.
const ESTIMATED_PARSED_BYTES_PER_SOURCE_BYTE: usize = 18;

/// Counts the bytes this thread holds from the allocator.
struct CountingAllocator;

thread_local! {
    static HELD_BYTES: Cell<isize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; it only counts beside it (a
// const thread-local `Cell`, which never allocates).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD_BYTES.with(|held| held.set(held.get() + layout.size() as isize));
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD_BYTES.with(|held| held.set(held.get() - layout.size() as isize));
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// The bytes the parsed form of `source` holds once parsing is done.
fn parsed_bytes(engine: &rhai::Engine, source: &str) -> usize {
    let before = HELD_BYTES.with(Cell::get);
    let ast = engine.compile(source).unwrap();
    let held = HELD_BYTES.with(Cell::get) - before;
    drop(ast);
    usize::try_from(held).unwrap()
}

#[test]
fn a_script_of_ordinary_statements_parses_to_about_the_estimate() {
    let engine = rhai::Engine::new();
    // Arithmetic, calls, maps, loops and a function, 57 KB of them.
    let mut source = String::from("fn price(x, r) { if x > 10 { x * r } else { x } }\n");
    let mut line = 0;
    while source.len() < 57 * 1024 {
        source.push_str(&format!(
            "let v{line} = price({line}, 0.5) + [1, 2, 3].len(); \
             let m{line} = #{{ a: v{line}, b: \"t{line}\" }}; \
             for i in 0..3 {{ v{line} += i * m{line}.a; }}\n"
        ));
        line += 1;
    }
    let held = parsed_bytes(&engine, &source);
    let estimate = source.len() * ESTIMATED_PARSED_BYTES_PER_SOURCE_BYTE;
    assert!(
        estimate / 2 <= held && held <= estimate * 2,
        "{} source bytes parsed into {held} bytes ({}x); the estimate is {estimate}",
        source.len(),
        held / source.len()
    );
}

#[test]
fn a_script_of_long_literals_parses_to_less_than_the_estimate() {
    // The estimate errs on the safe side for text-heavy scripts: the cache keeps fewer of them.
    let engine = rhai::Engine::new();
    let source = format!("let s = \"{}\"; s.len()", "x".repeat(57 * 1024));
    let held = parsed_bytes(&engine, &source);
    assert!(
        held < source.len() * ESTIMATED_PARSED_BYTES_PER_SOURCE_BYTE,
        "{held}"
    );
}
