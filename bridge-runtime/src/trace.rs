//! `tracing` spans for scripts and calls, behind the default-on `tracing` cargo feature.
//!
//! A script's span (`script`, with its id and name) is created where the script is started, so it
//! nests under the caller's own span (a request handler's, say), and is entered on the engine
//! thread whenever the script runs. A call's span (`call`, with the function's name) is created
//! inside it; the call's future runs inside it on the worker, so the function's own events nest
//! there, and it records the call's `outcome` (`ok` or the error kind) and `duration_us`.
//!
//! With no subscriber interested, creating a span is one relaxed atomic load and no clock is
//! read. Without the feature, everything here is empty and compiles away.

#[cfg(feature = "tracing")]
mod enabled {
    use std::future::Future;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Instant;
    use tracing::field::Empty;
    use tracing::Instrument;

    /// A span, or nothing when no subscriber wants it.
    pub(crate) type Span = tracing::Span;

    /// The span of a script about to start.
    pub(crate) fn script_span(name: Option<&str>) -> Span {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let span = tracing::info_span!("script", id = Empty, name = name, outcome = Empty);
        if !span.is_disabled() {
            span.record("id", NEXT_ID.fetch_add(1, Ordering::Relaxed));
        }
        span
    }

    /// No span, for calls made outside the bridge's own paths (tests).
    #[cfg(test)]
    pub(crate) fn no_span() -> Span {
        Span::none()
    }

    /// Records how the script ended.
    pub(crate) fn script_ended(span: &Span, outcome: &str) {
        span.record("outcome", outcome);
    }

    /// Runs `body` inside `span`.
    pub(crate) fn in_span<R>(span: &Span, body: impl FnOnce() -> R) -> R {
        span.in_scope(body)
    }

    /// Reports that dropping `what` panicked (caught: the bridge's thread went on).
    pub(crate) fn drop_panicked(what: &str, panic: &str) {
        tracing::error!(
            what,
            panic,
            "a value the bridge dropped panicked in its Drop"
        );
    }

    /// Reports that a resource's close hook ran past its time limit and was dropped.
    pub(crate) fn close_timed_out(limit: std::time::Duration) {
        let limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
        tracing::warn!(
            limit_ms,
            "a resource's close hook ran past the bridge's close_timeout and was dropped"
        );
    }

    /// Reports that a shutting-down worker stopped waiting for resources still held (a guard
    /// kept in a task of the host's own) and let them go with its runtime.
    pub(crate) fn close_all_gave_up(limit: std::time::Duration) {
        let limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
        tracing::warn!(
            limit_ms,
            "closing the resources of a dropped bridge took longer than twice its close_timeout; the rest are dropped with its runtime"
        );
    }

    /// Reports that an engine thread failed and was replaced.
    pub(crate) fn engine_thread_failed(panic: &str, scripts_ended: usize) {
        tracing::error!(
            panic,
            scripts_ended,
            "an engine thread failed; a new one takes its place"
        );
    }

    /// A call's span, and when it started.
    pub(crate) struct CallTrace {
        span: Span,
        started: Option<Instant>,
    }

    impl CallTrace {
        /// The span of a call of `function`, inside the running script's.
        pub(crate) fn start(function: &str) -> Self {
            let span = tracing::debug_span!(
                "call",
                function = function,
                outcome = Empty,
                duration_us = Empty
            );
            let started = (!span.is_disabled()).then(Instant::now);
            Self { span, started }
        }

        /// The call's span (the worker runs the call's future in a clone of it).
        pub(crate) fn span(&self) -> &Span {
            &self.span
        }

        /// Records the call's outcome (`ok` or the error kind), once.
        pub(crate) fn finish(&mut self, outcome: &str) {
            if let Some(started) = self.started.take() {
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.span.record("outcome", outcome);
                self.span.record("duration_us", micros);
            }
        }
    }

    impl Drop for CallTrace {
        fn drop(&mut self) {
            // Not finished: the script stopped while the call was in flight.
            self.finish("stopped");
        }
    }

    pin_project_lite::pin_project! {
        /// A future run inside its span, or just the future when no subscriber wants the span:
        /// entering and leaving a disabled span still costs its checks on every poll (and, with
        /// `tracing`'s `log` feature on, which a dependency such as sqlx turns on, a look at the
        /// logger each time), a few hundred instructions on every call the worker runs.
        #[project = TracedProjection]
        pub(crate) enum Traced<F> {
            Plain { #[pin] future: F },
            InSpan { #[pin] future: tracing::instrument::Instrumented<F> },
        }
    }

    impl<F: Future> Future for Traced<F> {
        type Output = F::Output;

        fn poll(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<F::Output> {
            match self.project() {
                TracedProjection::Plain { future } => future.poll(cx),
                TracedProjection::InSpan { future } => future.poll(cx),
            }
        }
    }

    /// `future`, run inside `span` if any subscriber wants it.
    pub(crate) fn instrument<F: Future>(future: F, span: Span) -> Traced<F> {
        if span.is_disabled() {
            Traced::Plain { future }
        } else {
            Traced::InSpan {
                future: future.instrument(span),
            }
        }
    }
}

#[cfg(not(feature = "tracing"))]
mod disabled {
    use std::future::Future;

    /// No span: the `tracing` feature is off.
    #[derive(Clone)]
    pub(crate) struct Span;

    pub(crate) fn script_span(_name: Option<&str>) -> Span {
        Span
    }

    #[cfg(test)]
    pub(crate) fn no_span() -> Span {
        Span
    }

    pub(crate) fn script_ended(_span: &Span, _outcome: &str) {}

    pub(crate) fn in_span<R>(_span: &Span, body: impl FnOnce() -> R) -> R {
        body()
    }

    pub(crate) fn drop_panicked(_what: &str, _panic: &str) {}

    pub(crate) fn close_timed_out(_limit: std::time::Duration) {}

    pub(crate) fn close_all_gave_up(_limit: std::time::Duration) {}

    pub(crate) fn engine_thread_failed(_panic: &str, _scripts_ended: usize) {}

    pub(crate) struct CallTrace;

    impl CallTrace {
        pub(crate) fn start(_function: &str) -> Self {
            Self
        }

        pub(crate) fn span(&self) -> &Span {
            &Span
        }

        pub(crate) fn finish(&mut self, _outcome: &str) {}
    }

    pub(crate) fn instrument<F: Future>(future: F, _span: Span) -> F {
        future
    }
}

#[cfg(all(test, not(feature = "tracing")))]
pub(crate) use disabled::no_span;
#[cfg(not(feature = "tracing"))]
pub(crate) use disabled::{
    close_all_gave_up, close_timed_out, drop_panicked, engine_thread_failed, in_span, instrument,
    script_ended, script_span, CallTrace, Span,
};
#[cfg(all(test, feature = "tracing"))]
pub(crate) use enabled::no_span;
#[cfg(feature = "tracing")]
pub(crate) use enabled::{
    close_all_gave_up, close_timed_out, drop_panicked, engine_thread_failed, in_span, instrument,
    script_ended, script_span, CallTrace, Span,
};
