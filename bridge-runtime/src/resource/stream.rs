//! [`ScriptStream`]: items a function gives a script to iterate with `for`, pulled from the
//! worker in bounded batches. A stream is a resource (named `Stream`): it lives in the worker's
//! table, counts against `max_resources`, and is dropped there when the script lets go of it or
//! ends.

use crate::catch_unwind::{describe_panic, drop_quietly};
use crate::convert::sendable::SendableValue;
use crate::convert::size_limits::SizeLimits;
use crate::error::{CallErrorKind, CallFailure};
use crate::resource::returned::{ScriptValue, SentValue, WorkerSide};
use crate::resource::token::TokenInner;
use crate::resource::value::{Resource, ScriptResource};
use futures_core::Stream;
use rhai::Dynamic;
use serde::Serialize;
use std::collections::VecDeque;
use std::fmt::Display;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

/// At most this many items cross in one batch.
pub(crate) const MAX_BATCH_ITEMS: usize = 64;

/// A batch stops growing once its items come to about this many bytes (at least one item
/// always crosses, within the script's value size limits).
pub(crate) const MAX_BATCH_BYTES: usize = 256 * 1024;

/// The name scripts know a stream by (`type_of`, errors, signatures).
pub(crate) const STREAM_TYPE_NAME: &str = "Stream";

/// Items a script iterates with `for x in ...`, produced on the worker by a
/// [`Stream`](futures_core::Stream) as the script asks for them.
///
/// Return it from a `#[script_async]` function or method (`-> ScriptStream<T>`, with
/// `T: Serialize`). The stream stays on the worker (it need not be `Send`: it may borrow a pooled
/// connection, as a database cursor does); the script's `for` asks for the next batch (at most
/// 64 items, and about 256 KiB) only once it has used up the last, so a stream of a million
/// rows never sits in memory at once. The script's deadline and cancel apply while it waits.
///
/// It is a resource: it counts against [`max_resources`](crate::Limits::max_resources),
/// and it is dropped on the worker, inside its runtime, when the script lets go of it (a `for`
/// over the call itself drops it at `break` or at the loop's end; a stream kept in a variable,
/// when the variable goes) or when its script ends, however it ends. Two loops over one stream
/// go on where the first stopped; once it ended, a further loop runs no times.
///
/// An item error ([`try_new`](Self::try_new)'s `Err`, or a panic while polling) is a catchable
/// error at the loop, of kind `error` or `panic`, naming the function that returned the stream;
/// the loop ends there. So is an item past the script's value size limits (kind `limit`).
/// (Rhai runs a `for` whose body is empty without looking at its items: such a loop ends at an
/// error without raising it.)
///
/// ```
/// use bridge_runtime::{script_async, Bridge, ScriptStream};
///
/// #[script_async]
/// async fn countdown(from: i64) -> ScriptStream<i64> {
///     ScriptStream::new(futures_util::stream::iter((1..=from).rev()))
/// }
///
/// let bridge = Bridge::new()?;
/// let sum = bridge.run("let s = 0; for n in countdown(100) { s += n } s")?;
/// assert_eq!(sum, 5050);
/// assert_eq!(bridge.run("type_of(countdown(1))")?, "Stream");
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
pub struct ScriptStream<T> {
    source: StreamSource,
    _item: PhantomData<fn() -> T>,
}

impl<T: Serialize + 'static> ScriptStream<T> {
    /// The items of `stream`, each crossing to the script as its serde form.
    pub fn new(stream: impl Stream<Item = T> + 'static) -> Self {
        Self::from_items(Items {
            stream: Box::pin(stream),
            into_result: Ok::<T, CallFailure>,
        })
    }

    /// The items of a fallible `stream`: an `Err` is a catchable error of kind `error` at the
    /// script's loop (its `Display` is the message), and the loop ends there.
    ///
    /// ```
    /// # use bridge_runtime::ScriptStream;
    /// let rows = ScriptStream::try_new(futures_util::stream::iter([Ok(1), Err("row 2 is bad")]));
    /// ```
    pub fn try_new<E: Display + 'static>(
        stream: impl Stream<Item = Result<T, E>> + 'static,
    ) -> Self {
        Self::from_items(Items {
            stream: Box::pin(stream),
            into_result: |item: Result<T, E>| {
                item.map_err(|e| CallFailure::new(CallErrorKind::Error, e.to_string()))
            },
        })
    }

    fn from_items(items: impl PollItem + 'static) -> Self {
        Self {
            source: StreamSource {
                items: Some(Box::new(items)),
                taken: 0,
            },
            _item: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for ScriptStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptStream").finish_non_exhaustive()
    }
}

/// A stream's items with their type erased: each polled and turned into its `Send` form.
trait PollItem {
    fn poll_item(
        &mut self,
        cx: &mut Context<'_>,
        limits: &SizeLimits,
    ) -> Poll<Option<Result<SendableValue, CallFailure>>>;
}

struct Items<S, F> {
    stream: Pin<Box<S>>,
    into_result: F,
}

impl<S, F, T> PollItem for Items<S, F>
where
    S: Stream,
    F: FnMut(S::Item) -> Result<T, CallFailure>,
    T: Serialize,
{
    fn poll_item(
        &mut self,
        cx: &mut Context<'_>,
        limits: &SizeLimits,
    ) -> Poll<Option<Result<SendableValue, CallFailure>>> {
        let Some(item) = std::task::ready!(self.stream.as_mut().poll_next(cx)) else {
            return Poll::Ready(None);
        };
        let item = match (self.into_result)(item) {
            Ok(item) => item,
            Err(failure) => return Poll::Ready(Some(Err(failure))),
        };
        let converted = SendableValue::from_rust_within(&item, limits);
        drop_quietly(item);
        Poll::Ready(Some(converted.map_err(|e| {
            let kind = if e.is_over_limit() {
                CallErrorKind::Limit
            } else {
                CallErrorKind::Return
            };
            CallFailure::new(kind, format!("a stream item has no script form: {e}"))
        })))
    }
}

