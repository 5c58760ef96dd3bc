//! Ready calls on a machine whose cores other processes keep busy (issue 22): the bridge as
//! built (spinning), the same with `spin_wait(false)`, and the naive pattern, beside 0, 1, n
//! and 2n competing processes (n = cores) that spin at normal priority.
//!
//! The competitors are this very binary started again with [`SPIN_FOREVER`]: real processes,
//! scheduled like any other program on the machine, not threads of the measured process.

use crate::measure::Samples;
use crate::naive::NaiveBridge;
use bridge_runtime::Bridge;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The hidden argument that makes this binary a competitor: it spins until killed.
pub const SPIN_FOREVER: &str = "--spin-forever";

/// If this process was started as a competitor, spins and never returns.
pub fn compete_if_asked() {
    if !std::env::args().any(|arg| arg == SPIN_FOREVER) {
        return;
    }
    let parent: libc::pid_t = std::env::var("BENCH_COMPETITOR_PARENT")
        .ok()
        .and_then(|pid| pid.parse().ok())
        .unwrap_or(0);
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    let mut spins = 0_u64;
    loop {
        std::hint::black_box((0..1000_u64).sum::<u64>());
        spins += 1;
        // Should the bench die in a way no guard sees (SIGKILL before the prctl above took
        // effect), a competitor still ends within moments instead of spinning on for ever.
        // SAFETY: getppid has no preconditions.
        if spins.is_multiple_of(100_000) && unsafe { libc::getppid() } != parent {
            std::process::exit(0);
        }
    }
}

/// Competing processes, killed (and reaped) when this drops, also when a row panics.
pub struct Competitors(Vec<Child>);

impl Competitors {
    /// Starts `count` competitors and gives them a moment to be running.
    pub fn start(count: usize) -> Self {
        let exe = std::env::current_exe().expect("the bench binary's path");
        let mut competitors = Self(Vec::with_capacity(count));
        for _ in 0..count {
            let child = Command::new(&exe)
                .arg(SPIN_FOREVER)
                .env("BENCH_COMPETITOR_PARENT", std::process::id().to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("a competitor starts");
            competitors.0.push(child);
        }
        if count > 0 {
            std::thread::sleep(Duration::from_millis(50));
        }
        competitors
    }
}

impl Drop for Competitors {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

/// One load's figures: ns per call of each path, and the per-round ratios.
struct LoadRow {
    competitors: usize,
    ready: Samples,
    parking: Samples,
    naive: Samples,
    against_parking: Samples,
    against_naive: Samples,
}

/// Runs the three paths in `rounds` interleaved rounds (their order turning each round) beside
/// `competitors` competing processes. A warm-up round of `calls / 20` calls each sets how many
/// calls each path makes per round: about `ROUND_TIME`'s worth, at most `calls` (a path can be
/// a hundred times slower under load than quiet).
fn measure_load(
    competitors: usize,
    rounds: usize,
    calls: usize,
    mut paths: [&mut dyn FnMut(usize) -> f64; 3],
) -> LoadRow {
    let _competitors = Competitors::start(competitors);
    let warm_up = (calls / 20).max(1);
    let counts = paths.each_mut().map(|path| {
        let ns_per_call = path(warm_up);
        ((ROUND_TIME.as_nanos() as f64 / ns_per_call) as usize).clamp(warm_up, calls)
    });
    let mut figures: [Vec<f64>; 3] = Default::default();
    for round in 0..rounds {
        for turn in 0..3 {
            let path = (round + turn) % 3;
            figures[path].push(paths[path](counts[path]));
        }
    }
    let ratios = |of: usize, to: usize| {
        Samples::from_values(
            figures[of]
                .iter()
                .zip(&figures[to])
                .map(|(a, b)| a / b)
                .collect(),
        )
    };
    let (against_parking, against_naive) = (ratios(0, 1), ratios(0, 2));
    let [ready, parking, naive] = figures.map(Samples::from_values);
    LoadRow {
        competitors,
        ready,
        parking,
        naive,
        against_parking,
        against_naive,
    }
}

/// About how long each path runs in one round of one load.
const ROUND_TIME: Duration = Duration::from_millis(40);

/// Prints the `busy` table. `smoke`: one competitor briefly, tiny counts.
pub fn print_busy(bridge: &Bridge, smoke: bool, rounds: usize, calls: usize) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let loads: Vec<usize> = if smoke {
        vec![0, 1]
    } else {
        vec![0, 1, cores, 2 * cores]
    };
    let parking = Bridge::builder()
        .spin_wait(false)
        .build()
        .expect("bridge starts");
    let naive = NaiveBridge::start();
    let mut ready_path = |calls| crate::bridge_loop(bridge, "bench_ready(s, 1)", calls);
    let mut parking_path = |calls| crate::bridge_loop(&parking, "bench_ready(s, 1)", calls);
    let mut naive_path = |calls| crate::engine_loop(naive.engine(), "bench_ready(s, 1)", calls);
    let started = Instant::now();
    let rows: Vec<LoadRow> = loads
        .iter()
        .map(|&competitors| {
            measure_load(
                competitors,
                rounds,
                calls,
                [&mut ready_path, &mut parking_path, &mut naive_path],
            )
        })
        .collect();
    println!(
        "\nbusy: a ready call beside competing processes spinning at normal priority \
         ({cores} cores; medians of {rounds} interleaved rounds of ~{} ms each; {:.0} s)",
        ROUND_TIME.as_millis(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "  {:<12} {:>13} {:>17} {:>11} {:>15} {:>12}",
        "competitors", "bridge_ready", "spin_wait(false)", "naive", "ready/no-spin", "ready/naive"
    );
    let mut missed = Vec::new();
    for row in &rows {
        let label = match row.competitors {
            0 => "0 (quiet)".to_owned(),
            n => n.to_string(),
        };
        let (to_parking, to_naive) = (row.against_parking.median(), row.against_naive.median());
        println!(
            "  {label:<12} {:>10.0} ns {:>14.0} ns {:>8.0} ns {:>14.2}× {:>11.2}×",
            row.ready.median(),
            row.parking.median(),
            row.naive.median(),
            to_parking,
            to_naive
        );
        if row.competitors > 0 && (to_parking > 1.1 || to_naive >= 1.0) {
            missed.push(label);
        }
    }
    println!(
        "  target beside competitors: ready/no-spin ≤ 1.10 and ready/naive < 1.00; {}",
        if missed.is_empty() {
            "met".to_owned()
        } else {
            format!("MISSED with {} competitors", missed.join(", "))
        }
    );
}
