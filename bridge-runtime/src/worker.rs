//! The worker thread: a tokio runtime that performs the real async calls.
//!
//! Calls run as local tasks on one current-thread runtime, so the async functions' futures need not
//! be `Send` and can hold non-`Send` clients; the worker's tokio context is current inside them,
//! so `tokio::time`, `tokio::net`, `tokio::fs` and `tokio::spawn` work.

use crate::command::Command;
use crate::state::TypeMap;
use crate::Error;
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};
use tokio::task::LocalSet;

/// Where engine threads send commands.
pub(crate) type CommandSender = mpsc::UnboundedSender<Command>;

/// The running worker thread and the ends that control it.
pub(crate) struct Worker {
    commands: CommandSender,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Builds the worker's runtime and starts its thread, which owns the bridge's `states`.
    pub(crate) fn start(states: TypeMap) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Startup(format!("tokio runtime: {e}")))?;
        let (commands, received) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("bridge-worker".to_owned())
            .spawn(move || serve(runtime, received, stopped, Arc::new(states)))
            .map_err(|e| Error::Startup(format!("worker thread: {e}")))?;
        Ok(Self {
            commands,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// A sender for the command channel.
    pub(crate) fn commands(&self) -> CommandSender {
        self.commands.clone()
    }

    /// Stops serving, drops every call in flight (their waiters learn that no reply will come)
    /// and joins the thread.
    pub(crate) fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            // An error means the worker already stopped on its own; joining is still right.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
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

fn serve(
    runtime: tokio::runtime::Runtime,
    received: mpsc::UnboundedReceiver<Command>,
    stopped: oneshot::Receiver<()>,
    states: Arc<TypeMap>,
) {
    let calls = LocalSet::new();
    calls.block_on(&runtime, async move {
        tokio::select! {
            _ = stopped => {}
            () = receive_commands(received, &states) => {}
        }
    });
    // Dropping the local set drops the futures of unfinished calls, and with them their reply
    // senders, inside the runtime's context.
    let _guard = runtime.enter();
    drop(calls);
}

async fn receive_commands(mut received: mpsc::UnboundedReceiver<Command>, states: &Arc<TypeMap>) {
    while let Some(command) = received.recv().await {
        match command {
            Command::Call(call) => {
                tokio::task::spawn_local(call.into_future(states));
            }
        }
    }
}
