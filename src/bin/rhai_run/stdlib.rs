//! The runner's async standard library: one `#[script_async] mod` per group, so `--allow
//! <group>` exposes exactly that module's functions.

use cap_std::fs::Dir;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The most a process's output, a TCP answer, an HTTP body, a file read or a module may hold:
/// a script cannot make the runner buffer without bound. One rule for all of them: more than
/// this is an error that says so ([`cut_at_limit`]), never a silently shortened value.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The error for `what` (`"ls's stdout"`, `"the answer from host:80"`) passing [`MAX_BODY`].
pub fn cut_at_limit(what: &str) -> String {
    format!("{what} passed {MAX_BODY} bytes (4 MiB), the most the runner reads: cut there")
}

/// `limit` as a duration, refusing the nonsensical.
fn millis(limit: i64, what: &str) -> Result<Duration, String> {
    match u64::try_from(limit) {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "{what} must be a positive number of milliseconds, not {limit}"
        )),
    }
}

/// Timers.
#[bridge_runtime::script_async]
pub mod time {
    /// Waits `ms` milliseconds without holding up other scripts.
    pub async fn sleep_ms(ms: u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }

    /// Milliseconds since the Unix epoch.
    pub async fn now_ms() -> Result<i64, String> {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?;
        i64::try_from(since.as_millis()).map_err(|e| e.to_string())
    }
}

/// Where the `files` group (and `import`, with `--modules`) may read and write: `--dir`, held
/// open as a directory handle. Every path is resolved beneath that handle by the kernel
/// (cap-std: `openat2` with `RESOLVE_BENEATH`, or one component at a time without following
/// links out where the kernel lacks it), so neither a link pointing out, nor a dangling one, nor
/// a directory swapped for a link while a script runs can lead outside: checking a path and then
/// opening it by name would leave that window open.
#[derive(Clone)]
pub struct FileRoot(Arc<Dir>);

impl FileRoot {
    /// Opens `dir` once, for the whole run.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        Dir::open_ambient_dir(dir, cap_std::ambient_authority()).map(|dir| Self(Arc::new(dir)))
    }

    /// The text of the file at `path`.
    pub fn read_text(&self, path: &str) -> Result<String, String> {
        let file = self
            .0
            .open(file_path(path)?)
            .map_err(|e| io_problem("cannot open", path, e))?;
        read_text_capped(file, path)
    }

    /// Writes `text` to the file at `path`, replacing it.
    pub fn write_text(&self, path: &str, text: &str) -> Result<(), String> {
        self.0
            .write(file_path(path)?, text)
            .map_err(|e| io_problem("cannot write", path, e))
    }

    /// The names in the directory at `path` (`""` for the root), sorted.
    pub fn list_dir(&self, path: &str) -> Result<Vec<String>, String> {
        let relative = relative_path(path)?;
        let relative = if relative.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            relative
        };
        let entries = self
            .0
            .read_dir(relative)
            .map_err(|e| io_problem("cannot list", path, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_problem("cannot list", path, e))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }
}

/// All of `file` as text, refused past [`MAX_BODY`].
fn read_text_capped(file: impl Read, path: &str) -> Result<String, String> {
    let mut text = String::new();
    file.take(MAX_BODY as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| io_problem("cannot read", path, e))?;
    if text.len() > MAX_BODY {
        return Err(cut_at_limit(path));
    }
    Ok(text)
}

/// What went wrong doing `what` to `path`, naming an escape for what it is.
fn io_problem(what: &str, path: &str, error: std::io::Error) -> String {
    // cap-std's refusal has no error kind of its own (it is `PermissionDenied`), only this text.
    if error.to_string().contains("outside of the filesystem") {
        format!("{path:?} resolves outside the runner's directory (a symbolic link leads out)")
    } else {
        format!("{what} {path}: {error}")
    }
}

/// `path` as a path relative to the runner's directory, refused if it is absolute or has `..`
/// (links are the [`FileRoot`]'s to refuse, when it opens them).
pub fn relative_path(path: &str) -> Result<PathBuf, String> {
    let relative = Path::new(path);
    if relative
        .components()
        .any(|part| !matches!(part, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "{path:?} leaves the runner's directory: give a path inside it, without `..` or a leading `/`"
        ));
    }
    Ok(relative.to_path_buf())
}

/// [`relative_path`], and not empty: the path of a file.
fn file_path(path: &str) -> Result<PathBuf, String> {
    if path.is_empty() {
        return Err("give the path of a file inside the runner's directory, not \"\"".to_owned());
    }
    relative_path(path)
}

