//! `rhai_run`: runs a `.rhai` file with an async standard library, prints its result as JSON.
//!
//! `cargo run --bin rhai_run -- --help` explains the flags; `examples/scripts/` has scripts
//! to try. The library is written with `#[script_async] mod`s (see `stdlib.rs`), one per group.

mod modules;
mod stdlib;

use bridge_runtime::registry::registered_functions;
use bridge_runtime::{Bridge, Error, Value};
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
                                     (paths inside --dir only: no `..`, no leading `/`, and no
                                     symbolic link that leads out, even one changed mid-run)
                            process  exec(program, args, timeout_ms): no shell; the program
                                     and all it starts are killed after timeout_ms, and once
                                     it has exited; the result says how it ended
                            net      tcp_request(address, request, timeout_ms)
                            http     http_get(url), http_post_json(url, body)
                          A process's stdout or stderr, a TCP answer, an HTTP body or a file
                          read past 4 MiB is an error that says so (nothing is cut silently).
    --dir <PATH>          The directory the files group and --modules work in [default: .]
    --modules             Lets `import \"name\"` load name.rhai from --dir (same rules as the
                          files group); without it, `import` fails
    --timeout <DURATION>  Ends the script after this long: 500ms, 10s, 2m [default: 60s]
    --set <NAME=JSON>     Gives the script a variable NAME with this JSON value (repeatable):
                            --set user='{\"id\": 7}'   --set name='\"ada\"'   --set n=3
    -h, --help            Prints this help.

LIMITS (those of the library's sandbox, Bridge::sandboxed(), unless changed here; the first
four take a number that may end in K, M or G, or `none` for no limit; the last two a number):
    --max-operations <N>   Rhai operations the script may run       [default: 1000000]
    --max-string-size <N>  bytes in one string                      [default: 64K]
    --max-array-size <N>   items in one array or object map         [default: 10000]
    --max-script-size <N>  bytes of the script, and of each module  [default: 64K]
    --max-call-depth <N>   nested script calls (and imports)        [default: 32]
    --max-processes <N>    exec programs running at once; one more  [default: 8]
                           is an error. What a program starts dies with its process
                           group (one that calls setsid leaves it, and is not bounded).
  Always: no eval, and no closures that capture variables (they can leak memory for good).
  A script past one of the first five fails (exit 1), and stderr names the flag that raises it.

The result goes to stdout as JSON; print() and debug() output, progress (every 2 s for long
scripts) and errors go to stderr.

EXIT CODES:
    0  the script finished; its result is on stdout
    1  the script failed: an error it threw or did not catch, or a limit it passed (stderr
       says which, and where)
    2  bad command line, unreadable script, or bad --set value
    3  the script does not parse
    4  the script ran past --timeout
  130  interrupted (SIGINT, Ctrl-C) or terminated (SIGTERM): the script was cancelled and its
       processes killed (a second signal stops the runner at once)
";

/// What the command line asked for.
struct Options {
    script: PathBuf,
    groups: Vec<String>,
    dir: PathBuf,
    modules: bool,
    timeout: Duration,
    inputs: Vec<(String, Value)>,
    limits: Limits,
}

/// Limits the command line raised or lowered; `None` keeps the sandbox's.
#[derive(Default)]
struct Limits {
    max_operations: Option<u64>,
    max_string_size: Option<usize>,
    max_array_size: Option<usize>,
    max_script_size: Option<usize>,
    max_call_depth: Option<usize>,
    max_processes: usize,
}

/// `Bridge::sandboxed()`'s script size limit, which `--modules` applies to each module too.
const SANDBOX_SCRIPT_SIZE: usize = 64 * 1024;

/// `exec` processes at once, unless `--max-processes` says otherwise.
const DEFAULT_MAX_PROCESSES: usize = 8;

