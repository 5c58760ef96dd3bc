//! `rhai_run`: runs a `.rhai` file with an async standard library, prints its result as JSON.
//!
//! `cargo run --bin rhai_run -- --help` explains the flags; `examples/scripts/` has scripts
//! to try. The library is written with `#[script_async] mod`s (see `stdlib.rs`), one per group.

mod stdlib;

use bridge_runtime::{registered_functions, Bridge, Error, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const HELP: &str = "\
rhai_run: runs a Rhai script whose functions are async Rust, and prints its result as JSON.

USAGE:
    rhai_run [OPTIONS] <SCRIPT.rhai>

OPTIONS:
    --allow <GROUP>       Lets the script call a group of functions (repeat for more):
                            time     sleep_ms(ms), now_ms()                 (always allowed)
                            files    read_text(path), write_text(path, text), list_dir(path)
                                     (paths inside --dir only)
                            process  exec(program, args, timeout_ms)
                            net      tcp_request(address, request, timeout_ms)
                            http     http_get(url), http_post_json(url, body)
    --dir <PATH>          The directory the files group works in [default: .]
    --timeout <DURATION>  Ends the script after this long: 500ms, 10s, 2m [default: 60s]
    --set <NAME=JSON>     Gives the script a variable NAME with this JSON value (repeatable):
                            --set user='{\"id\": 7}'   --set name='\"ada\"'   --set n=3
    -h, --help            Prints this help.

The result goes to stdout as JSON; print() and debug() output, progress (every 2 s for long
scripts) and errors go to stderr.

EXIT CODES:
    0  the script finished; its result is on stdout
    1  the script failed: an error it threw or did not catch (stderr says which, and where)
    2  bad command line, unreadable script, or bad --set value
    3  the script does not parse
    4  the script ran past --timeout
";

/// What the command line asked for.
struct Options {
    script: PathBuf,
    groups: Vec<String>,
    dir: PathBuf,
    timeout: Duration,
    inputs: Vec<(String, Value)>,
}

/// The groups `--allow` accepts (`time` is always allowed).
const GROUPS: &[&str] = &["time", "files", "process", "net", "http"];

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("rhai_run: {problem}\n(rhai_run --help lists the options)");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(result) => {
            println!("{result:#}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("rhai_run: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// Why the run failed, and the exit code that says so.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: String) -> Self {
        Self { code: 2, message }
    }
}

fn run(options: &Options) -> Result<Value, Failure> {
    let source = std::fs::read_to_string(&options.script)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", options.script.display())))?;
    let mut builder = Bridge::builder()
        .state(stdlib::FileRoot(options.dir.clone()))
        .state(stdlib::HttpClient(reqwest::Client::new()))
        .script_timeout(options.timeout)
        .on_print(|text| eprintln!("{text}"))
        .on_debug(|text| eprintln!("[debug] {text}"));
    for group in &options.groups {
        builder = builder.allow_group(group);
    }
    let bridge = builder.build().map_err(|e| Failure::usage(e.to_string()))?;
    let name = options.script.display().to_string();
    let mut script = bridge.script(source).name(name);
    for (input, value) in &options.inputs {
        script = script.with(input, value);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start a runtime: {e}")))?;
    let outcome = runtime.block_on(with_progress(script.spawn()));
    outcome.map_err(|error| Failure {
        code: match &error {
            Error::Syntax { .. } => 3,
            Error::Timeout { .. } => 4,
            Error::Input { .. } | Error::Config(_) => 2,
            _ => 1,
        },
        message: describe(&error),
    })
}

/// Waits for the script, saying on stderr every 2 s that it is still running.
async fn with_progress(script: bridge_runtime::ScriptHandle) -> Result<Value, Error> {
    let started = Instant::now();
    let mut script = std::pin::pin!(script);
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    loop {
        tokio::select! {
            outcome = &mut script => return outcome,
            _ = ticks.tick() => {
                eprintln!("rhai_run: still running ({} s)", started.elapsed().as_secs());
            }
        }
    }
}

const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// The error, and for a function the script may not call, the `--allow` that lets it.
fn describe(error: &Error) -> String {
    let text = error.to_string();
    let Error::Script { message, .. } = error else {
        return text;
    };
    let Some(missing) = message.strip_prefix("Function not found: ") else {
        return text;
    };
    let name = missing.split([' ', '(']).next().unwrap_or_default();
    match registered_functions()
        .into_iter()
        .find(|function| function.name() == name)
        .and_then(|function| function.group())
    {
        Some(group) => format!("{text}\n`{name}` is in the `{group}` group: add --allow {group}"),
        None => text,
    }
}

/// The options, `None` for `--help`, or what is wrong with them.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut script = None;
    let mut groups = vec!["time".to_owned()];
    let mut dir = PathBuf::from(".");
    let mut timeout = Duration::from_secs(60);
    let mut inputs = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--allow" => {
                let group = value("--allow")?;
                if !GROUPS.contains(&group.as_str()) {
                    return Err(format!(
                        "--allow {group}: no such group (the groups: {})",
                        GROUPS.join(", ")
                    ));
                }
                if !groups.contains(&group) {
                    groups.push(group);
                }
            }
            "--dir" => dir = PathBuf::from(value("--dir")?),
            "--timeout" => timeout = parse_duration(&value("--timeout")?)?,
            "--set" => inputs.push(parse_input(&value("--set")?)?),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            path if script.is_none() => script = Some(PathBuf::from(path)),
            extra => return Err(format!("one script at a time (also given: {extra})")),
        }
    }
    let script = script.ok_or("give the script to run: rhai_run script.rhai")?;
    if !dir.is_dir() {
        return Err(format!("--dir {}: not a directory", dir.display()));
    }
    Ok(Some(Options {
        script,
        groups,
        dir,
        timeout,
        inputs,
    }))
}

