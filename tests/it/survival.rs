//! Nothing a script holds, and no failure of an engine thread, ends the bridge for other scripts:
//! a script's context is dropped on the worker inside its runtime (a transaction, a pooled
//! connection), a panic in a `Drop` is contained, and a failed engine thread is replaced.

use bridge_runtime::{script_async, Bridge, Error, ScriptContext};
use bridge_suite::child::in_child;
use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::time::Duration;

/// How long a test waits for something that should happen within milliseconds.
const PATIENCE: Duration = Duration::from_secs(10);

/// A context whose `Drop` needs a tokio runtime, as sqlx's `PoolConnection` does; it reports the
/// thread it was dropped on and whether a runtime was there.
struct NeedsTokioToDrop {
    dropped: Sender<(Option<String>, bool)>,
}

impl Drop for NeedsTokioToDrop {
    fn drop(&mut self) {
        let in_runtime = tokio::runtime::Handle::try_current().is_ok();
        // As sqlx does: this panics outside a runtime.
        let _ = tokio::runtime::Handle::current();
        let thread = std::thread::current().name().map(str::to_owned);
        let _ = self.dropped.send((thread, in_runtime));
    }
}

#[script_async]
async fn touch_context(context: ScriptContext<NeedsTokioToDrop>) -> i64 {
    let _ = &context.dropped;
    1
}

#[script_async]
async fn ping_once() -> i64 {
    1
}

#[script_async]
async fn pause(ms: i64) -> i64 {
    tokio::time::sleep(Duration::from_millis(ms as u64)).await;
    ms
}

#[test]
fn a_context_that_needs_tokio_to_drop_is_dropped_on_the_worker_in_every_ending() {
    let bridge = Bridge::builder().max_engine_threads(1).build().unwrap();
    let endings = [
        ("touch_context() + 1", None),
        ("touch_context(); throw \"no\"", None),
        ("touch_context(); loop {}", Some(Duration::from_millis(50))),
        ("1 + 1", None),
    ];
    for (source, timeout) in endings {
        let (dropped, drops) = channel();
        let mut run = bridge.script(source).context(NeedsTokioToDrop { dropped });
        if let Some(limit) = timeout {
            run = run.timeout(limit);
        }
        let _ = run.run();
        let (thread, in_runtime) = drops
            .recv_timeout(PATIENCE)
            .expect("the context was dropped");
        assert_eq!(thread.as_deref(), Some("bridge-worker"), "{source}");
        assert!(in_runtime, "{source}");
    }
    assert_eq!(bridge.run("ping_once() + 1").unwrap(), 2);
}

#[test]
fn a_context_held_by_a_handle_is_still_dropped_on_the_worker() {
    let bridge = Bridge::new().unwrap();
    let (dropped, drops) = channel();
    let handle = bridge
        .script("touch_context()")
        .context(NeedsTokioToDrop { dropped })
        .spawn();
    assert_eq!(handle.join().unwrap(), 1);
    let (thread, in_runtime) = drops.recv_timeout(PATIENCE).unwrap();
    assert_eq!(thread.as_deref(), Some("bridge-worker"));
    assert!(in_runtime);
}

/// A context whose `Drop` panics.
struct PanicsWhenDropped;

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("this context panics as it is dropped");
    }
}

#[test]
fn a_context_that_panics_as_it_drops_harms_no_script() {
    in_child(
        "survival::a_context_that_panics_as_it_drops_harms_no_script",
        || {
            let bridge = Bridge::sandboxed().max_engine_threads(1).build().unwrap();
            for round in 0..5 {
                let out = bridge
                    .script("ping_once() + 1")
                    .context(PanicsWhenDropped)
                    .run();
                assert_eq!(out.unwrap(), 2, "round {round}");
            }
            assert_eq!(bridge.run("ping_once()").unwrap(), 1);
            assert_eq!(bridge.engine_threads(), 1);
        },
    );
}

/// A transaction kept in a script's context between calls, as the axum + sqlx service did.
struct Ledger {
    transaction: tokio::sync::Mutex<Option<sqlx::Transaction<'static, sqlx::Sqlite>>>,
    pool: sqlx::SqlitePool,
}

