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

/// A directory of its own for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let path = std::env::temp_dir().join(format!("rhai-run-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// A subdirectory, made.
    fn dir(&self, name: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// `source` written to `name`; its path as text.
    fn script(&self, name: &str, source: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, source).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The names in `dir`.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
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
        "--modules",
        "--max-operations",
        "--max-string-size",
        "--max-array-size",
        "--max-script-size",
        "--max-call-depth",
        "--max-processes",
        "files",
        "process",
        "net",
        "http",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
    assert!(help.contains("4  the script ran past --timeout"), "{help}");
    assert!(help.contains("130  interrupted"), "{help}");
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
    assert_eq!(result["ended"], "exited with status 0");
    assert_eq!(
        result["killed"],
        "sleep did not finish within 200 ms: killed it and its process group"
    );
    // `sleep 10` was killed, not waited for (generous bound).
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

/// A local HTTP server (`GET /status`, `POST /report` echoing its JSON, `GET /big`: 5 MB) and a
/// TCP service that answers `pong:` and what it read (to `big`: 5 MB); their addresses.
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
                .route("/big", get(|| async { "x".repeat(FIVE_MB) }))
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
                    let answer = match request.as_str() {
                        "big" => "x".repeat(FIVE_MB),
                        _ => format!("pong:{request}"),
                    };
                    stream.write_all(answer.as_bytes()).await.unwrap();
                });
            }
        });
    });
    let (http, tcp) = received.recv().unwrap();
    (format!("http://{http}"), tcp.to_string())
}

/// More than the 4 MiB the runner reads of any output.
const FIVE_MB: usize = 5_000_000;

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

