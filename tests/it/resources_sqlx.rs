//! A real transaction as a resource: sqlx on an in-memory SQLite pool of one connection, so a
//! connection never given back makes the next `begin` time out. A forgotten transaction is
//! rolled back (by its close hook, on the worker) and its connection returned however its script
//! ends.

use bridge_runtime::{script_async, Bridge, Limits, Resource, State};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The pool the functions below share.
struct Notes(SqlitePool);

/// One open transaction.
pub struct SqTx {
    tx: Transaction<'static, Sqlite>,
}

/// How many forgotten transactions the close hook rolled back.
static ROLLED_BACK: AtomicUsize = AtomicUsize::new(0);

#[script_async]
impl SqTx {
    /// Adds a note inside the transaction.
    async fn insert(&mut self, text: String) -> Result<(), String> {
        sqlx::query("INSERT INTO sq_notes (text) VALUES (?)")
            .bind(text)
            .execute(&mut *self.tx)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Commits: the notes stay.
    async fn commit(self) -> Result<(), String> {
        self.tx.commit().await.map_err(|e| e.to_string())
    }
}

/// Begins a transaction; if the script lets it go uncommitted, it is rolled back.
#[script_async]
async fn sq_begin(notes: State<Notes>) -> Result<Resource<SqTx>, String> {
    let tx = notes.0.begin().await.map_err(|e| e.to_string())?;
    Ok(Resource::new(SqTx { tx }).on_close(|open| async move {
        if open.tx.rollback().await.is_ok() {
            ROLLED_BACK.fetch_add(1, Ordering::SeqCst);
        }
    }))
}

/// How many notes are committed (waits for the one connection).
#[script_async]
async fn sq_count(notes: State<Notes>) -> Result<i64, String> {
    sqlx::query_scalar("SELECT COUNT(*) FROM sq_notes")
        .fetch_one(&notes.0)
        .await
        .map_err(|e| e.to_string())
}

/// Creates the table.
#[script_async]
async fn sq_setup(notes: State<Notes>) -> Result<(), String> {
    sqlx::query("CREATE TABLE sq_notes (text TEXT NOT NULL)")
        .execute(&notes.0)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

fn pool() -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy("sqlite::memory:")
        .expect("an in-memory pool")
}

fn bridge(pool: &SqlitePool) -> Bridge {
    Bridge::builder()
        .state(Notes(pool.clone()))
        .limits(Limits::default().script_timeout(Duration::from_millis(300)))
        .build()
        .unwrap()
}

/// Waits (up to 5 s) for `count` rollbacks.
fn wait_for_rollbacks(count: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while ROLLED_BACK.load(Ordering::SeqCst) < count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(ROLLED_BACK.load(Ordering::SeqCst), count, "rollbacks");
}

#[test]
fn a_forgotten_transaction_is_rolled_back_and_its_connection_returned_in_every_ending() {
    let pool = pool();
    let bridge = bridge(&pool);
    bridge.run("sq_setup()").unwrap();
    bridge
        .run(r#"let tx = sq_begin(); tx.insert("kept"); tx.commit();"#)
        .unwrap();
    let mut rollbacks = ROLLED_BACK.load(Ordering::SeqCst);
    let endings = [
        r#"let tx = sq_begin(); tx.insert("result"); 1"#,
        r#"let tx = sq_begin(); tx.insert("error"); throw "failed""#,
        r#"let tx = sq_begin(); tx.insert("timeout"); loop {}"#,
        r#"let tx = sq_begin(); tx.insert("let go"); tx = (); 1"#,
    ];
    for script in endings {
        let _ = bridge.run(script);
        rollbacks += 1;
        wait_for_rollbacks(rollbacks);
        // The one connection is back: counting does not time out, and sees only the commit.
        assert_eq!(bridge.run("sq_count()").unwrap(), 1, "after: {script}");
    }
    let cancelled = bridge.spawn(r#"let tx = sq_begin(); tx.insert("cancel"); loop {}"#);
    std::thread::sleep(Duration::from_millis(50));
    cancelled.cancel();
    let _ = cancelled.join();
    rollbacks += 1;
    wait_for_rollbacks(rollbacks);
    assert_eq!(bridge.run("sq_count()").unwrap(), 1);
    // Held while the bridge drops: rolled back before the drop returns.
    let _held = bridge.spawn(r#"let tx = sq_begin(); tx.insert("dropped"); sleep(10); 1"#);
    std::thread::sleep(Duration::from_millis(100));
    drop(bridge);
    rollbacks += 1;
    assert_eq!(ROLLED_BACK.load(Ordering::SeqCst), rollbacks);
    let after = self::bridge(&pool);
    assert_eq!(after.run("sq_count()").unwrap(), 1);
}
