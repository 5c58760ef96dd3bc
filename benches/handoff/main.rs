//! The cost of handing a call from a script's engine thread to the async worker and back.
//!
//! `cargo bench --bench handoff` prints ns per call for each path and ratios against baselines
//! measured in the same run (the machines are shared and noisy: compare ratios, not numbers).
//! `cargo test` runs this file once with tiny counts as a smoke test.
//!
//! Paths: `direct` (a plain sync function registered on a Rhai engine: the floor for any script
//! call), `naive` (the pattern written by hand: JSON over std mpsc, `block_on` on the worker),
//! then the bridge with functions that return at once, yield once, work 20 µs, or take and return
//! structs; two scripts at once; start-up; a fan-out of 256 scripts making 10 ms calls; and CPU
//! work in async functions on one worker against `worker_threads(2)` (`cores`).

use bridge_runtime::{script_async, Bridge};
use serde::{Deserialize, Serialize};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod busy;
mod cores;
mod cpu_bound;
mod measure;
mod naive;
mod scale;
mod start;
mod tenants;

use measure::{peak_rss_kib, reset_peak_rss, Pair, Samples, Table};
use scale::{bridge_tasks, measure_fanout, median_fanout, FanoutResult};

#[script_async]
async fn bench_ready(a: i64, b: i64) -> i64 {
    a + b
}

/// A running total a script holds: the row of a method call on a resource.
pub struct BenchTally {
    total: i64,
}

#[script_async]
impl BenchTally {
    async fn bench_add(&mut self, n: i64) -> i64 {
        self.total += n;
        self.total
    }
}

#[script_async]
async fn bench_tally() -> bridge_runtime::Resource<BenchTally> {
    bridge_runtime::Resource::new(BenchTally { total: 0 })
}

#[script_async(eager)]
async fn bench_ready_eager(a: i64, b: i64) -> i64 {
    a + b
}

#[script_async]
async fn bench_yield(a: i64, b: i64) -> i64 {
    tokio::task::yield_now().await;
    a + b
}

#[script_async]
async fn bench_work(a: i64, b: i64) -> i64 {
    work_20us();
    a + b
}

#[derive(Serialize, Deserialize)]
struct Point {
    x: f64,
    y: f64,
    label: String,
}

#[script_async]
async fn bench_structs(p: Point) -> Point {
    Point {
        x: p.y,
        y: p.x,
        label: p.label,
    }
}

/// Busy work for about 20 µs (not a sleep: it must occupy the worker like real work).
fn work_20us() {
    let started = Instant::now();
    while started.elapsed() < Duration::from_micros(20) {
        std::hint::spin_loop();
    }
}

struct Config {
    rounds: usize,
    calls: usize,
    work_calls: usize,
    startup_runs: usize,
    fanout_scripts: usize,
    fanout_calls: usize,
    /// Counts of scripts for the fan-out at scale, and its rounds.
    scale_scripts: Vec<usize>,
    scale_rounds: usize,
    /// Rounds of each CPU-bound script.
    cpu_rounds: usize,
    /// Rounds of each load in the `busy` section.
    busy_rounds: usize,
    smoke: bool,
}

impl Config {
    fn full() -> Self {
        Self {
            // Many short rounds: on a shared machine a noisy stretch spoils a round or two, and
            // the median of the per-round ratios looks past them.
            rounds: 15,
            calls: 100_000,
            work_calls: 20_000,
            startup_runs: 2_000,
            fanout_scripts: 256,
            fanout_calls: 10,
            scale_scripts: vec![1_000, 10_000, 30_000],
            scale_rounds: 3,
            cpu_rounds: 25,
            busy_rounds: 25,
            smoke: false,
        }
    }

    fn smoke() -> Self {
        Self {
            rounds: 1,
            calls: 200,
            work_calls: 20,
            startup_runs: 5,
            fanout_scripts: 8,
            fanout_calls: 2,
            scale_scripts: vec![50],
            scale_rounds: 1,
            cpu_rounds: 1,
            busy_rounds: 1,
            smoke: true,
        }
    }
}

fn loop_script(call: &str, calls: usize) -> String {
    format!("let s = 0; for i in 0..{calls} {{ s = {call}; }} s")
}

fn per_call(elapsed: Duration, calls: usize) -> f64 {
    elapsed.as_nanos() as f64 / calls as f64
}

