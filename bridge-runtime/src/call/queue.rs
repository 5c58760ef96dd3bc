//! The command channel: engine threads push calls; the worker takes them.
//!
//! Waking a parked thread costs tens of microseconds on a virtual machine, more than a quick call
//! itself, so the worker keeps polling the queue for a short while after its last command and
//! only then parks. A sender wakes it (one `Notify`) only when it has parked. tokio's mpsc would
//! wake the worker's runtime on every send, which is exactly the cost we avoid.

use crate::call::command::Command;
use crate::sync::wait::SpinGate;
use crossbeam_channel::{Receiver, Sender};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

struct QueueShared {
    /// Set while the worker is parked (or about to park) waiting for a command.
    worker_parked: AtomicBool,
    /// Set when the worker has stopped: no command will be served any more.
    closed: AtomicBool,
    /// Set if it stopped because of a fault rather than shutdown.
    failed: AtomicBool,
    wake_worker: Notify,
    /// Whose worker pulse a sender that wakes the worker marks as waking, so that spinning
    /// waiters give it a wake-up's time.
    spin_gate: Arc<SpinGate>,
    /// Kept here too so a late sender can drain what the stopped worker will never take.
    receiver: Receiver<Command>,
}

/// Creates the two ends of a command queue.
pub(crate) fn command_queue(spin_gate: Arc<SpinGate>) -> (CommandSender, CommandReceiver) {
    let (sender, receiver) = crossbeam_channel::unbounded();
    let shared = Arc::new(QueueShared {
        worker_parked: AtomicBool::new(false),
        closed: AtomicBool::new(false),
        failed: AtomicBool::new(false),
        wake_worker: Notify::new(),
        spin_gate,
        receiver: receiver.clone(),
    });
    (
        CommandSender {
            sender,
            shared: shared.clone(),
        },
        CommandReceiver { receiver, shared },
    )
}

/// The worker has stopped; the command was not sent.
#[derive(Debug)]
pub(crate) struct Closed {
    /// Whether it stopped because of a fault (a panic on the worker) rather than shutdown.
    pub(crate) worker_failed: bool,
}

/// Where engine threads send commands.
#[derive(Clone)]
pub(crate) struct CommandSender {
    sender: Sender<Command>,
    shared: Arc<QueueShared>,
}

impl CommandSender {
    pub(crate) fn send(&self, command: Command) -> Result<(), Closed> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(self.closed());
        }
        self.sender.send(command).map_err(|_| self.closed())?;
        // Pairs with `CommandReceiver::park`: either the worker sees this command after marking
        // itself parked, or this sender sees the mark and wakes it.
        if self.shared.worker_parked.load(Ordering::SeqCst) {
            self.shared.spin_gate.worker().woken();
            self.shared.wake_worker.notify_one();
        }
        if self.shared.closed.load(Ordering::SeqCst) {
            // The worker stopped while we sent: drop what it will never take, so the waiting
            // scripts hear that no reply is coming.
            while self.shared.receiver.try_recv().is_ok() {}
        }
        Ok(())
    }

    fn closed(&self) -> Closed {
        Closed {
            worker_failed: self.shared.failed.load(Ordering::SeqCst),
        }
    }
}

/// The worker's end.
pub(crate) struct CommandReceiver {
    receiver: Receiver<Command>,
    shared: Arc<QueueShared>,
}

impl CommandReceiver {
    /// The next command, if one is queued.
    pub(crate) fn try_next(&self) -> Option<Command> {
        // Disconnected cannot happen while the worker holds the queue; treat it as empty.
        self.receiver.try_recv().ok()
    }

    /// Waits (without polling) until a command may be queued.
    pub(crate) async fn park(&self) {
        let notified = self.shared.wake_worker.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        self.shared.worker_parked.store(true, Ordering::SeqCst);
        if self.receiver.is_empty() {
            notified.await;
        }
        self.shared.worker_parked.store(false, Ordering::SeqCst);
    }

    /// Marks the queue closed (`failed`: because the worker died of a fault) and drops every
    /// command still in it.
    pub(crate) fn close(&self, failed: bool) {
        self.shared.failed.store(failed, Ordering::SeqCst);
        self.shared.closed.store(true, Ordering::SeqCst);
        while self.receiver.try_recv().is_ok() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_closed_after_a_worker_fault_refuses_commands_saying_so() {
        let (sender, receiver) = command_queue(SpinGate::disabled());
        receiver.close(true);
        let (cell_sender, _receiver) = crate::sync::reply::call_cell::<
            crate::call::command::PendingCall<crate::call::command::test_commands::Add>,
            _,
        >(
            crate::call::command::PendingCall {
                command: None,
                frame: crate::call::command::CallFrame {
                    scope: crate::sync::control::ScriptControl::new(
                        None,
                        crate::state::ContextValues::default(),
                    )
                    .calls()
                    .clone(),
                    timeout: None,
                    span: crate::trace::no_span(),
                },
            },
            crate::sync::wake::ScriptWaker::for_current_thread(),
        );
        let refused = sender.send(Command::Call(crate::call::command::ErasedCall::new(
            cell_sender,
        )));
        assert!(matches!(
            refused,
            Err(Closed {
                worker_failed: true
            })
        ));
    }
}