#[script_async]
async fn begin(ledger: ScriptContext<Ledger>) -> Result<(), String> {
    let transaction = ledger.pool.begin().await.map_err(|e| e.to_string())?;
    *ledger.transaction.lock().await = Some(transaction);
    Ok(())
}

#[script_async]
async fn add_entry(ledger: ScriptContext<Ledger>, amount: i64) -> Result<(), String> {
    let mut slot = ledger.transaction.lock().await;
    let transaction = slot.as_mut().ok_or("no transaction: call begin() first")?;
    sqlx::query("insert into ledger (amount) values (?)")
        .bind(amount)
        .execute(&mut **transaction)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[test]
fn a_forgotten_transaction_is_rolled_back_and_its_connection_returned() {
    let bridge = Bridge::sandboxed().max_engine_threads(1).build().unwrap();
    let pool = bridge.runtime_handle().block_on(async {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("create table ledger (amount integer)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    });
    let endings = [
        ("begin(); add_entry(901); \"done\"", None),
        ("begin(); add_entry(902); throw \"stop\"", None),
        (
            "begin(); add_entry(903); loop {}",
            Some(Duration::from_millis(50)),
        ),
    ];
    for (source, timeout) in endings {
        let ledger = Ledger {
            transaction: tokio::sync::Mutex::new(None),
            pool: pool.clone(),
        };
        let mut run = bridge.script(source).context(ledger);
        if let Some(limit) = timeout {
            run = run.timeout(limit);
        }
        let _ = run.run();
        // With one connection, the next transaction can begin only once the last was rolled
        // back and its connection came back to the pool.
        let next = Ledger {
            transaction: tokio::sync::Mutex::new(None),
            pool: pool.clone(),
        };
        let out = bridge
            .script("begin(); add_entry(1); 7")
            .context(next)
            .timeout(PATIENCE)
            .run();
        assert_eq!(out.unwrap(), 7, "after {source}");
    }
    let (tx, rx) = channel();
    let counting = pool.clone();
    bridge.runtime_handle().spawn(async move {
        let rows: i64 = sqlx::query_scalar("select count(*) from ledger")
            .fetch_one(&counting)
            .await
            .unwrap();
        let _ = tx.send(rows);
    });
    assert_eq!(
        rx.recv_timeout(PATIENCE).unwrap(),
        0,
        "nothing was committed"
    );
}

#[test]
fn a_failed_engine_thread_ends_its_scripts_clearly_and_is_replaced() {
    in_child(
        "survival::a_failed_engine_thread_ends_its_scripts_clearly_and_is_replaced",
        || {
            let bridge = Bridge::builder().max_engine_threads(1).build().unwrap();
            let first = bridge.spawn("pause(300)");
            std::thread::sleep(Duration::from_millis(50));
            bridge.__fail_an_engine_thread();
            // Goes to the same thread, which fails as it starts it.
            let second = bridge.spawn("pause(1) + 1");
            for handle in [first, second] {
                match handle.join() {
                    Err(Error::Internal(message)) => {
                        assert!(message.contains("engine thread"), "{message}");
                        assert!(message.contains("took its place"), "{message}");
                    }
                    other => panic!("expected the thread's failure, got {other:?}"),
                }
            }
            for _ in 0..20 {
                assert_eq!(bridge.run("ping_once() + ping_once()").unwrap(), 2);
            }
            assert_eq!(bridge.engine_threads(), 1);
        },
    );
}

#[test]
fn runtime_handle_runs_tasks_beside_the_calls() {
    let bridge = Bridge::new().unwrap();
    let seen = std::sync::Arc::new(Mutex::new(None));
    let (tx, rx) = channel();
    let slot = seen.clone();
    bridge.runtime_handle().spawn(async move {
        *slot.lock().unwrap() = std::thread::current().name().map(str::to_owned);
        let _ = tx.send(());
    });
    rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(seen.lock().unwrap().as_deref(), Some("bridge-worker"));
}