fn direct_engine() -> rhai::Engine {
    let mut engine = rhai::Engine::new();
    engine.register_fn("bench_ready", |a: i64, b: i64| a + b);
    // The same conversions as `bench_structs`, done by Rhai's own serde support in a sync function.
    engine.register_fn(
        "sync_structs",
        |p: rhai::Dynamic| -> Result<rhai::Dynamic, Box<rhai::EvalAltResult>> {
            let p: Point = rhai::serde::from_dynamic(&p)?;
            rhai::serde::to_dynamic(Point {
                x: p.y,
                y: p.x,
                label: p.label,
            })
        },
    );
    engine.register_fn("bench_work", |a: i64, b: i64| {
        work_20us();
        a + b
    });
    engine
}

fn engine_loop(engine: &rhai::Engine, call: &str, calls: usize) -> f64 {
    let ast = engine
        .compile(loop_script(call, calls))
        .expect("bench script compiles");
    let started = Instant::now();
    let total: i64 = engine.eval_ast(&ast).expect("bench script runs");
    assert!(total >= 0);
    per_call(started.elapsed(), calls)
}

fn bridge_loop(bridge: &Bridge, call: &str, calls: usize) -> f64 {
    let script = loop_script(call, calls);
    let started = Instant::now();
    bridge.run(&script).expect("bench script runs");
    per_call(started.elapsed(), calls)
}

/// ns per bare cross-thread round trip: one atomic each way, both threads spinning. With a direct
/// call, the floor of any design that hands a call to another thread and waits for the answer.
fn round_trip(trips: usize) -> f64 {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (ping, pong) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for trip in 1..=trips {
                while ping.load(Ordering::Acquire) != trip {
                    std::hint::spin_loop();
                }
                pong.store(trip, Ordering::Release);
            }
        });
        let started = Instant::now();
        for trip in 1..=trips {
            ping.store(trip, Ordering::Release);
            while pong.load(Ordering::Acquire) != trip {
                std::hint::spin_loop();
            }
        }
        per_call(started.elapsed(), trips)
    })
}

/// A ready call, then a Rhai loop of about 10 µs before the next (the `bridge_gap` row).
const GAP_CALL: &str = "bench_ready(s, 1); let j = 0; while j < 50 { j += 1; }";
/// The same with the eager function, which runs the ready call without a hand-off.
const GAP_CALL_EAGER: &str = "bench_ready_eager(s, 1); let j = 0; while j < 50 { j += 1; }";

/// A script with a little of everything and no call: what parsing and starting it cost shows
/// beside evaluating it.
const SMALL_SCRIPT: &str = r#"
    fn score(x) { if x > 10 { x * 2 } else { x + 1 } }
    let labels = #{ low: "l", high: "h" };
    let total = 0;
    for i in 0..10 {
        total += score(i);
        if i % 3 == 0 { total -= 1 }
    }
    let text = `total ${total}`;
    if text.len() > 3 && labels.low == "l" { total } else { -1 }
"#;

/// ns per run of `run` over `runs` runs.
fn per_run(runs: usize, mut run: impl FnMut()) -> f64 {
    let started = Instant::now();
    for _ in 0..runs {
        run();
    }
    per_call(started.elapsed(), runs)
}

/// Aggregate calls per second of `scripts` scripts running the loop at once on their own threads.
fn concurrent_calls_per_second(bridge: &Bridge, scripts: usize, calls: usize) -> f64 {
    let script = loop_script("bench_ready(s, 1)", calls);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..scripts {
            scope.spawn(|| bridge.run(&script).expect("bench script runs"));
        }
    });
    (scripts * calls) as f64 / started.elapsed().as_secs_f64()
}

/// The floor: the same threads making the same sleeps by hand on a plain tokio runtime.
fn fanout_floor(scripts: usize, calls: usize) -> FanoutResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let handle = runtime.handle().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let driver = std::thread::spawn(move || runtime.block_on(stopped));
    let result = measure_fanout(|| {
        std::thread::scope(|scope| {
            for _ in 0..scripts {
                let handle = handle.clone();
                scope.spawn(move || {
                    for _ in 0..calls {
                        let (done, wait) = mpsc::channel();
                        handle.spawn(async move {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            let _ = done.send(());
                        });
                        wait.recv().expect("sleep finished");
                    }
                });
            }
        });
    });
    let _ = stop.send(());
    let _ = driver.join();
    result
}