/// `work` on a blocking thread (file system calls would hold up the worker's other calls).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("the file operation failed: {e}"))?
}

/// Files under the runner's `--dir`.
#[bridge_runtime::script_async]
pub mod files {
    use super::{blocking, FileRoot};
    use bridge_runtime::State;

    /// The text of the file at `path` (relative to `--dir`).
    pub async fn read_text(root: State<FileRoot>, path: String) -> Result<String, String> {
        let root = FileRoot::clone(&root);
        blocking(move || root.read_text(&path)).await
    }

    /// Writes `text` to the file at `path` (relative to `--dir`), replacing it.
    pub async fn write_text(
        root: State<FileRoot>,
        path: String,
        text: String,
    ) -> Result<(), String> {
        let root = FileRoot::clone(&root);
        blocking(move || root.write_text(&path, &text)).await
    }

    /// The names in the directory at `path` (relative to `--dir`; `""` for `--dir` itself), sorted.
    pub async fn list_dir(root: State<FileRoot>, path: String) -> Result<Vec<String>, String> {
        let root = FileRoot::clone(&root);
        blocking(move || root.list_dir(&path)).await
    }
}

/// How many `exec` processes may run at once (`--max-processes`).
pub struct ProcessSlots {
    free: Arc<tokio::sync::Semaphore>,
    max: usize,
}

impl ProcessSlots {
    pub fn new(max: usize) -> Self {
        Self {
            free: Arc::new(tokio::sync::Semaphore::new(max)),
            max,
        }
    }
}

/// A child's process group (the child leads it: `process_group(0)`), killed whole when this is
/// dropped, so that a script's end, a timeout or a cancelled call leaves none of it running.
struct ProcessGroup(libc::pid_t);

impl ProcessGroup {
    fn of(child: &tokio::process::Child) -> Result<Self, String> {
        match child.id().and_then(|id| libc::pid_t::try_from(id).ok()) {
            // Never 0 or 1: `killpg(0)` would be the runner's own group.
            Some(id) if id > 1 => Ok(Self(id)),
            _ => Err("the started process has no usable id".to_owned()),
        }
    }