/// `500ms`, `10s`, `2m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let amount: u64 = number.parse().map_err(|_| {
        format!("--timeout {text}: write a whole number and a unit, as 500ms, 10s or 2m")
    })?;
    let duration = match unit {
        "ms" => Duration::from_millis(amount),
        "s" | "" => Duration::from_secs(amount),
        "m" => Duration::from_secs(amount.saturating_mul(60)),
        _ => return Err(format!("--timeout {text}: the units are ms, s and m")),
    };
    if duration.is_zero() {
        return Err(format!("--timeout {text}: must be above zero"));
    }
    Ok(duration)
}

/// `name=json`.
fn parse_input(text: &str) -> Result<(String, Value), String> {
    let (name, json) = text
        .split_once('=')
        .ok_or_else(|| format!("--set {text}: write it as NAME=JSON"))?;
    let value = serde_json::from_str(json)
        .map_err(|e| format!("--set {name}: the value is not JSON ({e}); a string needs quotes: --set {name}='\"text\"'"))?;
    Ok((name.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_their_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[test]
    fn paths_cannot_leave_the_runner_directory() {
        let root = std::env::temp_dir();
        assert!(stdlib::inside_root(&root, "notes/a.txt").is_ok());
        assert!(stdlib::inside_root(&root, "../etc/passwd").is_err());
        assert!(stdlib::inside_root(&root, "/etc/passwd").is_err());
        assert!(stdlib::inside_root(&root, "a/../../b").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_runner_directory_is_refused() {
        let root = std::env::temp_dir().join(format!("rhai-run-link-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let link = root.join("elsewhere");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("/", &link).unwrap();
        let outcome = stdlib::inside_root(&root, "elsewhere/etc/passwd");
        std::fs::remove_dir_all(&root).unwrap();
        let message = outcome.unwrap_err();
        assert!(message.contains("resolves outside"), "{message}");
    }
}