fn main() {
    busy::compete_if_asked();
    let full = std::env::args().any(|arg| arg == "--bench");
    // `cargo bench --bench handoff -- scale start` runs only the sections named.
    let sections: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let wants = |section: &str| sections.is_empty() || sections.iter().any(|s| s == section);
    let config = if full {
        Config::full()
    } else {
        Config::smoke()
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "hand-off benchmark: {cores} cores, {} rounds per path (medians){}",
        config.rounds,
        if config.smoke {
            ", SMOKE RUN (tiny counts, figures meaningless)"
        } else {
            ""
        }
    );

    let engine = direct_engine();
    let bridge = Bridge::new().expect("bridge starts");
    bridge.run("1").expect("runs");
    reset_peak_rss();
    let idle_rss_kib = peak_rss_kib();
    let mut noisy = Vec::new();
    if wants("handoff") {
        noisy.extend(handoff_table(&config, &engine, &bridge, cores));
    }
    if wants("fanout") {
        fanout_rows(&config, &bridge, idle_rss_kib);
    }
    if wants("start") || wants("cpu") {
        let mut table = Table::new();
        if wants("start") {
            let spawned = config.scale_scripts[config.scale_scripts.len() / 2];
            if start::start_rows(&mut table, config.rounds, config.startup_runs, spawned) {
                noisy.push("start");
            }
        }
        if wants("cpu") && cpu_bound::cpu_bound_rows(&mut table, config.cpu_rounds) {
            noisy.push("cpu");
        }
        table.print();
    }
    if wants("cores") {
        let mut table = Table::new();
        cores::cores_rows(&mut table, config.rounds.min(7), config.work_calls / 20);
        table.print();
    }
    if wants("scale") {
        scale::print_scale(
            &config.scale_scripts,
            config.fanout_calls,
            config.scale_rounds,
        );
    }
    if wants("tracing") {
        tracing_rows(&engine, &bridge, &config);
    }
    if wants("busy") {
        busy::print_busy(&bridge, config.smoke, config.busy_rounds, config.calls);
    }
    if wants("tenants") {
        tenants::print_tenants(config.smoke);
    }
    if !noisy.is_empty() {
        println!(
            "\nWARNING: noisy run (the per-round ratios of {} differ by more than 30%); rerun on a quiet machine",
            noisy.join(", ")
        );
    }
}

