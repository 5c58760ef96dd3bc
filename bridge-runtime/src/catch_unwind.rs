//! A future wrapper that turns a panic while polling into an error message.
//!
//! Hand-written because it is fifteen lines; `futures-util`'s `catch_unwind` would pull in a large
//! crate for it.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// Polls `F`, catching a panic and yielding its message as `Err`.
    pub(crate) struct CatchUnwind<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> CatchUnwind<F> {
    pub(crate) fn new(future: F) -> Self {
        Self { future }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.project().future;
        // The future is dropped, never polled again, after a panic, so no broken state is observed.
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(describe_panic(payload))),
        }
    }
}

/// The text of a panic payload, and the payload dropped without letting a panic out: a payload
/// whose own `Drop` panics would otherwise unwind out of the code that caught the first panic
/// (a worker or engine thread).
pub(crate) fn describe_panic(payload: Box<dyn Any + Send>) -> String {
    let message = panic_message(payload.as_ref());
    drop_quietly(payload);
    message
}

/// Drops `value`; a panic in its `Drop` is caught, and that panic's payload leaked rather than
/// dropped (its `Drop` could panic again).
pub(crate) fn drop_quietly<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        std::mem::forget(payload);
    }
}

/// Runs `drop_value`, which drops something that may panic in its `Drop`; returns that panic's
/// message if it did.
pub(crate) fn catch_drop_panic(drop_value: impl FnOnce()) -> Option<String> {
    catch_unwind(AssertUnwindSafe(drop_value))
        .err()
        .map(describe_panic)
}

/// The text of a panic payload (`panic!("...")` carries a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "the panic carried no message".to_owned()
    }
}