#[cfg(unix)]
#[test]
fn a_write_through_a_dangling_link_creates_nothing_outside() {
    let temp = TempDir::new("dangling");
    let (root, outside) = (temp.dir("root"), temp.dir("outside"));
    std::os::unix::fs::symlink(outside.join("new"), root.join("dangling")).unwrap();
    let script = temp.script(
        "write.rhai",
        r#"let said = "written"; try { write_text("dangling", "escaped"); } catch (e) { said = e.message; } said"#,
    );
    let output = rhai_run(&[&script, "--allow", "files", "--dir", root.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let refusal = stdout_json(&output);
    assert!(
        refusal.as_str().unwrap().contains("resolves outside"),
        "{refusal}"
    );
    assert_eq!(names_in(&outside), Vec::<String>::new());
}

/// A thread swaps `root/sub` between a real directory and a link to `outside` as fast as it
/// can, while the script writes into `sub/` (the race a check-then-open-by-name loses).
#[cfg(unix)]
#[test]
fn swapping_a_directory_for_a_link_mid_run_never_writes_outside() {
    let temp = TempDir::new("swap");
    let (root, outside) = (temp.dir("root"), temp.dir("outside"));
    let (real, link, sub) = (root.join("real"), root.join("link"), root.join("sub"));
    std::fs::create_dir(&real).unwrap();
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = std::thread::spawn({
        let (stop, real, sub) = (stop.clone(), real.clone(), sub.clone());
        move || {
            let mut swaps = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for (from, to) in [(&real, &sub), (&sub, &real), (&link, &sub), (&sub, &link)] {
                    std::fs::rename(from, to).unwrap();
                }
                swaps += 1;
            }
            swaps
        }
    });
    let script = temp.script(
        "writes.rhai",
        r#"
        let written = 0;
        let refused = 0;
        let i = 0;
        let ends_at = now_ms() + 3000;
        while now_ms() < ends_at {
            try { write_text(`sub/f${i}`, "x"); written += 1; } catch (e) { refused += 1; }
            i += 1;
        }
        #{ written: written, refused: refused }
        "#,
    );
    let output = rhai_run(&[
        &script,
        "--allow",
        "files",
        "--dir",
        root.to_str().unwrap(),
        "--max-operations",
        "none",
    ]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let counts = stdout_json(&output);
    // The race really ran: writes landed inside while the swapper kept swapping.
    assert!(counts["written"].as_u64().unwrap() > 0, "{counts}");
    assert!(swaps > 100, "only {swaps} swaps");
    let escaped = names_in(&outside);
    assert!(
        escaped.is_empty(),
        "{} files written outside ({counts}), as {:?}",
        escaped.len(),
        &escaped[..escaped.len().min(5)]
    );
    assert!(!names_in(&real).is_empty());
}

#[test]
fn import_needs_modules_and_then_loads_only_from_the_directory() {
    let temp = TempDir::new("modules");
    let (root, outside) = (temp.dir("root"), temp.dir("outside"));
    std::fs::write(outside.join("evil.rhai"), "export const secret = 7;").unwrap();
    std::fs::write(root.join("lib.rhai"), "fn double(x) { x * 2 }").unwrap();
    let evil = outside.join("evil");
    let root_arg = root.to_str().unwrap();

    // Without --modules: no import at all, not even an absolute path.
    let absolute = temp.script(
        "absolute.rhai",
        &format!("import {:?} as m; m::secret", evil.to_str().unwrap()),
    );
    let refused = rhai_run(&[&absolute, "--dir", root_arg]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("needs --modules"),
        "{}",
        stderr(&refused)
    );

    // With it: a module in --dir loads...
    let local = temp.script("local.rhai", r#"import "lib" as lib; lib::double(21)"#);
    let loaded = rhai_run(&[&local, "--modules", "--dir", root_arg]);
    assert_eq!(loaded.status.code(), Some(0), "{}", stderr(&loaded));
    assert_eq!(stdout_json(&loaded), 42);

    // ...an absolute path or `..` does not...
    let refused = rhai_run(&[&absolute, "--modules", "--dir", root_arg]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("leaves the runner's directory"),
        "{}",
        stderr(&refused)
    );
    let up = temp.script("up.rhai", r#"import "../outside/evil" as m; m::secret"#);
    let refused = rhai_run(&[&up, "--modules", "--dir", root_arg]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("leaves the runner's directory"));

    // ...a module that imports itself ends with an error, not a crash...
    std::fs::write(
        root.join("me.rhai"),
        r#"import "me" as m; export const x = 1;"#,
    )
    .unwrap();
    let looping = temp.script("looping.rhai", r#"import "me" as m; m::x"#);
    let refused = rhai_run(&[&looping, "--modules", "--dir", root_arg]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("imports nest deeper than --max-call-depth (32)"),
        "{}",
        stderr(&refused)
    );

    // ...nor a link that leads out.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.join("evil.rhai"), root.join("link.rhai")).unwrap();
        let linked = temp.script("linked.rhai", r#"import "link" as m; m::secret"#);
        let refused = rhai_run(&[&linked, "--modules", "--dir", root_arg]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(
            stderr(&refused).contains("resolves outside"),
            "{}",
            stderr(&refused)
        );
    }
}

#[test]
fn the_sandbox_limits_hold_by_default_and_flags_raise_them() {
    let temp = TempDir::new("limits");
    let doubling = temp.script(
        "doubling.rhai",
        "let s = \"x\"; for i in 0..doublings { s += s; } s.len()",
    );
    let started = Instant::now();
    let stopped = rhai_run(&[&doubling, "--set", "doublings=40"]);
    assert_eq!(stopped.status.code(), Some(1), "{}", stderr(&stopped));
    assert!(
        stderr(&stopped).contains("Length of string too large"),
        "{}",
        stderr(&stopped)
    );
    assert!(
        stderr(&stopped).contains("--max-string-size raises it"),
        "{}",
        stderr(&stopped)
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    let raised = rhai_run(&[
        &doubling,
        "--set",
        "doublings=20",
        "--max-string-size",
        "1M",
    ]);
    assert_eq!(raised.status.code(), Some(0), "{}", stderr(&raised));
    assert_eq!(stdout_json(&raised), 1 << 20);

    let counting = temp.script("count.rhai", "let n = 0; for i in 0..steps { n += 1; } n");
    let lowered = rhai_run(&[
        &counting,
        "--set",
        "steps=10000",
        "--max-operations",
        "1000",
    ]);
    assert_eq!(lowered.status.code(), Some(1));
    assert!(
        stderr(&lowered).contains("Too many operations"),
        "{}",
        stderr(&lowered)
    );
    assert!(
        stderr(&lowered).contains("--max-operations raises it"),
        "{}",
        stderr(&lowered)
    );
    let long_source = format!("let n = 0;\n{}n", "n += 1;\n".repeat(10_000));
    let long = temp.script("long.rhai", &long_source);
    let refused = rhai_run(&[&long]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("--max-script-size raises it"),
        "{}",
        stderr(&refused)
    );
    let allowed = rhai_run(&[&long, "--max-script-size", "1M"]);
    assert_eq!(stdout_json(&allowed), 10_000);
    let items = temp.script(
        "items.rhai",
        "let a = []; for i in 0..20000 { a.push(i); } a.len()",
    );
    assert_eq!(rhai_run(&[&items]).status.code(), Some(1));
    let more = rhai_run(&[&items, "--max-array-size", "none"]);
    assert_eq!(stdout_json(&more), 20000);

    let bad = rhai_run(&[&counting, "--max-string-size", "0"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("--max-string-size 0: must be above zero"),
        "{}",
        stderr(&bad)
    );
}

/// Whether process `pid` has ended (gone, or a zombie nobody reaped yet), within 5 s.
#[cfg(target_os = "linux")]
fn ends_soon(pid: &str) -> bool {
    let stat = format!("/proc/{pid}/stat");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match std::fs::read_to_string(&stat) {
            Err(_) => return true,
            Ok(text)
                if text
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .starts_with('Z') =>
            {
                return true
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    false
}

#[cfg(target_os = "linux")]
#[test]
fn a_process_that_leaves_one_running_is_reported_exited_and_the_rest_killed() {
    let temp = TempDir::new("leftover");
    // The grandchild holds stdout open for 30 s: the runner must not wait for it.
    let script = temp.script(
        "leftover.rhai",
        r#"exec("sh", ["-c", "sleep 30 & echo $!"], 20000)"#,
    );
    let started = Instant::now();
    let output = rhai_run(&[&script, "--allow", "process"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let finished = stdout_json(&output);
    assert_eq!(finished["status"], 0, "{finished}");
    assert_eq!(finished["killed_leftovers"], true, "{finished}");
    assert_eq!(
        finished["ended"],
        "exited with status 0; the processes it left running were killed"
    );
    let grandchild = finished["stdout"].as_str().unwrap().trim().to_owned();
    assert!(ends_soon(&grandchild), "{grandchild} is still running");
}

#[cfg(target_os = "linux")]
#[test]
fn a_process_past_its_time_limit_is_killed_with_all_it_started() {
    let temp = TempDir::new("timeout-group");
    let pid_file = temp.0.join("pid");
    let script = temp.script(
        "slow.rhai",
        r#"exec("sh", ["-c", `sleep 30 & echo $! > ${pid_file}; wait`], 2000)"#,
    );
    let pid_file_arg = format!("pid_file={:?}", pid_file.to_str().unwrap());
    let output = rhai_run(&[&script, "--allow", "process", "--set", &pid_file_arg]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("sh did not finish within 2000 ms: killed it and its process group"),
        "{}",
        stderr(&output)
    );
    let grandchild = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(ends_soon(&grandchild), "{grandchild} is still running");
}

#[cfg(unix)]
#[test]
fn processes_past_max_processes_are_refused_until_one_ends() {
    let temp = TempDir::new("max-processes");
    let script = temp.script(
        "many.rhai",
        r#"
        let a = start(Fn("exec"), ["sleep", ["3"], 10000]);
        let b = start(Fn("exec"), ["sleep", ["3"], 10000]);
        sleep_ms(200);
        let third = "ran";
        try { exec("true", [], 5000); } catch (e) { third = e.message; }
        wait(a);
        wait(b);
        #{ third: third, after: exec("true", [], 5000).ended }
        "#,
    );
    let output = rhai_run(&[&script, "--allow", "process", "--max-processes", "2"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let result = stdout_json(&output);
    assert_eq!(
        result["third"],
        "cannot start true: 2 processes are already running, the most --max-processes allows",
        "{result}"
    );
    assert_eq!(result["after"], "exited with status 0");
}

#[cfg(unix)]
#[test]
fn output_past_4_mib_is_an_error_saying_so_in_every_group() {
    let (base_url, echo) = start_services();
    let temp = TempDir::new("cut");
    let script = temp.script(
        "big.rhai",
        r#"
        let said = #{};
        try { exec("head", ["-c", "5000000", "/dev/zero"], 10000); } catch (e) { said.exec = e.message; }
        try { tcp_request(echo, "big", 10000); } catch (e) { said.tcp = e.message; }
        try { http_get(`${base_url}/big`); } catch (e) { said.http = e.message; }
        try { read_text("big.txt"); } catch (e) { said.files = e.message; }
        said
        "#,
    );
    let files = temp.dir("files");
    std::fs::write(files.join("big.txt"), "x".repeat(FIVE_MB)).unwrap();
    let (base_url, echo) = (format!("base_url={base_url:?}"), format!("echo={echo:?}"));
    let output = rhai_run(&[
        &script,
        "--allow",
        "files",
        "--dir",
        files.to_str().unwrap(),
        "--allow",
        "process",
        "--allow",
        "net",
        "--allow",
        "http",
        "--set",
        &base_url,
        "--set",
        &echo,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let said = stdout_json(&output);
    for (group, what) in [
        ("exec", "head's stdout"),
        ("tcp", "the answer from"),
        ("http", "the body from"),
        ("files", "big.txt"),
    ] {
        let message = said[group]
            .as_str()
            .unwrap_or_else(|| panic!("{group}: {said}"));
        assert!(message.contains(what), "{group}: {message}");
        assert!(
            message.contains("passed 4194304 bytes (4 MiB), the most the runner reads: cut there"),
            "{group}: {message}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_cancels_the_script_and_kills_its_processes() {
    let temp = TempDir::new("sigterm");
    let pid_file = temp.0.join("pid");
    let script = temp.script(
        "waits.rhai",
        r#"exec("sh", ["-c", `sleep 30 & echo $! > ${pid_file}; wait`], 60000)"#,
    );
    let pid_file_arg = format!("pid_file={:?}", pid_file.to_str().unwrap());
    let runner = Command::new(env!("CARGO_BIN_EXE_rhai_run"))
        .args([&script, "--allow", "process", "--set", &pid_file_arg])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&pid_file).map_or(true, |pid| !pid.ends_with('\n')) {
        assert!(
            Instant::now() < deadline,
            "the script never started its process"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let runner_pid = libc::pid_t::try_from(runner.id()).unwrap();
    // SAFETY: sends a signal to the runner this test started.
    assert_eq!(unsafe { libc::kill(runner_pid, libc::SIGTERM) }, 0);
    let output = runner.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("terminated (SIGTERM): cancelling the script"),
        "{}",
        stderr(&output)
    );
    let grandchild = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(ends_soon(&grandchild), "{grandchild} is still running");
}
