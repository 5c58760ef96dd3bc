//! The worker thread and its runtime: started with the bridge, stopped when it drops.

use crate::call::queue::{command_queue, CommandSender};
use crate::error::Error;
use crate::resource::table::ResourceSettings;
use crate::state::TypeMap;
use crate::sync::wait::SpinGate;
use crate::worker::call_threads::{CallPoolRuntime, CallThreads};
use crate::worker::serve::serve;
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// The running worker thread and the ends that control it.
pub(crate) struct Worker {
    commands: CommandSender,
    runtime: tokio::runtime::Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Builds the worker's runtime and starts its thread, which owns the bridge's `states`.
    pub(crate) fn start(
        states: Arc<TypeMap>,
        spin_gate: Arc<SpinGate>,
        resources: ResourceSettings,
        threads: CallThreads,
    ) -> Result<Self, Error> {
        let pool = CallPoolRuntime::start(threads)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Startup(format!("tokio runtime: {e}")))?;
        let (commands, received) = command_queue(spin_gate.clone());
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("bridge-worker".to_owned())
            .spawn(move || {
                serve(
                    runtime, pool, received, stopped, states, spin_gate, resources,
                )
            })
            .map_err(|e| Error::Startup(format!("worker thread: {e}")))?;
        Ok(Self {
            commands,
            runtime: handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The worker's runtime, for eager calls that poll on an engine thread within its context.
    pub(crate) fn runtime(&self) -> tokio::runtime::Handle {
        self.runtime.clone()
    }

    /// Whether the caller runs on the worker thread.
    pub(crate) fn is_current_thread(&self) -> bool {
        self.thread
            .as_ref()
            .is_some_and(|thread| thread.thread().id() == std::thread::current().id())
    }

    /// A sender for the command channel.
    pub(crate) fn commands(&self) -> CommandSender {
        self.commands.clone()
    }

    /// Tells the worker to stop serving and drop every call in flight (their waiters learn that
    /// no reply will come), without waiting for it.
    pub(crate) fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // An error means the worker already stopped on its own.
            let _ = stop.send(());
        }
    }

    /// [`stop`](Self::stop)s the worker and lets its thread finish on its own.
    pub(crate) fn detach(&mut self) {
        self.stop();
        self.thread = None;
    }

    /// [`stop`](Self::stop)s the worker and joins its thread.
    pub(crate) fn shutdown(&mut self) {
        self.stop();
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() == std::thread::current().id() {
                // Dropped inside one of its own calls: the thread ends once that call returns.
                return;
            }
            // Calls run under `CatchUnwind`, so the thread does not panic; if it somehow did, the
            // panic hook has already reported it and there is nobody else to tell.
            let _ = thread.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shutdown();
    }
}
