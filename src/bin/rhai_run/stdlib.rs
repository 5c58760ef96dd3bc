//! The runner's async standard library: one `#[script_async] mod` per group, so `--allow
//! <group>` exposes exactly that module's functions.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// Where the `files` group may read and write (`--dir`, the current directory by default).
pub struct FileRoot(pub PathBuf);

/// The `http` group's client.
pub struct HttpClient(pub reqwest::Client);

/// The most a process's output, a TCP answer or an HTTP body may hold: a script cannot make
/// the runner buffer without bound.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

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

/// Files under the runner's `--dir`.
#[bridge_runtime::script_async]
pub mod files {
    use super::{inside_root, FileRoot, MAX_BODY};
    use bridge_runtime::State;
    use tokio::io::AsyncReadExt;

    /// The text of the file at `path` (relative to `--dir`).
    pub async fn read_text(root: State<FileRoot>, path: String) -> Result<String, String> {
        let full = inside_root(&root.0, &path)?;
        let file = tokio::fs::File::open(&full)
            .await
            .map_err(|e| format!("cannot open {path}: {e}"))?;
        let mut text = String::new();
        file.take(MAX_BODY as u64 + 1)
            .read_to_string(&mut text)
            .await
            .map_err(|e| format!("cannot read {path}: {e}"))?;
        if text.len() > MAX_BODY {
            return Err(format!("{path} is larger than {MAX_BODY} bytes"));
        }
        Ok(text)
    }

    /// Writes `text` to the file at `path` (relative to `--dir`), replacing it.
    pub async fn write_text(
        root: State<FileRoot>,
        path: String,
        text: String,
    ) -> Result<(), String> {
        let full = inside_root(&root.0, &path)?;
        tokio::fs::write(&full, text)
            .await
            .map_err(|e| format!("cannot write {path}: {e}"))
    }

    /// The names in the directory at `path` (relative to `--dir`; `""` for `--dir` itself), sorted.
    pub async fn list_dir(root: State<FileRoot>, path: String) -> Result<Vec<String>, String> {
        let full = inside_root(&root.0, &path)?;
        let mut entries = tokio::fs::read_dir(&full)
            .await
            .map_err(|e| format!("cannot list {path}: {e}"))?;
        let mut names = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(|e| e.to_string())? {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }
}

/// `path` joined to `root`, refused if it would leave `root`: absolute paths, `..`, and
/// symbolic links that point outside.
pub fn inside_root(root: &Path, path: &str) -> Result<PathBuf, String> {
    let relative = Path::new(path);
    if relative
        .components()
        .any(|part| !matches!(part, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "{path:?} leaves the runner's directory: give a path inside it, without `..` or a leading `/`"
        ));
    }
    let full = root.join(relative);
    // What exists of the path must resolve inside the root (a link could point anywhere).
    let root = root
        .canonicalize()
        .map_err(|e| format!("the runner's directory is unusable: {e}"))?;
    let existing = full
        .ancestors()
        .find(|ancestor| ancestor.exists())
        .unwrap_or(&root);
    let resolved = existing.canonicalize().map_err(|e| e.to_string())?;
    if !resolved.starts_with(&root) {
        return Err(format!("{path:?} resolves outside the runner's directory"));
    }
    Ok(full)
}

/// Processes, each with a time limit.
#[bridge_runtime::script_async]
pub mod process {
    use super::{millis, read_capped};
    use serde::Serialize;

    /// How a process ended.
    #[derive(Serialize)]
    pub struct Finished {
        /// Its exit code (`()` if a signal ended it).
        pub status: Option<i32>,
        pub stdout: String,
        pub stderr: String,
    }

    /// Runs `program` with `args` (no shell), killing it after `timeout_ms`.
    pub async fn exec(
        program: String,
        args: Vec<String>,
        timeout_ms: i64,
    ) -> Result<Finished, String> {
        let limit = millis(timeout_ms, "timeout_ms")?;
        let mut child = tokio::process::Command::new(&program)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let run = async {
            // Both at once: a child that fills one pipe must not wait on us reading the other.
            let (stdout, stderr) = tokio::join!(read_capped(out), read_capped(err));
            let (stdout, stderr) = (stdout?, stderr?);
            let status = child.wait().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(Finished {
                status: status.code(),
                stdout: String::from_utf8_lossy(&stdout).into_owned(),
                stderr: String::from_utf8_lossy(&stderr).into_owned(),
            })
        };
        match tokio::time::timeout(limit, run).await {
            Ok(finished) => finished,
            Err(_) => Err(format!(
                "{program} did not finish within {timeout_ms} ms and was killed"
            )),
        }
    }
}

/// Raw TCP.
#[bridge_runtime::script_async]
pub mod net {
    use super::{millis, MAX_BODY};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Connects to `address` (`host:port`), sends `request`, closes its side, and returns all
    /// the answer (as text), within `timeout_ms`.
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
                .map_err(|e| e.to_string())?;
            stream.shutdown().await.map_err(|e| e.to_string())?;
            let mut answer = Vec::new();
            stream
                .take(MAX_BODY as u64)
                .read_to_end(&mut answer)
                .await
                .map_err(|e| e.to_string())?;
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

    /// `GET url`.
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
            return Err(format!("{url}: the body is larger than {MAX_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(http::Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// All of `pipe` (none if absent), up to [`MAX_BODY`] bytes.
async fn read_capped(pipe: Option<impl tokio::io::AsyncRead + Unpin>) -> Result<Vec<u8>, String> {
    use tokio::io::AsyncReadExt;
    let mut bytes = Vec::new();
    if let Some(pipe) = pipe {
        pipe.take(MAX_BODY as u64)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(bytes)
}