/// The main table: every path's cost per call against the same run's baselines. Returns the
/// rows whose rounds disagreed.
fn handoff_table(
    config: &Config,
    engine: &rhai::Engine,
    bridge: &Bridge,
    cores: usize,
) -> Vec<&'static str> {
    let naive = naive::NaiveBridge::start();
    let rounds = config.rounds;
    let calls = config.calls;

    let direct_loop = || engine_loop(engine, "bench_ready(s, 1)", calls);
    let ready = Pair::collect(rounds, direct_loop, || {
        bridge_loop(bridge, "bench_ready(s, 1)", calls)
    });
    let direct = &ready.first;
    // A `&mut self` method on a resource the script holds, against the same ready function
    // call, alternating: what finding the value in the worker's table and its lock add.
    let method = Pair::collect(
        rounds,
        || bridge_loop(bridge, "bench_ready(s, 1)", calls),
        || {
            let script = format!(
                "let t = bench_tally(); {}",
                loop_script("t.bench_add(1)", calls)
            );
            let started = Instant::now();
            bridge.run(&script).expect("bench script runs");
            per_call(started.elapsed(), calls)
        },
    );
    // The floor, measured in the same run as the calls it is compared with. With one core the
    // two spinning threads would take turns by time slice: there is no such floor.
    let trip = if cores >= 2 {
        Samples::collect(rounds, || round_trip(calls))
    } else {
        Samples::collect(rounds, || 0.0)
    };
    let floor_ns = direct.median() + trip.median();
    let eager = Pair::collect(rounds, direct_loop, || {
        bridge_loop(bridge, "bench_ready_eager(s, 1)", calls)
    });
    let naive_ns = Samples::collect(rounds, || {
        engine_loop(naive.engine(), "bench_ready(s, 1)", config.work_calls)
    });
    let yielding = Pair::collect(rounds, direct_loop, || {
        bridge_loop(bridge, "bench_yield(s, 1)", calls)
    });
    // A script that works between its calls (a Rhai loop of ~10 µs): through the hand-off,
    // against the eager function in the same script (the same work, no hand-off).
    let gap = Pair::collect(
        rounds,
        || bridge_loop(bridge, GAP_CALL_EAGER, config.work_calls),
        || bridge_loop(bridge, GAP_CALL, config.work_calls),
    );
    let work = Pair::collect(
        rounds,
        || engine_loop(engine, "bench_work(s, 1)", config.work_calls),
        || bridge_loop(bridge, "bench_work(s, 1)", config.work_calls),
    );
    let structs = Pair::collect(rounds, direct_loop, || {
        bridge_loop(
            bridge,
            r#"bench_structs(#{ x: 1.0, y: 2.0, label: "p" }).x.to_int() + s"#,
            calls,
        )
    });
    // What converting the struct adds: to a ready call through the bridge, and to a sync
    // function converting with rhai::serde (each measured against its plain call, alternating).
    let ready_loop = || bridge_loop(bridge, "bench_ready(s, 1)", calls);
    let converting = Pair::collect(rounds, ready_loop, || {
        bridge_loop(
            bridge,
            r#"bench_structs(#{ x: 1.0, y: 2.0, label: "p" }).x.to_int() + s"#,
            calls,
        )
    });
    let serde_structs = Pair::collect(rounds, direct_loop, || {
        engine_loop(
            engine,
            r#"sync_structs(#{ x: 1.0, y: 2.0, label: "p" }).x.to_int() + s"#,
            calls,
        )
    });
    let x2 = Pair::collect(
        rounds,
        || concurrent_calls_per_second(bridge, 1, calls),
        || concurrent_calls_per_second(bridge, 2, calls),
    );
    let startup = Pair::collect(
        rounds,
        || {
            let started = Instant::now();
            for _ in 0..config.startup_runs {
                let value: i64 = rhai::Engine::new().eval("40 + 2").expect("runs");
                assert_eq!(value, 42);
            }
            per_call(started.elapsed(), config.startup_runs)
        },
        || {
            let started = Instant::now();
            for _ in 0..config.startup_runs {
                bridge.run("40 + 2").expect("runs");
            }
            per_call(started.elapsed(), config.startup_runs)
        },
    );
    let eval_small = || {
        per_run(config.startup_runs, || {
            let value: i64 = engine.eval(SMALL_SCRIPT).expect("runs");
            assert!(value > 0);
        })
    };
    let uncached = Bridge::builder()
        .script_cache(0)
        .build()
        .expect("bridge starts");
    let source_uncached = Pair::collect(rounds, eval_small, || {
        per_run(config.startup_runs, || {
            uncached.run(SMALL_SCRIPT).expect("runs");
        })
    });
    let source_cached = Pair::collect(rounds, eval_small, || {
        per_run(config.startup_runs, || {
            bridge.run(SMALL_SCRIPT).expect("runs");
        })
    });
    let compiled = bridge.compile(SMALL_SCRIPT).expect("compiles");
    let compiled_run = Pair::collect(rounds, eval_small, || {
        per_run(config.startup_runs, || {
            bridge.run(&compiled).expect("runs");
        })
    });
    let parking = Bridge::builder()
        .spin_wait(false)
        .build()
        .expect("bridge starts");
    let ready_parking = Samples::collect(rounds, || {
        bridge_loop(&parking, "bench_ready(s, 1)", config.work_calls)
    });
    let (direct_loaded, ready_loaded, parking_loaded) = {
        // Smoke runs start one competitor: the path is exercised, the cores stay free.
        let _busy = busy::Competitors::start(if config.smoke { 1 } else { cores });
        (
            Samples::collect(rounds, || {
                engine_loop(engine, "bench_ready(s, 1)", calls / 4)
            }),
            Samples::collect(rounds, || {
                bridge_loop(bridge, "bench_ready(s, 1)", calls / 4)
            }),
            Samples::collect(rounds, || {
                bridge_loop(&parking, "bench_ready(s, 1)", config.work_calls)
            }),
        )
    };

    let mut table = Table::new();
    table.row("direct", direct, "1.00× direct (baseline)".to_owned());
    table.row(
        "naive",
        &naive_ns,
        format!("{:.1}× direct", naive_ns.ratio(direct)),
    );
    table.row(
        "round trip",
        &trip,
        format!(
            "a bare two-thread round trip; floor = direct + it = {floor_ns:.0} ns ({:.2}× direct)",
            floor_ns / direct.median()
        ),
    );
    table.row(
        "bridge_ready",
        &ready.second,
        format!(
            "{:.2}× direct (target ≤ 3), {:.2}× floor, naive is {:.0}× slower (target ≥ 20)",
            ready.ratio(),
            ready.second.median() / floor_ns,
            naive_ns.ratio(&ready.second)
        ),
    );
    table.row(
        "resource_method",
        &method.second,
        format!(
            "{:.3}× bridge_ready in the same rounds (target ≤ 1.2): t.bench_add(1) on a Resource",
            method.ratio()
        ),
    );
    table.row(
        "bridge_ready_eager",
        &eager.second,
        format!(
            "{:.2}× direct: #[script_async(eager)], no hand-off when ready",
            eager.ratio()
        ),
    );
    table.row(
        "bridge_yield",
        &yielding.second,
        format!(
            "{:.2}× direct (target ≤ 5), {:.2}× floor",
            yielding.ratio(),
            yielding.second.median() / floor_ns
        ),
    );
    table.row(
        "bridge_work_20us",
        &work.second,
        format!(
            "adds {:.1} µs to the same work called directly ({:.1} µs) (target ≤ 10)",
            (work.second.median() - work.first.median()) / 1000.0,
            work.first.median() / 1000.0
        ),
    );
    table.row(
        "bridge_gap",
        &gap.second,
        format!(
            "adds {:.2} µs to the same script with the eager function ({:.1} µs a call, ~10 µs \
             of script work between calls); floor +{:.2} µs (one round trip)",
            gap.difference() / 1000.0,
            gap.first.median() / 1000.0,
            trip.median() / 1000.0
        ),
    );
    let our_conversion = converting.difference();
    let serde_conversion = serde_structs.difference();
    table.row(
        "serde_structs",
        &serde_structs.second,
        format!(
            "{:.2}× direct: a sync function converting with rhai::serde (adds {serde_conversion:.0} ns)",
            serde_structs.ratio()
        ),
    );
    table.row(
        "bridge_structs",
        &structs.second,
        format!(
            "{:.2}× direct; converting adds {our_conversion:.0} ns to bridge_ready, {:.2}× what \
             rhai::serde adds (target ≤ 1.5)",
            structs.ratio(),
            our_conversion / serde_conversion
        ),
    );
    table.rate_row(
        "bridge_x2",
        &x2.second,
        format!(
            "{:.2}× one script's {:.0} calls/s (target ≥ 1.0)",
            x2.ratio(),
            x2.first.median()
        ),
    );
    table.row(
        "startup",
        &startup.second,
        format!(
            "{:.2}× Engine::new().eval ({:.1} µs) (target ≤ 0.5)",
            startup.ratio(),
            startup.first.median() / 1000.0
        ),
    );
    table.row(
        "script, no cache",
        &source_uncached.second,
        format!(
            "{:.2}× Engine::eval of the same source on a ready engine ({:.1} µs): parsed every run",
            source_uncached.ratio(),
            source_uncached.first.median() / 1000.0
        ),
    );
    table.row(
        "script, cached",
        &source_cached.second,
        format!(
            "{:.2}× Engine::eval: the same source run again, parsed once per engine thread",
            source_cached.ratio()
        ),
    );
    table.row(
        "script, compiled",
        &compiled_run.second,
        format!(
            "{:.2}× Engine::eval: bridge.compile once, then run(&script)",
            compiled_run.ratio()
        ),
    );
    table.row(
        "ready, no spin",
        &ready_parking,
        format!(
            "{:.1}× direct: spin_wait(false), every wait parks",
            ready_parking.ratio(direct)
        ),
    );
    table.row(
        "ready, cores busy",
        &ready_loaded,
        format!(
            "{:.2}× direct beside {cores} competing processes ({:.0} ns); without spinning {:.0} ns \
             (more loads: the busy section)",
            ready_loaded.ratio(&direct_loaded),
            direct_loaded.median(),
            parking_loaded.median()
        ),
    );
    table.print();
    [
        ("bridge_ready", &ready),
        ("bridge_yield", &yielding),
        ("bridge_x2", &x2),
        ("startup", &startup),
    ]
    .into_iter()
    .filter(|(_, pair)| pair.is_noisy())
    .map(|(name, _)| name)
    .collect()
}

