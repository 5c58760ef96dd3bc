//! Many waiting scripts at once: thousands of scripts making 10 ms calls through `spawn`, against
//! the same sleeps made by plain tokio tasks in the same run.

use crate::measure::{cpu_time, peak_rss_kib, reset_peak_rss, resident_kib};
use bridge_runtime::{script_async, Bridge};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[script_async]
async fn scale_sleep_10ms() {
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// Scripts waiting in [`scale_hold`], and what lets them go.
static HOLDING: AtomicUsize = AtomicUsize::new(0);
static RELEASE: Notify = Notify::const_new();
static RELEASED: AtomicBool = AtomicBool::new(false);

/// Waits until [`RELEASE`] fires: a call that stays in flight as long as the bench wants.
#[script_async]
async fn scale_hold() {
    let released = RELEASE.notified();
    tokio::pin!(released);
    released.as_mut().enable();
    HOLDING.fetch_add(1, Ordering::SeqCst);
    if !RELEASED.load(Ordering::SeqCst) {
        released.await;
    }
}

/// Resident memory per waiting script: `scripts` scripts all waiting on a call at once (the
/// fan-out rows never have them all waiting together: the first end before the last start).
fn memory_per_waiting_script(scripts: usize) -> f64 {
    let bridge = Bridge::builder()
        .max_concurrent_scripts(scripts)
        .build()
        .expect("bridge starts");
    bridge.run("1").expect("runs");
    RELEASED.store(false, Ordering::SeqCst);
    HOLDING.store(0, Ordering::SeqCst);
    let before = resident_kib();
    let handles: Vec<_> = (0..scripts)
        .map(|_| bridge.spawn("scale_hold(); 1"))
        .collect();
    let started = Instant::now();
    while HOLDING.load(Ordering::SeqCst) < scripts {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "scripts did not all start"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let waiting = resident_kib();
    RELEASED.store(true, Ordering::SeqCst);
    RELEASE.notify_waiters();
    for handle in handles {
        handle.join().expect("held script runs");
    }
    waiting.saturating_sub(before) as f64 / scripts as f64
}

/// Wall time, CPU time and peak memory of one fan-out.
pub struct FanoutResult {
    pub wall: Duration,
    pub cpu: Duration,
    pub peak_rss_kib: u64,
}

/// Runs `run`, measuring it.
pub fn measure_fanout(run: impl FnOnce()) -> FanoutResult {
    reset_peak_rss();
    let cpu_before = cpu_time();
    let started = Instant::now();
    run();
    FanoutResult {
        wall: started.elapsed(),
        cpu: cpu_time().saturating_sub(cpu_before),
        peak_rss_kib: peak_rss_kib(),
    }
}

/// The run with the median wall time.
pub fn median_fanout(mut results: Vec<FanoutResult>) -> FanoutResult {
    results.sort_by_key(|result| result.wall);
    results.swap_remove(results.len() / 2)
}

/// `scripts` scripts spawned at once on `bridge`, each making `calls` calls of a 10 ms sleep.
pub fn bridge_tasks(bridge: &Bridge, scripts: usize, calls: usize) -> FanoutResult {
    let script = format!("for i in 0..{calls} {{ scale_sleep_10ms(); }} 1");
    measure_fanout(|| {
        let handles: Vec<_> = (0..scripts).map(|_| bridge.spawn(&script)).collect();
        for handle in handles {
            handle.join().expect("fan-out script runs");
        }
    })
}

/// The floor: `scripts` tokio tasks on one current-thread runtime (the bridge's worker is one
/// thread too), each making the same sleeps one after another.
fn tokio_tasks(scripts: usize, calls: usize) -> FanoutResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    measure_fanout(|| {
        runtime.block_on(async {
            let tasks: Vec<_> = (0..scripts)
                .map(|_| {
                    tokio::spawn(async move {
                        for _ in 0..calls {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task runs");
            }
        });
    })
}

/// Prints the fan-out at scale: for each count of scripts, the floor and the bridge (medians of
/// `rounds`, alternating, after one cold run of the bridge) and their ratios; then the memory
/// each script costs while waiting.
pub fn print_scale(counts: &[usize], calls: usize, rounds: usize) {
    println!("\nfan-out at scale: N scripts through spawn × {calls} calls of a 10 ms sleep, against N tokio tasks doing the same sleeps (medians of {rounds})");
    println!(
        "  {:>7} {:>11} {:>11} {:>11} {:>11} {:>8} {:>8}",
        "scripts", "floor wall", "floor cpu", "bridge wall", "bridge cpu", "wall ×", "cpu ×",
    );
    for &scripts in counts {
        let bridge = Bridge::builder()
            .max_concurrent_scripts(scripts)
            .build()
            .expect("bridge starts");
        // One cold run first: it maps the stacks the later ones find kept.
        bridge_tasks(&bridge, scripts, calls);
        let (mut floors, mut bridges) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            floors.push(tokio_tasks(scripts, calls));
            bridges.push(bridge_tasks(&bridge, scripts, calls));
        }
        let (floor, ours) = (median_fanout(floors), median_fanout(bridges));
        println!(
            "  {:>7} {:>9.0}ms {:>9.0}ms {:>9.0}ms {:>9.0}ms {:>7.2}× {:>7.2}×",
            scripts,
            floor.wall.as_secs_f64() * 1e3,
            floor.cpu.as_secs_f64() * 1e3,
            ours.wall.as_secs_f64() * 1e3,
            ours.cpu.as_secs_f64() * 1e3,
            ours.wall.as_secs_f64() / floor.wall.as_secs_f64(),
            ours.cpu.as_secs_f64() / floor.cpu.as_secs_f64().max(1e-9),
        );
    }
    let memory: Vec<_> = counts
        .iter()
        .map(|&scripts| format!("{:.1} at {scripts}", memory_per_waiting_script(scripts)))
        .collect();
    println!(
        "  resident memory per script, all waiting on a call at once: {} KiB",
        memory.join(", ")
    );
    println!("  targets at 10,000: wall ≤ 1.5×, cpu ≤ 3× the floor's; ≤ 16 KiB per script");
}
