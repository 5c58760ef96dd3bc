//! CPU work inside async functions, on more cores: 4 scripts calling a function that works
//! ~200 µs on the CPU, then awaits a 0 ms sleep. The bridge's single worker runs one such body
//! at a time; `worker_threads(2)` runs two; the floor is the same futures spawned from 4 tasks
//! on a plain 2-thread tokio runtime.

use crate::measure::{Samples, Table};
use bridge_runtime::{script_async, Bridge};
use std::time::{Duration, Instant};

/// Busy work for about 200 µs, then a 0 ms sleep: a row decoded, hashed, then the next awaited.
#[script_async]
async fn bench_cpu_200us(n: i64) -> i64 {
    work_200us();
    tokio::time::sleep(Duration::ZERO).await;
    n + 1
}

fn work_200us() {
    let started = Instant::now();
    while started.elapsed() < Duration::from_micros(200) {
        std::hint::spin_loop();
    }
}

const SCRIPTS: usize = 4;

/// Calls per second of 4 scripts making `calls` calls each, at once.
fn bridge_rate(bridge: &Bridge, calls: usize) -> f64 {
    let script = format!("let s = 0; for i in 0..{calls} {{ s = bench_cpu_200us(s); }} s");
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..SCRIPTS {
            scope.spawn(|| bridge.run(&script).expect("bench script runs"));
        }
    });
    (SCRIPTS * calls) as f64 / started.elapsed().as_secs_f64()
}

/// The same work as 4 tokio tasks on a plain 2-thread runtime.
fn tokio_rate(runtime: &tokio::runtime::Runtime, calls: usize) -> f64 {
    let started = Instant::now();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..SCRIPTS)
            .map(|_| {
                tokio::spawn(async move {
                    let mut s = 0;
                    for _ in 0..calls {
                        s = bench_cpu_200us_body(s).await;
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

/// `bench_cpu_200us`'s body, as a plain async fn.
async fn bench_cpu_200us_body(n: i64) -> i64 {
    work_200us();
    tokio::time::sleep(Duration::ZERO).await;
    n + 1
}

/// Adds the three rows, interleaved round by round.
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
    // A warm-up round first (threads, stacks, the runtime's workers).
    bridge_rate(&single, calls / 4 + 1);
    bridge_rate(&threaded, calls / 4 + 1);
    tokio_rate(&runtime, calls / 4 + 1);
    let (mut one, mut two, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        one.push(bridge_rate(&single, calls));
        two.push(bridge_rate(&threaded, calls));
        floor.push(tokio_rate(&runtime, calls));
    }
    // Ratios of the same rounds, then their medians: the machine's noise hits all three alike.
    let over_one = median(two.iter().zip(&one).map(|(two, one)| two / one).collect());
    let over_floor = median(
        two.iter()
            .zip(&floor)
            .map(|(two, floor)| two / floor)
            .collect(),
    );
    let (one, two, floor) = (Samples::from(one), Samples::from(two), Samples::from(floor));
    table.rate_row(
        "cpu 200us, 1 worker",
        &one,
        format!("{SCRIPTS} scripts, one worker thread (the default)"),
    );
    table.rate_row(
        "cpu 200us, 2 threads",
        &two,
        format!(
            "{:.2}× one worker (target ≥ 1.6), {:.2}× plain tokio (target ≥ 0.85): worker_threads(2)",
            over_one, over_floor
        ),
    );
    table.rate_row(
        "cpu 200us, tokio",
        &floor,
        format!("{SCRIPTS} tokio tasks on a plain 2-thread runtime"),
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
