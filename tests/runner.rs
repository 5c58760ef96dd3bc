//! The runner, end to end: `rhai_run` run as a process on the scripts in `examples/scripts/`,
//! against a local HTTP server and TCP service this test starts (no internet).

use axum::routing::{get, post};
use axum::{Json, Router};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/scripts")
        .join(name)
}

fn rhai_run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rhai_run"))
        .args(args)
        .output()
        .expect("the runner starts")
}

fn stdout_json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_lists_every_option_group_and_exit_code() {
    let output = rhai_run(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "--allow",
        "--dir",
        "--timeout",
        "--set",
        "files",
        "process",
        "net",
        "http",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
    assert!(help.contains("4  the script ran past --timeout"), "{help}");
}

#[test]
fn a_script_gets_its_inputs_and_its_result_is_json_on_stdout() {
    let hello = script("hello.rhai");
    let output = rhai_run(&[hello.to_str().unwrap(), "--set", r#"name="Ada""#]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout_json(&output),
        serde_json::json!({ "greeting": "Hello, Ada!", "slept_at_least_20_ms": true })
    );
}

#[test]
fn files_stay_inside_the_chosen_directory_and_need_their_group() {
    let dir = std::env::temp_dir().join(format!("rhai-run-notes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let notes = script("notes.rhai");
    let (notes, dir_arg) = (notes.to_str().unwrap(), dir.to_str().unwrap());

    let output = rhai_run(&[notes, "--allow", "files", "--dir", dir_arg]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let result = stdout_json(&output);
    assert_eq!(result["note"], "remember the milk");
    assert_eq!(result["listed"], true);
    assert!(
        result["escape_refused"]
            .as_str()
            .unwrap()
            .contains("leaves the runner's directory"),
        "{result}"
    );
    assert!(dir.join("note.txt").exists());

    let refused = rhai_run(&[notes, "--dir", dir_arg]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert!(
        message.contains("Function not found: write_text"),
        "{message}"
    );
    assert!(message.contains("add --allow files"), "{message}");
    assert!(message.contains("line 3"), "{message}");
}

#[cfg(unix)]
#[test]
fn a_process_runs_and_one_past_its_time_limit_is_killed() {
    let commands = script("commands.rhai");
    let started = Instant::now();
    let output = rhai_run(&[commands.to_str().unwrap(), "--allow", "process"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let result = stdout_json(&output);
    assert_eq!(result["status"], 0);
    assert_eq!(result["stdout"], "hello from a process\n");
    assert_eq!(
        result["killed"],
        "sleep did not finish within 200 ms and was killed"
    );
    // `sleep 10` was killed, not waited for (generous bound).
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

/// A local HTTP server (`GET /status`, `POST /report` echoing its JSON) and a TCP service that
/// answers `pong:` and what it read; their addresses.
fn start_services() -> (String, String) {
    let (addresses, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addresses_are = (http.local_addr().unwrap(), tcp.local_addr().unwrap());
            addresses.send(addresses_are).unwrap();
            let router = Router::new()
                .route("/status", get(|| async { "all good" }))
                .route(
                    "/report",
                    post(|Json(body): Json<serde_json::Value>| async move {
                        format!("received {body}")
                    }),
                );
            tokio::spawn(async move { axum::serve(http, router).await });
            loop {
                let (mut stream, _) = tcp.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut request = String::new();
                    stream.read_to_string(&mut request).await.unwrap();
                    let answer = format!("pong:{request}");
                    stream.write_all(answer.as_bytes()).await.unwrap();
                });
            }
        });
    });
    let (http, tcp) = received.recv().unwrap();
    (format!("http://{http}"), tcp.to_string())
}

#[test]
fn http_and_tcp_calls_reach_local_services() {
    let (base_url, echo) = start_services();
    let fetch = script("fetch.rhai");
    let (base_url, echo) = (format!("base_url={base_url:?}"), format!("echo={echo:?}"));
    let args = [
        fetch.to_str().unwrap(),
        "--allow",
        "http",
        "--allow",
        "net",
        "--set",
        &base_url,
        "--set",
        &echo,
    ];
    let output = rhai_run(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout_json(&output),
        serde_json::json!({
            "page": "all good",
            "echoed": "pong:ping",
            "posted": r#"received {"echoed":"pong:ping","status":200}"#,
        })
    );
}

#[test]
fn exit_codes_say_how_the_run_ended() {
    let broken = rhai_run(&[script("broken.rhai").to_str().unwrap()]);
    assert_eq!(broken.status.code(), Some(3));
    assert!(
        stderr(&broken).contains("syntax error"),
        "{}",
        stderr(&broken)
    );
    assert!(stderr(&broken).contains("line 2"), "{}", stderr(&broken));

    let long = script("long.rhai");
    let long = long.to_str().unwrap();
    let started = Instant::now();
    let timed_out = rhai_run(&[long, "--set", "steps=100", "--timeout", "300ms"]);
    assert_eq!(timed_out.status.code(), Some(4), "{}", stderr(&timed_out));
    assert!(
        stderr(&timed_out).contains("300 ms"),
        "{}",
        stderr(&timed_out)
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    let bad_input = rhai_run(&[long, "--set", "steps=many"]);
    assert_eq!(bad_input.status.code(), Some(2));
    assert!(stderr(&bad_input).contains("--set steps: the value is not JSON"));

    let missing = rhai_run(&["no/such/script.rhai"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read no/such/script.rhai"));

    let unknown = rhai_run(&[long, "--allow", "everything"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("--allow everything: no such group"));

    // The script threw: exit 1, the thrown value on stderr.
    let thrown = std::env::temp_dir().join(format!("rhai-run-throw-{}.rhai", std::process::id()));
    std::fs::write(&thrown, r#"throw "out of stock";"#).unwrap();
    let threw = rhai_run(&[thrown.to_str().unwrap()]);
    std::fs::remove_file(&thrown).unwrap();
    assert_eq!(threw.status.code(), Some(1));
    assert!(
        stderr(&threw).contains("out of stock"),
        "{}",
        stderr(&threw)
    );
}

#[test]
fn a_long_script_reports_progress_on_stderr() {
    let long = script("long.rhai");
    let output = rhai_run(&[long.to_str().unwrap(), "--set", "steps=6"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout_json(&output), 6);
    assert!(
        stderr(&output).contains("rhai_run: still running (2 s)"),
        "{}",
        stderr(&output)
    );
}