    /// Sends SIGKILL to every process still in the group; whether there was any.
    fn kill(&self) -> bool {
        // SAFETY: killpg only sends a signal; the id is a group this runner created.
        unsafe { libc::killpg(self.0, libc::SIGKILL) == 0 }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Processes, each with a time limit, in a process group of its own.
#[bridge_runtime::script_async]
pub mod process {
    use super::{millis, read_capped, ProcessGroup, ProcessSlots};
    use bridge_runtime::State;
    use serde::Serialize;
    use std::os::unix::process::ExitStatusExt;

    /// How a process ended.
    #[derive(Serialize)]
    pub struct Finished {
        /// Its exit code (`()` if a signal ended it).
        pub status: Option<i32>,
        /// The signal that ended it (`()` if it exited).
        pub signal: Option<i32>,
        /// What happened, in words: `"exited with status 0"`, `"ended by signal 15"`, and
        /// whether processes it left running were killed.
        pub ended: String,
        /// Whether processes it started were still in its group after it exited (they were
        /// killed: they kept its output open, so the runner would otherwise wait on them).
        pub killed_leftovers: bool,
        pub stdout: String,
        pub stderr: String,
    }

    /// Runs `program` with `args` (no shell) in a process group of its own, and kills the whole
    /// group after `timeout_ms`, once the program has exited, or when its stdout or stderr
    /// passes 4 MiB (an error saying so). At most `--max-processes` run at once.
    pub async fn exec(
        slots: State<ProcessSlots>,
        program: String,
        args: Vec<String>,
        timeout_ms: i64,
    ) -> Result<Finished, String> {
        let limit = millis(timeout_ms, "timeout_ms")?;
        let _slot = slots.free.clone().try_acquire_owned().map_err(|_| {
            format!(
                "cannot start {program}: {} processes are already running, the most --max-processes allows",
                slots.max
            )
        })?;
        let mut child = tokio::process::Command::new(&program)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        let group = ProcessGroup::of(&child)?;
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let run = async {
            // Both at once: a child that fills one pipe must not wait on us reading the other.
            let (out_name, err_name) =
                (format!("{program}'s stdout"), format!("{program}'s stderr"));
            let reads = async {
                tokio::join!(
                    read_capped(out, &group, &out_name),
                    read_capped(err, &group, &err_name)
                )
            };
            let mut reads = std::pin::pin!(reads);
            let (status, killed_leftovers, (stdout, stderr)) = tokio::select! {
                status = child.wait() => {
                    // It exited; whatever of its group is left holds the pipes open: end it.
                    let killed_leftovers = group.kill();
                    (status, killed_leftovers, reads.await)
                }
                output = &mut reads => {
                    let status = child.wait().await;
                    (status, group.kill(), output)
                }
            };
            let status = status.map_err(|e| format!("cannot wait for {program}: {e}"))?;
            let (stdout, stderr) = (stdout?, stderr?);
            let mut ended = match (status.code(), status.signal()) {
                (Some(code), _) => format!("exited with status {code}"),
                (None, Some(signal)) => format!("ended by signal {signal}"),
                (None, None) => "ended".to_owned(),
            };
            if killed_leftovers {
                ended.push_str("; the processes it left running were killed");
            }
            Ok::<_, String>(Finished {
                status: status.code(),
                signal: status.signal(),
                ended,
                killed_leftovers,
                stdout: String::from_utf8_lossy(&stdout).into_owned(),
                stderr: String::from_utf8_lossy(&stderr).into_owned(),
            })
        };
        match tokio::time::timeout(limit, run).await {
            Ok(finished) => finished,
            Err(_) => Err(format!(
                "{program} did not finish within {timeout_ms} ms: killed it and its process group"
            )),
        }
    }
}

/// All of `pipe` (none if absent); past [`MAX_BODY`] bytes, kills `group` (nothing reads
/// the rest) and fails saying so of `what` (`"ls's stdout"`).
async fn read_capped(
    pipe: Option<impl tokio::io::AsyncRead + Unpin>,
    group: &ProcessGroup,
    what: &str,
) -> Result<Vec<u8>, String> {
    use tokio::io::AsyncReadExt;
    let mut bytes = Vec::new();
    if let Some(pipe) = pipe {
        pipe.take(MAX_BODY as u64 + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| format!("cannot read {what}: {e}"))?;
    }
    if bytes.len() > MAX_BODY {
        group.kill();
        return Err(cut_at_limit(what) + "; killed its process group");
    }
    Ok(bytes)
}

/// Raw TCP.
#[bridge_runtime::script_async]
pub mod net {
    use super::{cut_at_limit, millis, MAX_BODY};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Connects to `address` (`host:port`), sends `request`, closes its side, and returns all
    /// the answer (as text; past 4 MiB, an error saying so), within `timeout_ms`.
    pub async fn tcp_request(
        address: String,
        request: String,
        timeout_ms: i64,
    ) -> Result<String, String> {
        let limit = millis(timeout_ms, "timeout_ms")?;
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect(&address)
                .await
                .map_err(|e| format!("cannot connect to {address}: {e}"))?;
            stream
                .write_all(request.as_bytes())
                .await
                .map_err(|e| format!("{address}: {e}"))?;
            stream
                .shutdown()
                .await
                .map_err(|e| format!("{address}: {e}"))?;
            let mut answer = Vec::new();
            stream
                .take(MAX_BODY as u64 + 1)
                .read_to_end(&mut answer)
                .await
                .map_err(|e| format!("{address}: {e}"))?;
            if answer.len() > MAX_BODY {
                return Err(cut_at_limit(&format!("the answer from {address}")));
            }
            Ok::<_, String>(String::from_utf8_lossy(&answer).into_owned())
        };
        tokio::time::timeout(limit, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("{address} did not answer within {timeout_ms} ms")))
    }
}

/// An HTTP client (reqwest).
#[bridge_runtime::script_async]
pub mod http {
    use super::{read_response, HttpClient};
    use bridge_runtime::State;
    use serde::Serialize;

    /// An HTTP response.
    #[derive(Serialize)]
    pub struct Response {
        pub status: u16,
        pub body: String,
    }

    /// `GET url` (a body past 4 MiB is an error saying so).
    pub async fn http_get(client: State<HttpClient>, url: String) -> Result<Response, String> {
        read_response(client.0.get(&url).send().await, &url).await
    }

    /// `POST url` with `body` as JSON.
    pub async fn http_post_json(
        client: State<HttpClient>,
        url: String,
        body: serde_json::Value,
    ) -> Result<Response, String> {
        read_response(client.0.post(&url).json(&body).send().await, &url).await
    }
}

/// The `http` group's client.
pub struct HttpClient(pub reqwest::Client);

/// An HTTP response's status and body (at most [`MAX_BODY`] bytes), for the `http` group.
async fn read_response(
    sent: reqwest::Result<reqwest::Response>,
    url: &str,
) -> Result<http::Response, String> {
    let mut response = sent.map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(cut_at_limit(&format!("the body from {url}")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(http::Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
