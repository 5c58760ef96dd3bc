//! A script that looks up users, asks a (local, real TCP) weather service about their cities,
//! handles the failures, and saves a report with tokio::fs.
//!
//! Run it with `cargo run --example quickstart`.

use bridge_runtime::script_async;
use serde::Serialize;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Serialize)]
struct User {
    id: i64,
    name: String,
    city: String,
}

/// Looks a user up in a pretend database that takes 20 ms to answer.
#[script_async]
async fn fetch_user(id: i64) -> Result<User, String> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (name, city) = match id {
        1 => ("Ada", "London"),
        2 => ("Grace", "Arlington"),
        3 => ("Edsger", "Atlantis"),
        _ => return Err(format!("no user with id {id}")),
    };
    Ok(User {
        id,
        name: name.to_owned(),
        city: city.to_owned(),
    })
}

/// Where the weather service listens; set once `main` has started it.
static WEATHER_SERVICE: OnceLock<std::net::SocketAddr> = OnceLock::new();

/// Asks the weather service over TCP: one line out (the city), one line back.
#[script_async]
async fn forecast(city: &str) -> Result<String, std::io::Error> {
    let address = WEATHER_SERVICE
        .get()
        .ok_or_else(|| std::io::Error::other("the weather service was not started"))?;
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(format!("{city}\n").as_bytes()).await?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).await?;
    match reply.trim().strip_prefix("ERR ") {
        Some(problem) => Err(std::io::Error::other(problem.to_owned())),
        None => Ok(reply.trim().to_owned()),
    }
}

/// Writes the report to a file and returns its path.
#[script_async]
async fn save_report(text: String) -> Result<String, std::io::Error> {
    let path = std::env::temp_dir().join("bridge-quickstart-report.txt");
    tokio::fs::write(&path, text).await?;
    Ok(path.display().to_string())
}

/// A tiny line-based weather service on loopback, run on its own tokio runtime.
fn start_weather_service() -> std::io::Result<tokio::runtime::Runtime> {
    let runtime = tokio::runtime::Runtime::new()?;
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
    WEATHER_SERVICE
        .set(listener.local_addr()?)
        .expect("started once");
    runtime.spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut city = String::new();
                BufReader::new(read).read_line(&mut city).await?;
                let reply = match city.trim() {
                    "London" => "drizzle, 11°C".to_owned(),
                    "Arlington" => "sunny, 24°C".to_owned(),
                    other => format!("ERR no station near {other}"),
                };
                write.write_all(format!("{reply}\n").as_bytes()).await
            });
        }
    });
    Ok(runtime)
}

const SCRIPT: &str = r#"
let lines = [];
let failures = 0;
for id in [1, 2, 3, 4] {
    try {
        let user = fetch_user(id);
        let weather = "unknown";
        try {
            weather = forecast(user.city);
        } catch (err) {
            failures += 1;
            print(`  (script) ${err.function} failed for ${user.name}: ${err.message}`);
        }
        lines.push(`${user.name} in ${user.city}: ${weather}`);
    } catch (err) {
        failures += 1;
        print(`  (script) ${err.function} failed: ${err.message}`);
    }
}
let path = save_report(lines.reduce(|text, line| text + line + "\n", ""));
#{ report: path, lines: lines, failures: failures }
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _weather_runtime = start_weather_service()?;

    println!("Running the report script:");
    let outcome = bridge_runtime::run(SCRIPT)?;
    println!(
        "The script returned:\n{}",
        serde_json::to_string_pretty(&outcome)?
    );

    println!("\nAn error the script does not catch ends the run with its position:");
    match bridge_runtime::run("let who = 2;\nlet u = fetch_user(who * 10);") {
        Ok(value) => println!("  unexpectedly succeeded: {value}"),
        Err(error) => println!("  {error}"),
    }
    Ok(())
}
