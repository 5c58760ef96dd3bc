//! Where a call's future runs: on the worker thread, or, on a bridge given more threads
//! (`BridgeBuilder::worker_threads`, `BridgeBuilder::runtime`), on a multi-thread runtime when
//! the future's type allows it.
//!
//! A function's future that is `Send` (and whose value is) may run on any thread of that runtime;
//! one that is not keeps to the worker, as does every call that touches a resource (the worker's
//! table is the only place resources live). Which of the two a function's future is, the compiler
//! knows where `#[script_async]` writes its command: the command picks its placement there by
//! autoref specialization ([`FutureProbe`]), so a `!Send` future is no compile error, it just
//! stays on the worker.

use crate::catch_unwind::CatchUnwind;
use crate::error::{CallErrorKind, CallFailure};
use crate::trace::{self, Span};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A call's future that may move between threads: what an eager call hands to the worker when its
/// first poll (on the engine thread) did not finish it, and what runs on a bridge's other threads.
pub type SendCallFuture<T> = Pin<Box<dyn Future<Output = Result<T, CallFailure>> + Send>>;

/// A call's future that keeps to the worker thread.
pub type LocalCallFuture<T> = Pin<Box<dyn Future<Output = Result<T, CallFailure>>>>;

/// A call's future, boxed where it may run.
pub enum Placed<T> {
    /// May run on any thread of the bridge's runtime.
    Anywhere(OnPool<T>),
    /// Runs on the worker thread.
    Worker(LocalCallFuture<T>),
}

/// A `Send` call's future, and how to start it on a pool (written where its value is known to
/// be `Send` too, which generic code cannot name).
pub struct OnPool<T> {
    future: SendCallFuture<T>,
    start: fn(&CallPool, CatchUnwind<SendCallFuture<T>>, Span) -> PooledCall<T>,
}

impl<T> OnPool<T> {
    /// Starts the call on `pool`, in `span`.
    pub(crate) fn start(self, pool: &CallPool, span: Span) -> PooledCall<T> {
        (self.start)(pool, CatchUnwind::new(self.future), span)
    }
}

/// Holds a call's future while the code `#[script_async]` writes picks its placement: a method
/// call on `&FutureProbe(future)` resolves to [`SendFuture::placement`] when the future and its
/// value are `Send`, and to [`LocalFuture::placement`] (one auto-reference further) when not.
pub struct FutureProbe<F>(pub F);

/// Picks [`Placed::Anywhere`] for a `Send` future; see [`FutureProbe`].
pub trait SendFuture {
    /// The placement of the probed future.
    fn placement(&self) -> Anywhere {
        Anywhere
    }
}

impl<F> SendFuture for FutureProbe<F>
where
    F: Future + Send + 'static,
    F::Output: Send,
{
}

/// Picks [`Placed::Worker`] for any other future; see [`FutureProbe`].
pub trait LocalFuture {
    /// The placement of the probed future.
    fn placement(&self) -> OnWorker {
        OnWorker
    }
}

impl<F> LocalFuture for &FutureProbe<F> {}

/// The placement of a `Send` future.
pub struct Anywhere;

impl Anywhere {
    /// Boxes the probed future to run anywhere.
    pub fn boxed<F, T>(self, probe: FutureProbe<F>) -> Placed<T>
    where
        F: Future<Output = Result<T, CallFailure>> + Send + 'static,
        T: Send + 'static,
    {
        Placed::Anywhere(OnPool {
            future: Box::pin(probe.0),
            start: CallPool::run::<T>,
        })
    }
}

/// The placement of a future that is not `Send`.
pub struct OnWorker;

impl OnWorker {
    /// Boxes the probed future to run on the worker.
    pub fn boxed<F, T>(self, probe: FutureProbe<F>) -> Placed<T>
    where
        F: Future<Output = Result<T, CallFailure>> + 'static,
    {
        Placed::Worker(Box::pin(probe.0))
    }
}

/// The multi-thread runtime a bridge runs `Send` calls on: its own, or the host's.
#[derive(Clone)]
pub(crate) struct CallPool {
    handle: tokio::runtime::Handle,
}

impl CallPool {
    pub(crate) fn new(handle: tokio::runtime::Handle) -> Self {
        Self { handle }
    }

    /// Runs `call` on the pool, in `span`; the returned future gives its outcome, and dropping it
    /// (the script stopped, the call timed out, the bridge shut down) aborts the call there.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        call: CatchUnwind<SendCallFuture<T>>,
        span: Span,
    ) -> PooledCall<T> {
        PooledCall {
            task: self.handle.spawn(trace::instrument(call, span)),
        }
    }
}

/// A call running on a pool, from the worker's side: its outcome, or its abort when dropped.
pub(crate) struct PooledCall<T> {
    task: tokio::task::JoinHandle<Result<Result<T, CallFailure>, String>>,
}

impl<T> Future for PooledCall<T> {
    type Output = Result<T, CallFailure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task)
            .poll(cx)
            .map(|joined| match joined {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(panic_message)) => {
                    Err(CallFailure::new(CallErrorKind::Panic, panic_message))
                }
                // Aborted only by our own drop, so this is the host's runtime shutting down.
                Err(_) => Err(CallFailure::new(
                    CallErrorKind::Shutdown,
                    "the runtime the call ran on shut down before it finished".to_owned(),
                )),
            })
    }
}

impl<T> Drop for PooledCall<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}
