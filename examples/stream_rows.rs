//! Streamed rows against collected rows: a script iterates 100,000 rows of a real sqlx SQLite
//! table (in memory), once as a `ScriptStream` over sqlx's `fetch` (pulled in bounded batches),
//! once as the same rows collected into a `Vec` and returned at once. Prints rows/s and peak
//! RSS (`VmHWM`) of each, each measured in a child process of its own so that one's peak is not
//! the other's. Not run by CI: `cargo run --release --example stream_rows`.

use bridge_runtime::{script_async, Bridge, ScriptStream};
use futures_util::StreamExt;
use serde::Serialize;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::SqlitePool;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

const ROWS: i64 = 100_000;

/// The table's pool, made on the bridge's worker by `rows_setup` (a `fetch` stream borrows it,
/// and must be `'static`).
static POOL: OnceLock<SqlitePool> = OnceLock::new();

const SELECT: &str = "SELECT id, name, score FROM readings ORDER BY id";

/// One row as the script sees it.
#[derive(Serialize)]
struct Reading {
    id: i64,
    name: String,
    score: f64,
}

fn reading((id, name, score): (i64, String, f64)) -> Reading {
    Reading { id, name, score }
}

/// Makes the table of `n` rows.
#[script_async]
async fn rows_setup(n: i64) -> Result<i64, String> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query("CREATE TABLE readings (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)")
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query(
        "INSERT INTO readings (id, name, score)
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?)
         SELECT x, 'reading number ' || x, x * 0.5 FROM c",
    )
    .bind(n)
    .execute(&pool)
    .await
    .map_err(|e| e.to_string())?;
    POOL.set(pool).map_err(|_| "set up twice".to_owned())?;
    Ok(n)
}

/// Every row, streamed.
#[script_async]
async fn rows_stream() -> ScriptStream<Reading> {
    let pool = POOL.get().expect("rows_setup first");
    let rows = sqlx::query_as::<_, (i64, String, f64)>(SELECT).fetch(pool);
    ScriptStream::try_new(rows.map(|row| row.map(reading)))
}

/// Every row, collected.
#[script_async]
async fn rows_vec() -> Result<Vec<Reading>, String> {
    let pool = POOL.get().expect("rows_setup first");
    let rows = sqlx::query_as::<_, (i64, String, f64)>(SELECT)
        .fetch_all(pool)
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows.into_iter().map(reading).collect())
}

/// The peak resident set of this process, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// In the child: sets up, runs one way, prints `rows seconds peak_kib`.
fn child(way: &str) {
    let bridge = Bridge::new().expect("bridge");
    bridge.run(format!("rows_setup({ROWS})")).expect("setup");
    let function = match way {
        "stream" => "rows_stream",
        _ => "rows_vec",
    };
    let script = format!(
        "let n = 0; let total = 0.0; for r in {function}() {{ n += 1; total += r.score }} n"
    );
    let started = Instant::now();
    let rows = bridge.run(script).expect("script");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(rows, ROWS);
    println!("{ROWS} {seconds} {}", peak_rss_kib());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, way] = args.as_slice() {
        if flag == "--child" {
            return child(way);
        }
    }
    let exe = std::env::current_exe().expect("own path");
    let mut results = Vec::new();
    for way in ["stream", "vec"] {
        let output = Command::new(&exe)
            .args(["--child", way])
            .output()
            .expect("child");
        let text = String::from_utf8_lossy(&output.stdout);
        let fields: Vec<f64> = text
            .split_whitespace()
            .filter_map(|field| field.parse().ok())
            .collect();
        assert_eq!(
            fields.len(),
            3,
            "child {way} said: {text} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        results.push((way, fields[0] / fields[1], fields[2] / 1024.0));
    }
    let (_, vec_rate, vec_peak) = results[1];
    println!("| rows returned as | rows/s | peak RSS | against Vec (rows/s, RSS) |");
    println!("|---|---:|---:|---|");
    for (way, rate, peak) in &results {
        let name = if *way == "stream" {
            "ScriptStream (fetch)"
        } else {
            "Vec (fetch_all)"
        };
        println!(
            "| {name} | {:.0} | {:.1} MiB | {:.2}x, {:.2}x |",
            rate,
            peak,
            rate / vec_rate,
            peak / vec_peak
        );
    }
}