/// A stream as the worker's table keeps it: its items, until they end.
pub(crate) struct StreamSource {
    /// `None` once the stream ended, failed or panicked (it was dropped then).
    items: Option<Box<dyn PollItem>>,
    /// How many items it gave so far.
    taken: u64,
}

impl ScriptResource for StreamSource {
    const TYPE_NAME: &'static str = STREAM_TYPE_NAME;
}

/// Items pulled from a stream in one go, and how it ended if it did.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) items: Vec<SendableValue>,
    /// `None` while the stream goes on.
    pub(crate) end: Option<StreamEnd>,
}

/// How a stream ended.
#[derive(Debug)]
pub(crate) enum StreamEnd {
    /// It had no more items.
    Finished,
    /// An item was an error (or polling panicked): the script's loop raises it, then ends.
    Failed(CallFailure),
}

impl StreamSource {
    /// The next batch: as many items as are ready, at least one unless the stream ended, at most
    /// [`MAX_BATCH_ITEMS`] and about [`MAX_BATCH_BYTES`]; each item within `limits`.
    pub(crate) async fn next_batch(&mut self, limits: &SizeLimits) -> Batch {
        let mut items = Vec::new();
        let mut bytes = 0;
        let end = std::future::poll_fn(|cx| loop {
            if items.len() >= MAX_BATCH_ITEMS || bytes >= MAX_BATCH_BYTES {
                return Poll::Ready(None);
            }
            let Some(source) = self.items.as_mut() else {
                return Poll::Ready(Some(StreamEnd::Finished));
            };
            let polled = catch_unwind(AssertUnwindSafe(|| source.poll_item(cx, limits)));
            let end = match polled {
                Ok(Poll::Pending) if items.is_empty() => return Poll::Pending,
                Ok(Poll::Pending) => return Poll::Ready(None),
                Ok(Poll::Ready(Some(Ok(item)))) => {
                    bytes += approximate_size(&item);
                    items.push(item);
                    self.taken += 1;
                    continue;
                }
                Ok(Poll::Ready(Some(Err(failure)))) => StreamEnd::Failed(failure),
                Ok(Poll::Ready(None)) => StreamEnd::Finished,
                Err(panic) => StreamEnd::Failed(CallFailure::new(
                    CallErrorKind::Panic,
                    format!(
                        "the stream panicked after {} items: {}",
                        self.taken,
                        describe_panic(panic)
                    ),
                )),
            };
            // Ended: the stream is dropped now, not when the script lets go of it.
            drop_quietly(self.items.take());
            return Poll::Ready(Some(end));
        })
        .await;
        Batch { items, end }
    }
}

/// About how many bytes `value` holds, to bound a batch.
fn approximate_size(value: &SendableValue) -> usize {
    const SLOT: usize = std::mem::size_of::<SendableValue>();
    SLOT + match value {
        SendableValue::String(text) => text.len(),
        SendableValue::Blob(bytes) => bytes.len(),
        SendableValue::Array(items) => items.iter().map(approximate_size).sum(),
        SendableValue::Map(entries) => entries
            .iter()
            .map(|(key, value)| key.len() + approximate_size(value))
            .sum(),
        _ => 0,
    }
}

impl<T: Serialize + 'static> ScriptValue for ScriptStream<T> {
    type Sent = NewStream;

    fn on_worker(self, worker: Option<&WorkerSide<'_>>) -> Result<NewStream, CallFailure> {
        match worker {
            Some(worker) => {
                let kept = worker
                    .tables
                    .keep(Resource::new(self.source), worker.scope)?;
                Ok(NewStream { inner: kept.inner })
            }
            None => Err(CallFailure::new(
                CallErrorKind::Return,
                "it returns a Stream, which only a script's call run on the worker can iterate \
                 (not a host's dispatch, nor an eager call)"
                    .to_owned(),
            )),
        }
    }
}

/// A stream just kept in the worker's table, on its way to the script as its token.
pub struct NewStream {
    inner: Arc<TokenInner>,
}

impl SentValue for NewStream {
    fn into_dynamic(self) -> Result<Dynamic, CallFailure> {
        self.into_dynamic_from("a function")
    }

    fn into_dynamic_from(self, function: &'static str) -> Result<Dynamic, CallFailure> {
        Ok(Dynamic::from(StreamToken {
            inner: self.inner,
            function,
            pulled: Arc::default(),
        }))
    }

    fn resource_type(&self) -> Option<&'static str> {
        Some(STREAM_TYPE_NAME)
    }
}

/// The script value of a stream: the resource's token, the function that returned it (its
/// errors name it), and the items pulled and not yet used, which every copy shares (so a second
/// loop goes on where the first stopped).
#[derive(Clone)]
pub(crate) struct StreamToken {
    pub(crate) inner: Arc<TokenInner>,
    pub(crate) function: &'static str,
    pub(crate) pulled: Arc<Mutex<Pulled>>,
}

impl StreamToken {
    /// The items pulled and not yet used.
    pub(crate) fn pulled(&self) -> std::sync::MutexGuard<'_, Pulled> {
        self.pulled.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the engine thread holds of a stream: one batch at most, and how it ended.
#[derive(Default)]
pub(crate) struct Pulled {
    pub(crate) items: VecDeque<SendableValue>,
    pub(crate) end: Option<StreamEnd>,
}
