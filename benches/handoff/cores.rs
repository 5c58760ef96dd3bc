//! CPU work inside async functions, on more cores: 4 scripts calling a function that works
//! ~200 µs on the CPU, then awaits a 0 ms sleep (or, in the second set of rows, a `yield_now`).
//! The bridge's single worker runs one such body at a time; `worker_threads(2)` runs two; the
//! floor is the same futures spawned from 4 tasks on a plain 2-thread tokio runtime.
//!
//! tokio's timer has millisecond ticks, and a 0 ms sleep waits for the next one: four such calls
//! every millisecond need 0.8 ms of CPU, which one core has, so with the sleep all three read
//! about the same (the timer, not the CPU, sets the pace). With `yield_now` the CPU does.

use crate::measure::{Samples, Table};
use bridge_runtime::{script_async, Bridge};
use std::time::{Duration, Instant};

/// Busy work for about 200 µs, then a 0 ms sleep: a row decoded, hashed, then the next awaited.
#[script_async]
async fn bench_cpu_200us(n: i64) -> i64 {
    bench_cpu_200us_body(n, Pause::Sleep).await
}

/// The same, awaiting a `yield_now` instead of the sleep.
#[script_async]
async fn bench_cpu_200us_yield(n: i64) -> i64 {
    bench_cpu_200us_body(n, Pause::Yield).await
}

/// What the work awaits after its 200 µs.
#[derive(Clone, Copy)]
enum Pause {
    Sleep,
    Yield,
}

impl Pause {
    fn function(self) -> &'static str {
        match self {
            Pause::Sleep => "bench_cpu_200us",
            Pause::Yield => "bench_cpu_200us_yield",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Pause::Sleep => "sleep 0",
            Pause::Yield => "yield",
        }
    }
}

fn work_200us() {
    let started = Instant::now();
    while started.elapsed() < Duration::from_micros(200) {
        std::hint::spin_loop();
    }
}

const SCRIPTS: usize = 4;

/// Calls per second of 4 scripts making `calls` calls each, at once.
fn bridge_rate(bridge: &Bridge, pause: Pause, calls: usize) -> f64 {
    let function = pause.function();
    let script = format!("let s = 0; for i in 0..{calls} {{ s = {function}(s); }} s");
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..SCRIPTS {
            scope.spawn(|| bridge.run(&script).expect("bench script runs"));
        }
    });
    (SCRIPTS * calls) as f64 / started.elapsed().as_secs_f64()
}

/// The same work as 4 tokio tasks on a plain 2-thread runtime.
fn tokio_rate(runtime: &tokio::runtime::Runtime, pause: Pause, calls: usize) -> f64 {
    let started = Instant::now();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..SCRIPTS)
            .map(|_| {
                tokio::spawn(async move {
                    let mut s = 0;
                    for _ in 0..calls {
                        s = bench_cpu_200us_body(s, pause).await;
                    }
                    s
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task runs");
        }
    });
    (SCRIPTS * calls) as f64 / started.elapsed().as_secs_f64()
}

/// The functions' body, as a plain async fn.
async fn bench_cpu_200us_body(n: i64, pause: Pause) -> i64 {
    work_200us();
    match pause {
        Pause::Sleep => tokio::time::sleep(Duration::ZERO).await,
        Pause::Yield => tokio::task::yield_now().await,
    }
    n + 1
}

/// Adds the three rows for each pause, interleaved round by round.
pub fn cores_rows(table: &mut Table, rounds: usize, calls: usize) {
    let single = Bridge::new().expect("bridge starts");
    let threaded = Bridge::builder()
        .worker_threads(2)
        .build()
        .expect("bridge starts");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    for pause in [Pause::Sleep, Pause::Yield] {
        pause_rows(table, pause, [&single, &threaded], &runtime, rounds, calls);
    }
}

fn pause_rows(
    table: &mut Table,
    pause: Pause,
    [single, threaded]: [&Bridge; 2],
    runtime: &tokio::runtime::Runtime,
    rounds: usize,
    calls: usize,
) {
    // A warm-up round first (threads, stacks, the runtime's workers).
    bridge_rate(single, pause, calls / 4 + 1);
    bridge_rate(threaded, pause, calls / 4 + 1);
    tokio_rate(runtime, pause, calls / 4 + 1);
    let (mut one, mut two, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        one.push(bridge_rate(single, pause, calls));
        two.push(bridge_rate(threaded, pause, calls));
        floor.push(tokio_rate(runtime, pause, calls));
    }
    // Ratios of the same rounds, then their medians: the machine's noise hits all three alike.
    let over_one = median(two.iter().zip(&one).map(|(two, one)| two / one).collect());
    let over_floor = median(
        two.iter()
            .zip(&floor)
            .map(|(two, floor)| two / floor)
            .collect(),
    );
    let (one, two, floor) = (
        Samples::from_values(one),
        Samples::from_values(two),
        Samples::from_values(floor),
    );
    let label = pause.label();
    table.rate_row(
        &format!("cpu+{label}, 1 worker"),
        &one,
        format!("{SCRIPTS} scripts, 200 µs of CPU then a {label}; one worker thread (the default)"),
    );
    table.rate_row(
        &format!("cpu+{label}, 2 threads"),
        &two,
        format!(
            "{over_one:.2}× one worker (target ≥ 1.6), {over_floor:.2}× plain tokio (target ≥ 0.85): worker_threads(2)"
        ),
    );
    table.rate_row(
        &format!("cpu+{label}, tokio"),
        &floor,
        format!("{SCRIPTS} tokio tasks on a plain 2-thread runtime"),
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
