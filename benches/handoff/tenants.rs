//! Fairness between tenants: how long a benign script (one ready call) takes while another
//! tenant keeps the engine threads busy with endless loops, against the same script alone.

use bridge_runtime::{Bridge, ScriptRun};
use std::time::{Duration, Instant};

/// Latencies in ns, sorted.
struct Latencies(Vec<f64>);

impl Latencies {
    fn percentile(&self, percent: usize) -> f64 {
        let index = (self.0.len() * percent / 100).min(self.0.len() - 1);
        self.0[index]
    }
}

fn keyed<'a>(script: ScriptRun<'a>, tenant: Option<&str>) -> ScriptRun<'a> {
    match tenant {
        Some(tenant) => script.tenant(tenant),
        None => script,
    }
}

/// `samples` benign runs, one after another, each timed from submission to result; `busy`
/// endless scripts of another tenant run throughout (with `tenants` off, none has a tenant key).
fn benign_latencies(busy: usize, samples: usize, tenants: bool) -> Latencies {
    let bridge = Bridge::builder()
        .max_engine_threads(2)
        .build()
        .expect("bridge starts");
    let with_tenant = |script, tenant| keyed(script, tenants.then_some(tenant));
    let hogs: Vec<_> = (0..busy)
        .map(|_| {
            with_tenant(bridge.script("loop {}"), "busy")
                .timeout(Duration::from_secs(600))
                .spawn()
        })
        .collect();
    // Let the busy scripts take their places and their first turns.
    std::thread::sleep(Duration::from_millis(50));
    let mut latencies: Vec<f64> = (0..samples)
        .map(|_| {
            let started = Instant::now();
            let out = with_tenant(bridge.script("bench_ready(1, 2) + 1"), "benign")
                .run()
                .expect("runs");
            assert_eq!(out, 4);
            started.elapsed().as_nanos() as f64
        })
        .collect();
    for hog in &hogs {
        hog.cancel();
    }
    for hog in hogs {
        assert!(hog.join().is_err(), "an endless script only ends stopped");
    }
    latencies.sort_by(f64::total_cmp);
    Latencies(latencies)
}

/// Prints the fairness rows: p50 and p99 of a benign script beside 0, 4 and 200 busy scripts of
/// another tenant, as multiples of the same run's alone figures; and, for contrast, beside 200
/// without tenant keys (first in, first out).
pub fn print_tenants(smoke: bool) {
    // Without tenant keys a benign run waits for every busy script's turn: a few runs show it.
    let (samples, counts, untenanted, untenanted_samples) = if smoke {
        (5, [0, 4, 20], 20, 3)
    } else {
        (200, [0, 4, 200], 200, 5)
    };
    println!(
        "\ntenants: a benign script (one ready call) beside another tenant's endless scripts, \
         2 engine threads, {samples} runs each"
    );
    println!(
        "{:<34} {:>10} {:>10}  against alone",
        "beside", "p50", "p99"
    );
    let alone = benign_latencies(0, samples, true);
    let row = |name: &str, latencies: &Latencies| {
        let (p50, p99) = (latencies.percentile(50), latencies.percentile(99));
        println!(
            "{name:<34} {:>7.0} µs {:>7.0} µs  p50 {:.1}×, p99 {:.1}×",
            p50 / 1e3,
            p99 / 1e3,
            p50 / alone.percentile(50),
            p99 / alone.percentile(99),
        );
    };
    row("nothing", &alone);
    for busy in counts.into_iter().skip(1) {
        row(
            &format!("{busy} busy scripts, another tenant"),
            &benign_latencies(busy, samples, true),
        );
    }
    row(
        &format!("{untenanted} busy scripts, no tenant keys"),
        &benign_latencies(untenanted, untenanted_samples, false),
    );
}
