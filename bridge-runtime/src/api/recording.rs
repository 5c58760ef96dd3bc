//! [`RecordAndReplay`]: the builder's record, replay and mock methods (the mechanism is
//! [`crate::call::call_records`]).

use crate::api::builder::BridgeBuilder;
use crate::call::call_records::MockFn;
use crate::call::replay_log::read_recorded;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::io::{BufRead, Write};
use std::sync::Arc;

/// Record, replay and mock, on a [`BridgeBuilder`]: for tests and debugging, so they stand
/// apart from the builder's own settings. `use bridge_runtime::record::RecordAndReplay;` to
/// call them. Implemented for [`BridgeBuilder`] only.
pub trait RecordAndReplay: Sized + sealed::Sealed {
    /// Writes every call scripts make as one JSON line to `writer`: its number (in the order
    /// calls were made; lines are written as calls finish), the function, the arguments
    /// by parameter name, the `result` or the `error` (`kind` and `message`), the duration in
    /// microseconds and the script's name. Mocked and replayed calls are recorded too (a
    /// replayed one with duration 0).
    ///
    /// The lines are written by a thread of the record's own, so a writer that blocks (a
    /// stalled pipe, a slow disk) holds up no script: up to 4,096 lines wait for it. A call that
    /// cannot be recorded fails at once with an error of kind `"recording"` saying why: the
    /// buffer is full, or the writer failed or panicked on an earlier line (after which nothing
    /// more is recorded). Dropping the bridge lets the writer finish the buffered lines, waiting
    /// at most 5 seconds for it.
    ///
    /// ```
    /// use bridge_runtime::record::RecordAndReplay;
    /// use bridge_runtime::{script_async, Bridge};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[script_async]
    /// async fn add_tax(amount: i64) -> i64 {
    ///     amount * 120 / 100
    /// }
    ///
    /// #[derive(Clone, Default)]
    /// struct Log(Arc<Mutex<Vec<u8>>>);
    /// impl std::io::Write for Log {
    ///     fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
    ///         self.0.lock().unwrap().write(bytes)
    ///     }
    ///     fn flush(&mut self) -> std::io::Result<()> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let log = Log::default();
    /// let bridge = Bridge::builder().record(log.clone()).build()?;
    /// assert_eq!(bridge.run("add_tax(100)")?, 120);
    /// drop(bridge); // writes what is buffered
    /// let line = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    /// assert!(line.starts_with(r#"{"call":1,"function":"add_tax","arguments":{"amount":100},"result":120,"#));
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    fn record(self, writer: impl Write + Send + 'static) -> Self;

    /// Serves the calls recorded by [`record`](Self::record), in order, without calling the
    /// real functions: each call must be the next recorded one (same function, same
    /// arguments), and gets the recorded value or error. A call that is not, or one past the
    /// end, fails with an error of kind `"recording"` naming the recorded call and the one the
    /// script made. Concurrent scripts share the one sequence.
    ///
    /// The log is input, and checked as such: at most 64 MiB are read, and
    /// [`build`](crate::BridgeBuilder::build) fails, naming the line, on a line that is not a recorded call, calls
    /// a function this bridge does not expose, has both a `result` and an `error`, an error of
    /// an unknown kind, or a result that is not the function's script type (an `int` function's
    /// `"7"`), and on call numbers used twice or skipped (a log may also number none).
    fn replay(self, reader: impl BufRead) -> Self;

    /// Serves calls of the function scripts call `name` with `mock` instead: it gets the
    /// script's arguments as a JSON object by parameter name (after they were checked against
    /// the parameters' types, as for the real function) and returns the script's value, or an
    /// `Err` message the script gets as an error of kind `"error"`. It runs on the worker's
    /// blocking pool, where a slow mock holds up only its own script: the script's deadline,
    /// its cancel and the call's time limit end the wait as they end a real call's (the mock
    /// itself runs on to its end). A `name` the bridge does not expose fails
    /// [`build`](crate::BridgeBuilder::build).
    ///
    /// ```
    /// use bridge_runtime::record::RecordAndReplay;
    /// use bridge_runtime::{script_async, Bridge, Value};
    ///
    /// #[script_async]
    /// async fn account_balance(account: String) -> Result<i64, String> {
    ///     unimplemented!("talks to the database")
    /// }
    ///
    /// let bridge = Bridge::builder()
    ///     .mock("account_balance", |args: Value| match args["account"].as_str() {
    ///         Some("ada") => Ok(Value::from(250)),
    ///         _ => Err("no such account".to_owned()),
    ///     })
    ///     .build()?;
    /// assert_eq!(bridge.run(r#"account_balance("ada") - 50"#)?, 200);
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    fn mock(
        self,
        name: &str,
        mock: impl Fn(Value) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self;

    /// [`mock`](Self::mock) with typed arguments and result: `A` is deserialized from the
    /// arguments in order (a tuple such as `(i64, String)`, or `(i64,)` for one), and `R` is
    /// what the script gets. Arguments that do not fit `A` are an error for that call.
    ///
    /// ```
    /// use bridge_runtime::record::RecordAndReplay;
    /// use bridge_runtime::{script_async, Bridge};
    ///
    /// #[script_async]
    /// async fn shipping_cost(weight_kg: f64, country: String) -> f64 {
    ///     unimplemented!("asks the carrier")
    /// }
    ///
    /// let bridge = Bridge::builder()
    ///     .mock_typed("shipping_cost", |(weight, country): (f64, String)| {
    ///         Ok(if country == "NL" { weight * 2.0 } else { weight * 5.0 })
    ///     })
    ///     .build()?;
    /// assert_eq!(bridge.run(r#"shipping_cost(3, "NL")"#)?, 6.0);
    /// # Ok::<(), bridge_runtime::Error>(())
    /// ```
    fn mock_typed<A, R>(
        self,
        name: &str,
        mock: impl Fn(A) -> Result<R, String> + Send + Sync + 'static,
    ) -> Self
    where
        A: DeserializeOwned,
        R: Serialize;
}

mod sealed {
    /// Keeps [`RecordAndReplay`](super::RecordAndReplay) to the bridge's own builder.
    pub trait Sealed {}
    impl Sealed for crate::api::builder::BridgeBuilder {}
}

impl RecordAndReplay for BridgeBuilder {
    fn record(mut self, writer: impl Write + Send + 'static) -> Self {
        self.records.recorder = Some(Box::new(writer));
        self
    }

    fn replay(mut self, reader: impl BufRead) -> Self {
        self.records.replay = Some(read_recorded(reader));
        self
    }

    fn mock(
        mut self,
        name: &str,
        mock: impl Fn(Value) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        let mock = MockFn::ByName(Arc::new(mock));
        self.records.mocks.insert(name.to_owned(), mock);
        self
    }

    fn mock_typed<A, R>(
        mut self,
        name: &str,
        mock: impl Fn(A) -> Result<R, String> + Send + Sync + 'static,
    ) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
    {
        let function = name.to_owned();
        let mock = MockFn::InOrder(Arc::new(move |in_order| {
            let typed = serde_json::from_value(Value::Array(in_order)).map_err(|e| {
                format!("mock of `{function}`: the arguments do not fit its argument type: {e}")
            })?;
            let result = mock(typed)?;
            serde_json::to_value(result)
                .map_err(|e| format!("mock of `{function}`: its result has no JSON form: {e}"))
        }));
        self.records.mocks.insert(name.to_owned(), mock);
        self
    }
}
