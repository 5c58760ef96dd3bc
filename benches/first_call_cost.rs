//! What a call costs the first time a script makes it, by number of parameters.
//!
//! Every parameter is registered as a wildcard (`Dynamic`); Rhai finds such a function by trying
//! combinations of wildcard positions (up to 2^n) and caches the answer for the rest of the script
//! from the second call on. This prints what the first three calls of a script cost, per arity,
//! as medians over fresh scripts.
//! `cargo bench --bench first_call_cost` (the bench profile is optimised, as the figures need).

use bridge_runtime::{script_async, Bridge};
use std::time::{Duration, Instant};

#[script_async]
async fn one(a: i64) -> i64 {
    a
}

#[script_async]
async fn four(a: i64, b: i64, c: i64, d: i64) -> i64 {
    a + b + c + d
}

#[script_async]
#[allow(clippy::too_many_arguments)]
async fn eight(a: i64, b: i64, c: i64, d: i64, e: i64, f: i64, g: i64, h: i64) -> i64 {
    a + b + c + d + e + f + g + h
}

#[script_async]
#[allow(clippy::too_many_arguments)]
async fn twelve(
    a: i64,
    b: i64,
    c: i64,
    d: i64,
    e: i64,
    f: i64,
    g: i64,
    h: i64,
    i: i64,
    j: i64,
    k: i64,
    l: i64,
) -> i64 {
    a + b + c + d + e + f + g + h + i + j + k + l
}

#[script_async]
#[allow(clippy::too_many_arguments)]
async fn sixteen(
    a: i64,
    b: i64,
    c: i64,
    d: i64,
    e: i64,
    f: i64,
    g: i64,
    h: i64,
    i: i64,
    j: i64,
    k: i64,
    l: i64,
    m: i64,
    n: i64,
    o: i64,
    p: i64,
) -> i64 {
    a + b + c + d + e + f + g + h + i + j + k + l + m + n + o + p
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() -> Result<(), bridge_runtime::Error> {
    let bridge = Bridge::new()?;
    // The cost of running any script at all, subtracted from the first call.
    let overhead = median(
        (0..31)
            .map(|_| timed(&bridge, "()"))
            .collect::<Result<_, _>>()?,
    );
    println!(
        "{:>6} {:>12} {:>12} {:>12}",
        "params", "1st call", "2nd call", "3rd call"
    );
    for (name, arity) in [
        ("one", 1),
        ("four", 4),
        ("eight", 8),
        ("twelve", 12),
        ("sixteen", 16),
    ] {
        let call = format!("{name}({});", vec!["1"; arity].join(", "));
        let mut totals = Vec::new();
        for calls in 1..=3 {
            let script = call.repeat(calls);
            let samples = (0..31).map(|_| timed(&bridge, &script));
            totals.push(median(samples.collect::<Result<_, _>>()?));
        }
        println!(
            "{arity:>6} {:>9.1} µs {:>9.1} µs {:>9.1} µs",
            micros(totals[0].saturating_sub(overhead)),
            micros(totals[1].saturating_sub(totals[0])),
            micros(totals[2].saturating_sub(totals[1])),
        );
    }
    Ok(())
}

fn timed(bridge: &Bridge, script: &str) -> Result<Duration, bridge_runtime::Error> {
    let started = Instant::now();
    bridge.run(script)?;
    Ok(started.elapsed())
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
