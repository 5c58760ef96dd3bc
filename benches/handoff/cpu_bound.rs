//! Scripts that never call: what the bridge adds to Rhai's own evaluation (its stop checks, time
//! slices and stack guard run between operations).

use crate::measure::{Pair, Table};
use bridge_runtime::{Bridge, Limits};
use std::time::Instant;

/// Scripts in the style of Rhai's own `scripts/` (fibonacci, primes, a counting loop), each a
/// few milliseconds long.
const SCRIPTS: &[(&str, &str)] = &[
    (
        "fibonacci",
        "fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } } fib(20)",
    ),
    (
        "primes",
        "let max = 20000; let sieve = []; sieve.pad(max + 1, false); let count = 0;
         for p in 2..=max { if !sieve[p] { count += 1; let i = p * p; while i <= max { sieve[i] = true; i += p; } } }
         count",
    ),
    (
        "loop",
        "let x = 0; let i = 0; while i < 200000 { x += i % 7; i += 1; } x",
    ),
];

fn timed(mut run: impl FnMut() -> i64, expected: i64) -> f64 {
    let started = Instant::now();
    assert_eq!(run(), expected, "both give the same outcome");
    started.elapsed().as_nanos() as f64
}

/// Adds a row per script (a compiled script through the bridge against `Engine::eval_ast` of the
/// same source, parsed once, on a ready engine) and their geometric mean; returns whether any row's rounds disagreed.
pub fn cpu_bound_rows(table: &mut Table, rounds: usize) -> bool {
    // Both with the same call depth (Rhai's own default is 8 in debug builds, too few for fib).
    let mut engine = rhai::Engine::new();
    engine.set_max_call_levels(64);
    let bridge = Bridge::builder()
        .limits(Limits::default().max_call_depth(64))
        .build()
        .expect("bridge starts");
    // The least any per-operation check costs in Rhai: an `on_progress` callback that does
    // nothing (Rhai then counts operations and calls it on each).
    let mut hooked = rhai::Engine::new();
    hooked.set_max_call_levels(64);
    hooked.on_progress(|operations| {
        std::hint::black_box(operations);
        None
    });
    let mut noisy = false;
    let (mut log_sum, mut hook_log_sum) = (0.0, 0.0);
    for (name, source) in SCRIPTS {
        // Both parsed once: what is compared is evaluation.
        let ast = engine.compile(source).expect("compiles");
        let script = bridge.compile(*source).expect("compiles");
        let expected: i64 = engine.eval_ast(&ast).expect("runs");
        let pair = Pair::collect(
            rounds,
            || timed(|| engine.eval_ast(&ast).expect("runs"), expected),
            || {
                timed(
                    || bridge.run(&script).expect("runs").as_i64().expect("an int"),
                    expected,
                )
            },
        );
        let hooked_ast = hooked.compile(source).expect("compiles");
        let hook = Pair::collect(
            rounds,
            || timed(|| engine.eval_ast(&ast).expect("runs"), expected),
            || timed(|| hooked.eval_ast(&hooked_ast).expect("runs"), expected),
        );
        noisy |= pair.is_noisy();
        log_sum += pair.ratio().ln();
        hook_log_sum += hook.ratio().ln();
        table.ms_row(
            &format!("cpu, {name}"),
            &pair.second,
            format!(
                "{:.3}× Engine::eval_ast of the same script ({:.2} ms); an empty on_progress \
                 alone: {:.3}×",
                pair.ratio(),
                pair.first.median() / 1e6,
                hook.ratio()
            ),
        );
    }
    let mean = (log_sum / SCRIPTS.len() as f64).exp();
    let hook_mean = (hook_log_sum / SCRIPTS.len() as f64).exp();
    table.note(
        "cpu, mean",
        format!(
            "{mean:.3}× Engine::eval_ast, geometric mean (target ≤ 1.05); Rhai with an empty \
             on_progress: {hook_mean:.3}×"
        ),
    );
    noisy
}
