//! Where the worker runs the closing of resources: a local set of their own, which outlives the
//! calls' local set, and a count of the closes under way.
//!
//! The worker shuts down by dropping the calls' local set, which cancels every unfinished call.
//! A close is not a call: a resource let go a moment before the bridge drops (its script just
//! ended) has its close hook, a rollback say, under way then, and it must run to its end (bounded
//! by the close timeout) like every other.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use tokio::sync::Notify;
use tokio::task::LocalSet;

/// The closes of one worker's resources.
pub(crate) struct Closes {
    set: LocalSet,
    under_way: Rc<UnderWay>,
}

/// How many closes are under way, and a wake for when the last one ends.
#[derive(Default)]
struct UnderWay {
    count: Cell<usize>,
    ended: Notify,
}

/// One close under way: counted until dropped, whether it finished or was cut off.
struct Counted(Rc<UnderWay>);

impl Drop for Counted {
    fn drop(&mut self) {
        let left = self.0.count.get() - 1;
        self.0.count.set(left);
        if left == 0 {
            self.0.ended.notify_waiters();
        }
    }
}

impl Closes {
    pub(crate) fn new() -> Self {
        Self {
            set: LocalSet::new(),
            under_way: Rc::default(),
        }
    }

    /// Starts `close` in the closes' set: it runs whenever the set is driven, from any code on
    /// the worker thread, inside or outside the calls' set.
    pub(crate) fn start(&self, close: impl Future<Output = ()> + 'static) {
        let under_way = &self.under_way;
        under_way.count.set(under_way.count.get() + 1);
        let counted = Counted(under_way.clone());
        self.set.spawn_local(async move {
            close.await;
            drop(counted);
        });
    }

    /// Runs `future` on `runtime` on this thread, the closes started meanwhile (and before)
    /// running beside it.
    pub(crate) fn run<F: Future>(&self, runtime: &tokio::runtime::Runtime, future: F) -> F::Output {
        self.set.block_on(runtime, future)
    }

    /// Completes once no close is under way. Awaited inside [`run`](Self::run), which drives
    /// them.
    pub(crate) async fn all_ended(&self) {
        loop {
            let ended = self.under_way.ended.notified();
            let mut ended = std::pin::pin!(ended);
            ended.as_mut().enable();
            if self.under_way.count.get() == 0 {
                return;
            }
            ended.await;
        }
    }
}