/// The fan-out of 256 scripts making 10 ms calls: floor, cold and warm bridge, a thread each.
fn fanout_rows(config: &Config, bridge: &Bridge, idle_rss_kib: u64) {
    // The first fan-out also maps every script's fiber stack (an engine thread keeps only a few
    // for later scripts); later ones find the bridge warm, as a long-running service would.
    let fanout_rounds = config.rounds.min(3);
    let cold = bridge_tasks(bridge, config.fanout_scripts, config.fanout_calls);
    let warm = median_fanout(
        (0..fanout_rounds)
            .map(|_| bridge_tasks(bridge, config.fanout_scripts, config.fanout_calls))
            .collect(),
    );
    let floor = median_fanout(
        (0..fanout_rounds)
            .map(|_| fanout_floor(config.fanout_scripts, config.fanout_calls))
            .collect(),
    );
    // For comparison, what fibers save: every script alone on its own engine thread, as when
    // `max_engine_threads` is as high as the number of scripts. Last: its 256 engines' memory
    // would otherwise count in the phases after it.
    let spread = Bridge::builder()
        .max_engine_threads(config.fanout_scripts)
        .build()
        .expect("bridge starts");
    let first_spread = bridge_tasks(&spread, config.fanout_scripts, config.fanout_calls);
    drop(spread);
    let ideal = Duration::from_millis(10 * config.fanout_calls as u64);
    println!(
        "\nfanout: {} scripts × {} calls of a 10 ms sleep (ideal wall {:?}; medians of {})",
        config.fanout_scripts, config.fanout_calls, ideal, fanout_rounds
    );
    println!(
        "  {:<13} {:>10} {:>10} {:>14}",
        "", "wall", "cpu", "peak rss"
    );
    for (name, result) in [
        ("floor", &floor),
        ("bridge, cold", &cold),
        ("bridge, warm", &warm),
        ("thread each", &first_spread),
    ] {
        println!(
            "  {:<13} {:>8.1}ms {:>8.1}ms {:>10} KiB",
            name,
            result.wall.as_secs_f64() * 1e3,
            result.cpu.as_secs_f64() * 1e3,
            result.peak_rss_kib
        );
    }
    println!(
        "  warm bridge/floor: wall {:.2}× (target ≤ 1.15), cpu {:.2}× (target ≤ 2); \
         cold: wall {:.2}×, cpu {:.2}×",
        warm.wall.as_secs_f64() / floor.wall.as_secs_f64(),
        warm.cpu.as_secs_f64() / floor.cpu.as_secs_f64().max(1e-9),
        cold.wall.as_secs_f64() / floor.wall.as_secs_f64(),
        cold.cpu.as_secs_f64() / floor.cpu.as_secs_f64().max(1e-9),
    );
    println!(
        "  thread each: the first fan-out of a bridge with max_engine_threads({}), one engine \
         thread per script instead of fibers: wall {:.2}×, cpu {:.2}× the floor",
        config.fanout_scripts,
        first_spread.wall.as_secs_f64() / floor.wall.as_secs_f64(),
        first_spread.cpu.as_secs_f64() / floor.cpu.as_secs_f64().max(1e-9),
    );
    println!(
        "  memory: {:.0} KiB per concurrent script (peak over the bridge's idle {} KiB)",
        (warm.peak_rss_kib.saturating_sub(idle_rss_kib)) as f64 / config.fanout_scripts as f64,
        idle_rss_kib
    );
}

/// What tracing costs a ready call: with no subscriber (as above), then with one that records
/// every span (installed last: it stays for the rest of the process). Build with
/// `--no-default-features` to measure the bridge without its spans at all.
fn tracing_rows(engine: &rhai::Engine, bridge: &Bridge, config: &Config) {
    let direct_loop = || engine_loop(engine, "bench_ready(s, 1)", config.calls);
    let bridge_ready = || bridge_loop(bridge, "bench_ready(s, 1)", config.calls);
    let quiet = Pair::collect(config.rounds, direct_loop, bridge_ready);
    let feature = if cfg!(feature = "tracing") {
        "on"
    } else {
        "off"
    };
    println!("\ntracing (feature {feature}):");
    println!(
        "  no subscriber:        bridge_ready {:.2}× direct ({:.0} ns)",
        quiet.ratio(),
        quiet.second.median()
    );
    if cfg!(feature = "tracing") {
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::set_global_default(subscriber).expect("the first subscriber");
        let recorded = Pair::collect(config.rounds, direct_loop, bridge_ready);
        println!(
            "  spans recorded:       bridge_ready {:.2}× direct ({:.0} ns)",
            recorded.ratio(),
            recorded.second.median()
        );
    }
}
