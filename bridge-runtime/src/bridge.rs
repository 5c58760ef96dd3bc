//! [`Bridge`]: the worker, the engine threads and the channels between them, and [`run`].

use crate::pool::{EnginePool, EngineSettings, Outcome, OutcomeSender, ScriptJob};
use crate::registry::unique_functions;
use crate::reply::reply_slot;
use crate::worker::Worker;
use crate::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Runs Rhai scripts that call `#[script_async]` functions.
///
/// A bridge owns one worker thread (a tokio runtime that performs the async calls) and a pool of
/// engine threads (one per script running at that moment; Rhai's engine is not `Send`). It is
/// `Send + Sync`: share it (`Arc<Bridge>` or a `static`) and call it from any number of threads;
/// calls from concurrent scripts run concurrently on the worker. Dropping it ends its threads.
///
/// ```
/// use bridge_runtime::{script_async, Bridge};
///
/// #[script_async]
/// async fn double(x: i64) -> i64 {
///     tokio::task::yield_now().await;
///     x * 2
/// }
///
/// let bridge = Bridge::new()?;
/// assert_eq!(bridge.run("double(21)")?, 42);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub struct Bridge {
    // Field order is drop order: see `Drop`.
    stop: Arc<AtomicBool>,
    worker: Worker,
    pool: EnginePool,
}

impl Bridge {
    /// A bridge with every registered function and the default settings.
    ///
    /// Fails if two functions claim one script name, or a thread cannot start.
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// Starts configuring a bridge.
    pub fn builder() -> BridgeBuilder {
        BridgeBuilder::default()
    }

    /// Runs `script` and returns its final value as JSON (`()` is `null`), blocking this thread.
    ///
    /// Safe to call from any thread, including one inside a tokio runtime (it only blocks that
    /// thread); from async code prefer [`run_async`](Self::run_async).
    pub fn run(&self, script: &str) -> Result<serde_json::Value, Error> {
        let (sender, receiver) = reply_slot(std::thread::current());
        self.pool.submit(ScriptJob {
            script: script.to_owned(),
            outcome: OutcomeSender::Blocking(sender),
        })?;
        receiver.wait().unwrap_or_else(|_| Err(engine_lost()))
    }

    /// Runs `script` without blocking the calling thread: works from any tokio runtime,
    /// current-thread or multi-thread (or any other executor).
    pub async fn run_async(&self, script: &str) -> Result<serde_json::Value, Error> {
        let (sender, receiver) = tokio::sync::oneshot::channel::<Outcome>();
        self.pool.submit(ScriptJob {
            script: script.to_owned(),
            outcome: OutcomeSender::Async(sender),
        })?;
        receiver.await.unwrap_or_else(|_| Err(engine_lost()))
    }

    /// How many engine threads are alive now (one per concurrently running script, plus idle ones
    /// that have not yet timed out).
    pub fn engine_threads(&self) -> usize {
        self.pool.live_threads()
    }
}

fn engine_lost() -> Error {
    Error::Internal("the engine thread ended without reporting the script's outcome".to_owned())
}

impl Drop for Bridge {
    /// Stops running scripts at their next operation, drops calls in flight (their scripts end
    /// with an error), gives queued scripts a shutdown error, and joins every thread.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.worker.shutdown();
        self.pool.shutdown();
    }
}

/// Settings for a [`Bridge`]; start with [`Bridge::builder`].
#[derive(Clone, Debug)]
pub struct BridgeBuilder {
    max_concurrent_scripts: usize,
    engine_idle_timeout: Duration,
}

impl Default for BridgeBuilder {
    fn default() -> Self {
        Self {
            max_concurrent_scripts: 1024,
            engine_idle_timeout: Duration::from_secs(10),
        }
    }
}

impl BridgeBuilder {
    /// At most this many scripts run at once (each running script holds one engine thread);
    /// more wait in a queue. Default 1024.
    pub fn max_concurrent_scripts(mut self, limit: usize) -> Self {
        self.max_concurrent_scripts = limit.max(1);
        self
    }

    /// An engine thread idle this long exits (one always stays). Default 10 s.
    pub fn engine_idle_timeout(mut self, timeout: Duration) -> Self {
        self.engine_idle_timeout = timeout;
        self
    }

    /// Starts the bridge: checks the registry, starts the worker.
    pub fn build(self) -> Result<Bridge, Error> {
        let functions = unique_functions()?;
        let worker = Worker::start()?;
        let stop = Arc::new(AtomicBool::new(false));
        let pool = EnginePool::new(EngineSettings {
            functions,
            commands: worker.commands(),
            stop: stop.clone(),
            max_threads: self.max_concurrent_scripts,
            idle_timeout: self.engine_idle_timeout,
        });
        Ok(Bridge { stop, worker, pool })
    }
}

/// Runs `script` on a shared default [`Bridge`], created on first use, and returns its final
/// value as JSON.
///
/// ```
/// assert_eq!(bridge_runtime::run("40 + 2")?, 42);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub fn run(script: &str) -> Result<serde_json::Value, Error> {
    default_bridge()?.run(script)
}

fn default_bridge() -> Result<&'static Bridge, Error> {
    static DEFAULT: OnceLock<Result<Bridge, Error>> = OnceLock::new();
    DEFAULT
        .get_or_init(Bridge::new)
        .as_ref()
        .map_err(Clone::clone)
}
