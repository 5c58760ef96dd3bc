//! What starting a script costs: a trivial script through the bridge against Rhai's own `eval`
//! of the same source on an engine already built.

use crate::measure::{Pair, Table};
use bridge_runtime::Bridge;
use std::time::Instant;

const TRIVIAL: &str = "40 + 2";

/// ns per script: `runs` evaluations of [`TRIVIAL`] by `engine`.
fn eval_runs(engine: &rhai::Engine, runs: usize) -> f64 {
    let started = Instant::now();
    for _ in 0..runs {
        let value: i64 = engine.eval(TRIVIAL).expect("runs");
        assert_eq!(value, 42);
    }
    started.elapsed().as_nanos() as f64 / runs as f64
}

/// ns per script: `runs` blocking runs of [`TRIVIAL`], one after another.
fn warm_runs(bridge: &Bridge, runs: usize) -> f64 {
    let started = Instant::now();
    for _ in 0..runs {
        assert_eq!(bridge.run(TRIVIAL).expect("runs"), 42);
    }
    started.elapsed().as_nanos() as f64 / runs as f64
}

/// ns per script: `scripts` scripts spawned at once, then joined.
fn spawned(bridge: &Bridge, scripts: usize) -> f64 {
    let started = Instant::now();
    let handles: Vec<_> = (0..scripts).map(|_| bridge.spawn(TRIVIAL)).collect();
    for handle in handles {
        assert_eq!(handle.join().expect("runs"), 42);
    }
    started.elapsed().as_nanos() as f64 / scripts as f64
}

/// Adds the script-start rows to `table`; returns whether their rounds disagreed.
pub fn start_rows(table: &mut Table, rounds: usize, runs: usize, spawned_scripts: usize) -> bool {
    let engine = rhai::Engine::new();
    let bridge = Bridge::builder()
        .max_concurrent_scripts(spawned_scripts)
        .build()
        .expect("bridge starts");
    let warm = Pair::collect(
        rounds,
        || eval_runs(&engine, runs),
        || warm_runs(&bridge, runs),
    );
    let many = Pair::collect(
        rounds,
        || eval_runs(&engine, spawned_scripts),
        || spawned(&bridge, spawned_scripts),
    );
    table.row(
        "start, warm run",
        &warm.second,
        format!(
            "{:.2}× Engine::eval(\"{TRIVIAL}\") on a ready engine ({:.1} µs) (target ≤ 2)",
            warm.ratio(),
            warm.first.median() / 1000.0
        ),
    );
    table.row(
        "start, spawned",
        &many.second,
        format!(
            "{:.2}× Engine::eval: {spawned_scripts} scripts spawned at once, then joined (target ≤ 2)",
            many.ratio()
        ),
    );
    warm.is_noisy() || many.is_noisy()
}