/// The most `--max-processes` accepts.
const MOST_PROCESSES: usize = 1024;

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
    let root = stdlib::FileRoot::open(&options.dir)
        .map_err(|e| Failure::usage(format!("--dir {}: {e}", options.dir.display())))?;
    let limits = &options.limits;
    // Each call is bounded by the script's --timeout and its own timeout_ms, not by the
    // sandbox's 2 s per call (an `exec` may rightly take longer).
    let mut script_limits = bridge_runtime::Limits::sandboxed()
        .script_timeout(options.timeout)
        .call_timeout(options.timeout);
    if let Some(limit) = limits.max_operations {
        script_limits = script_limits.max_operations(limit);
    }
    if let Some(limit) = limits.max_string_size {
        script_limits = script_limits.max_string_size(limit);
    }
    if let Some(limit) = limits.max_array_size {
        script_limits = script_limits.max_array_size(limit).max_map_size(limit);
    }
    if let Some(limit) = limits.max_script_size {
        script_limits = script_limits.max_script_size(limit);
    }
    if let Some(limit) = limits.max_call_depth {
        script_limits = script_limits.max_call_depth(limit);
    }
    let mut builder = Bridge::sandboxed()
        .state(root.clone())
        .state(stdlib::HttpClient(reqwest::Client::new()))
        .state(stdlib::ProcessSlots::new(limits.max_processes))
        .limits(script_limits)
        .on_print(|text| eprintln!("{text}"))
        .on_debug(|text| eprintln!("[debug] {text}"));
    if options.modules {
        let max_size = limits.max_script_size.unwrap_or(SANDBOX_SCRIPT_SIZE);
        builder = builder.configure_engine(move |engine| {
            engine.set_module_resolver(modules::DirModuleResolver::new(root.clone(), max_size));
        });
    }
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
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start a runtime: {e}")))?;
    let outcome = runtime.block_on(async {
        // Listening before the script starts, so that no signal falls in between.
        let signals = Interrupts::listen();
        with_progress(script.spawn(), signals).await
    });
    // Dropping the bridge (here, before exiting) drops the calls still in flight, which kills
    // their processes' groups.
    drop(bridge);
    outcome.map_err(|error| Failure {
        code: match &error {
            Error::Syntax { .. } => 3,
            Error::Timeout { .. } => 4,
            Error::Cancelled => INTERRUPTED,
            Error::Input { .. } | Error::Config(_) => 2,
            _ => 1,
        },
        message: describe(&error, options.modules),
    })
}

/// Waits for the script, saying on stderr every 2 s that it is still running. A SIGINT or
/// SIGTERM cancels it (its calls are dropped, so their processes are killed); a second one ends
/// the runner at once.
async fn with_progress(
    script: bridge_runtime::ScriptHandle,
    mut signals: Interrupts,
) -> Result<Value, Error> {
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
            signal = signals.next() => {
                eprintln!("rhai_run: {signal}: cancelling the script and killing its processes");
                script.cancel();
                break;
            }
        }
    }
    tokio::select! {
        outcome = &mut script => outcome,
        signal = signals.next() => {
            eprintln!("rhai_run: {signal} again: stopping at once");
            std::process::exit(INTERRUPTED.into());
        }
    }
}

/// The exit code after a SIGINT or SIGTERM (128 + SIGINT, as shells report Ctrl-C).
const INTERRUPTED: u8 = 130;

/// SIGINT (Ctrl-C) and SIGTERM, caught so that they end the script and its processes, not only
/// the runner: `exec`'s processes are in process groups of their own, so a terminal's Ctrl-C
/// does not reach them.
struct Interrupts {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Interrupts {
    /// Starts listening (inside a runtime); a signal that cannot be listened to keeps its
    /// default action.
    fn listen() -> Self {
        use tokio::signal::unix::{signal, SignalKind};
        Self {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    /// The next signal, named.
    async fn next(&mut self) -> &'static str {
        async fn received(signal: &mut Option<tokio::signal::unix::Signal>) {
            if let Some(signal) = signal {
                if signal.recv().await.is_some() {
                    return;
                }
            }
            std::future::pending().await
        }
        tokio::select! {
            () = received(&mut self.interrupt) => "interrupted (SIGINT)",
            () = received(&mut self.terminate) => "terminated (SIGTERM)",
        }
    }
}

const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// The error, and for a function the script may not call, the `--allow` that lets it (or for
/// an `import` without `--modules`, that flag).
fn describe(error: &Error, modules: bool) -> String {
    let text = error.to_string();
    let Error::Script { message, .. } = error else {
        return text;
    };
    if !modules && message.starts_with("Module not found") {
        return format!("{text}\n`import` needs --modules, and then loads modules from --dir only");
    }
    if let Some((_, flag)) = LIMIT_ERRORS
        .iter()
        .find(|(start, _)| message.starts_with(start))
    {
        return format!("{text}\n(a limit of the runner's sandbox: {flag} raises it)");
    }
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

/// How Rhai and the bridge say a script passed a limit, and the flag that raises it.
const LIMIT_ERRORS: &[(&str, &str)] = &[
    ("Length of string too large", "--max-string-size"),
    ("Size of array too large", "--max-array-size"),
    ("Size of object map too large", "--max-array-size"),
    ("Too many operations", "--max-operations"),
    ("Stack overflow", "--max-call-depth"),
    ("the script is ", "--max-script-size"),
];

/// The options, `None` for `--help`, or what is wrong with them.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut script = None;
    let mut groups = vec!["time".to_owned()];
    let mut dir = PathBuf::from(".");
    let mut modules = false;
    let mut limits = Limits {
        max_processes: DEFAULT_MAX_PROCESSES,
        ..Limits::default()
    };
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
            "--modules" => modules = true,
            "--max-operations" => {
                limits.max_operations = Some(parse_limit("--max-operations", &value(&arg)?)?)
            }
            "--max-string-size" => {
                limits.max_string_size = Some(parse_size("--max-string-size", &value(&arg)?)?)
            }
            "--max-array-size" => {
                limits.max_array_size = Some(parse_size("--max-array-size", &value(&arg)?)?)
            }
            "--max-script-size" => {
                limits.max_script_size = Some(parse_size("--max-script-size", &value(&arg)?)?)
            }
            "--max-call-depth" => {
                limits.max_call_depth = Some(parse_count("--max-call-depth", &value(&arg)?)?)
            }
            "--max-processes" => {
                let count = parse_count("--max-processes", &value(&arg)?)?;
                if count > MOST_PROCESSES {
                    return Err(format!(
                        "--max-processes {count}: at most {MOST_PROCESSES} (each holds pipes and a slot)"
                    ));
                }
                limits.max_processes = count;
            }
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
        modules,
        timeout,
        inputs,
        limits,
    }))
}

/// A limit: a whole number above zero, with K, M or G for 1024 to the power 1, 2 or 3, or
/// `none` for no limit.
fn parse_limit(flag: &str, text: &str) -> Result<u64, String> {
    if text == "none" {
        return Ok(u64::MAX);
    }
    let (digits, scale) = match text.char_indices().last() {
        Some((at, 'K' | 'k')) => (&text[..at], 1 << 10),
        Some((at, 'M' | 'm')) => (&text[..at], 1 << 20),
        Some((at, 'G' | 'g')) => (&text[..at], 1 << 30),
        _ => (text, 1),
    };
    let number: u64 = digits.parse().map_err(|_| {
        format!("{flag} {text}: write a whole number (K, M or G may follow), or `none`")
    })?;
    match number.checked_mul(scale) {
        Some(0) => Err(format!(
            "{flag} {text}: must be above zero (`none` lifts the limit)"
        )),
        Some(limit) => Ok(limit),
        None => Err(format!("{flag} {text}: too large (`none` lifts the limit)")),
    }
}

/// [`parse_limit`] as a size in memory.
fn parse_size(flag: &str, text: &str) -> Result<usize, String> {
    parse_limit(flag, text).map(|limit| usize::try_from(limit).unwrap_or(usize::MAX))
}

/// A count that must stay finite: a whole number above zero.
fn parse_count(flag: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(count) if count > 0 => Ok(count),
        _ => Err(format!("{flag} {text}: write a whole number above zero")),
    }
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
    fn limits_read_with_their_scales_or_none() {
        assert_eq!(parse_limit("--max-operations", "5000"), Ok(5000));
        assert_eq!(parse_size("--max-string-size", "64K"), Ok(64 * 1024));
        assert_eq!(parse_size("--max-string-size", "2M"), Ok(2 << 20));
        assert_eq!(parse_limit("--max-operations", "none"), Ok(u64::MAX));
        for bad in ["0", "-1", "lots", "12X", "", "99999999999G"] {
            let problem = parse_limit("--max-operations", bad).unwrap_err();
            assert!(problem.starts_with("--max-operations "), "{problem}");
        }
        assert!(parse_count("--max-processes", "none").is_err());
        assert!(parse_count("--max-processes", "0").is_err());
        assert_eq!(parse_count("--max-processes", "3"), Ok(3));
    }

    #[test]
    fn too_many_processes_is_a_command_line_error_not_a_panic() {
        let args = ["s.rhai", "--max-processes", "18446744073709551615"].map(String::from);
        let problem = parse_args(args.into_iter()).err().unwrap();
        assert!(problem.contains("at most 1024"), "{problem}");
    }

    #[test]
    fn paths_with_dot_dot_or_a_root_are_refused_before_any_lookup() {
        assert!(stdlib::relative_path("notes/a.txt").is_ok());
        assert!(stdlib::relative_path("../etc/passwd").is_err());
        assert!(stdlib::relative_path("/etc/passwd").is_err());
        assert!(stdlib::relative_path("a/../../b").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_runner_directory_is_refused() {
        let root = std::env::temp_dir().join(format!("rhai-run-link-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let link = root.join("elsewhere");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("/", &link).unwrap();
        let files = stdlib::FileRoot::open(&root).unwrap();
        let outcome = files.read_text("elsewhere/etc/passwd");
        std::fs::remove_dir_all(&root).unwrap();
        let message = outcome.unwrap_err();
        assert!(message.contains("resolves outside"), "{message}");
    }
}
