//! An axum service whose handlers run Rhai scripts that call async functions backed by an
//! embedded SQLite database (sqlx) and an HTTP API (reqwest).
//!
//! - `POST /quote` (JSON order, `x-user` header) runs a compiled pricing script with the order as
//!   its input and the caller as its context, and returns a typed `Quote`.
//! - `POST /run` (a script as the body) runs a user's script in the sandbox, with only the notes
//!   functions and a 2 s limit. Among them, host objects: a transaction the script holds
//!   (`begin_notes()`, a `Resource` whose methods it calls, rolled back if it never commits) and
//!   a callback (`retry(3, || ...)` runs the script's closure until it stops throwing), and a
//!   streamed query (`for note in each_note() { ... }` pulls the notes page by page).
//! - `GET /rates/{currency}` is the "upstream" exchange-rate API the scripts call over HTTP (here
//!   the same server, so the example needs no network).
//!
//! `cargo run --example web_service` serves on 127.0.0.1:3000;
//! `cargo run --example web_service -- --self-test` starts it on a free port, checks every route
//! against it, and exits 0 when all pass (the test suite runs this).

use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use bridge_runtime::{
    script_async, Bridge, Error, Limits, Resource, Script, ScriptCallback, ScriptContext,
    ScriptStream, State, Value,
};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::sync::Arc;
use std::time::Duration;

/// The database: shared state, given once to the bridge.
struct Db(SqlitePool);

/// The HTTP client and where the rates API is.
struct RatesApi {
    client: reqwest::Client,
    base_url: String,
}

/// Who is calling: per-script context, from the request.
struct Caller {
    user: String,
}

#[derive(Serialize, Deserialize)]
struct Note {
    id: i64,
    text: String,
}

/// Saves a note for the calling user and returns its id.
#[script_async(group = "notes")]
async fn add_note(db: State<Db>, caller: ScriptContext<Caller>, text: &str) -> Result<i64, String> {
    let result = sqlx::query("INSERT INTO notes (user, text) VALUES (?, ?)")
        .bind(&caller.user)
        .bind(text)
        .execute(&db.0)
        .await
        .map_err(|e| e.to_string())?;
    Ok(result.last_insert_rowid())
}

/// The calling user's notes, oldest first.
#[script_async(group = "notes")]
async fn list_notes(db: State<Db>, caller: ScriptContext<Caller>) -> Result<Vec<Note>, String> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, text FROM notes WHERE user = ? ORDER BY id")
            .bind(&caller.user)
            .fetch_all(&db.0)
            .await
            .map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .map(|(id, text)| Note { id, text })
        .collect())
}

/// A transaction over the calling user's notes, held by a script: what it adds stays only if it
/// commits. (The example's pool has one connection, so a script holding one should commit
/// before it calls the other notes functions.)
pub struct NotesTx {
    tx: Transaction<'static, Sqlite>,
    user: String,
}

#[script_async(group = "notes")]
impl NotesTx {
    /// Adds a note inside the transaction; its id.
    async fn add(&mut self, text: String) -> Result<i64, String> {
        let result = sqlx::query("INSERT INTO notes (user, text) VALUES (?, ?)")
            .bind(&self.user)
            .bind(text)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| e.to_string())?;
        Ok(result.last_insert_rowid())
    }

    /// How many notes the user has, as the transaction sees them.
    async fn count(&mut self) -> Result<i64, String> {
        sqlx::query_scalar("SELECT COUNT(*) FROM notes WHERE user = ?")
            .bind(&self.user)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(|e| e.to_string())
    }

    /// Keeps what was added; the transaction is closed.
    async fn commit(self) -> Result<(), String> {
        self.tx.commit().await.map_err(|e| e.to_string())
    }
}

/// Begins a transaction for the calling user. One the script lets go without committing (or
/// still holds when it ends, however it ends) is rolled back on the worker.
#[script_async(group = "notes")]
async fn begin_notes(
    db: State<Db>,
    caller: ScriptContext<Caller>,
) -> Result<Resource<NotesTx>, String> {
    let tx = db.0.begin().await.map_err(|e| e.to_string())?;
    let notes = NotesTx {
        tx,
        user: caller.user.clone(),
    };
    Ok(Resource::new(notes).on_close(|notes| async move {
        let _ = notes.tx.rollback().await;
    }))
}

/// Calls `attempt` (a script function) up to `times` times, until it returns without throwing;
/// its last error otherwise.
#[script_async(group = "notes")]
async fn retry(times: i64, attempt: ScriptCallback) -> Result<Value, String> {
    let mut last = String::from("retry was asked for no attempts");
    for _ in 0..times.clamp(0, 10) {
        match attempt.call::<Value>(()).await {
            Ok(value) => return Ok(value),
            Err(error) => last = error.to_string(),
        }
    }
    Err(last)
}

/// The calling user's notes, oldest first, as a stream the script iterates with `for`: read from
/// the database a page at a time as the script asks for more, so a user with a million notes
/// costs one page of memory.
#[script_async(group = "notes")]
async fn each_note(db: State<Db>, caller: ScriptContext<Caller>) -> ScriptStream<Note> {
    const PAGE: i64 = 50;
    let start = (
        db.0.clone(),
        caller.user.clone(),
        0_i64,
        Vec::<Note>::new().into_iter(),
    );
    let notes = futures_util::stream::unfold(start, |(pool, user, after, mut page)| async move {
        if let Some(note) = page.next() {
            return Some((Ok(note), (pool, user, after, page)));
        }
        let rows: Result<Vec<(i64, String)>, _> = sqlx::query_as(
            "SELECT id, text FROM notes WHERE user = ? AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(&user)
        .bind(after)
        .bind(PAGE)
        .fetch_all(&pool)
        .await;
        match rows {
            Err(error) => Some((Err(error.to_string()), (pool, user, i64::MAX, page))),
            Ok(rows) if rows.is_empty() => None,
            Ok(rows) => {
                let last = rows.last().map_or(after, |(id, _)| *id);
                let mut page = rows
                    .into_iter()
                    .map(|(id, text)| Note { id, text })
                    .collect::<Vec<_>>()
                    .into_iter();
                let first = page.next()?;
                Some((Ok(first), (pool, user, last, page)))
            }
        }
    });
    ScriptStream::try_new(notes)
}

/// The exchange rate from euros to `currency`, asked of the rates API over HTTP.
#[script_async(group = "rates", timeout_ms = 1000)]
async fn exchange_rate(api: State<RatesApi>, currency: &str) -> Result<f64, String> {
    #[derive(Deserialize)]
    struct Rate {
        rate: f64,
    }
    let url = format!("{}/rates/{currency}", api.base_url);
    let response = api
        .client
        .get(url)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("no rate for {currency} ({})", response.status()));
    }
    let rate: Rate = response.json().await.map_err(|e| e.to_string())?;
    Ok(rate.rate)
}

/// The pricing script: compiled once, run per request with the order as its input.
const PRICING: &str = r#"
    let total = 0.0;
    for item in order.items {
        total += item.price * item.quantity;
    }
    let rate = if order.currency == "EUR" { 1.0 } else { exchange_rate(order.currency) };
    add_note(`quoted ${total} EUR`);
    #{ total_eur: total, total: total * rate, currency: order.currency, notes: list_notes().len() }
"#;

#[derive(Serialize, Deserialize)]
struct Order {
    items: Vec<Item>,
    currency: String,
}

#[derive(Serialize, Deserialize)]
struct Item {
    name: String,
    price: f64,
    quantity: i64,
}

/// What `/quote` answers: the pricing script's result, typed.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Quote {
    total_eur: f64,
    total: f64,
    currency: String,
    notes: i64,
}

struct App {
    /// Trusted scripts (ours): every function.
    bridge: Bridge,
    /// Users' scripts: the sandbox, notes only.
    sandbox: Bridge,
    pricing: Script,
}

type Shared = AxumState<Arc<App>>;

fn caller(headers: &HeaderMap) -> Caller {
    let user = headers
        .get("x-user")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("anonymous");
    Caller {
        user: user.to_owned(),
    }
}

fn bad_request(error: &Error) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, error.to_string())
}

async fn quote(
    AxumState(app): Shared,
    headers: HeaderMap,
    Json(order): Json<Order>,
) -> Result<Json<Quote>, (StatusCode, String)> {
    app.bridge
        .script(&app.pricing)
        .with("order", &order)
        .context(caller(&headers))
        .run_async_as::<Quote>()
        .await
        .map(Json)
        .map_err(|e| bad_request(&e))
}

async fn run_script(
    AxumState(app): Shared,
    headers: HeaderMap,
    script: String,
) -> Result<Json<Value>, (StatusCode, String)> {
    app.sandbox
        .script(script)
        .name("user-script")
        .context(caller(&headers))
        .run_async()
        .await
        .map(Json)
        .map_err(|e| bad_request(&e))
}

async fn rate(Path(currency): Path<String>) -> Result<Json<Value>, StatusCode> {
    let rate = match currency.as_str() {
        "USD" => 1.25,
        "GBP" => 0.8,
        _ => return Err(StatusCode::NOT_FOUND),
    };
    Ok(Json(serde_json::json!({ "rate": rate })))
}

/// Starts the service on `address`; returns where it listens and the server's task.
async fn start(
    address: &str,
) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    let local = listener.local_addr()?;
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await?;
    sqlx::query("CREATE TABLE notes (id INTEGER PRIMARY KEY, user TEXT NOT NULL, text TEXT)")
        .execute(&pool)
        .await?;
    let api = || RatesApi {
        client: reqwest::Client::new(),
        base_url: format!("http://{local}"),
    };
    let bridge = Bridge::builder()
        .state(Db(pool.clone()))
        .state(api())
        .limits(Limits::default().script_timeout(Duration::from_secs(5)))
        .build()?;
    let sandbox = Bridge::sandboxed()
        .state(Db(pool))
        .allow_group("notes")
        .limits(Limits::sandboxed().script_timeout(Duration::from_secs(2)))
        .build()?;
    let pricing = bridge.compile(Script::new(PRICING).named("pricing.rhai"))?;
    let app = Arc::new(App {
        bridge,
        sandbox,
        pricing,
    });
    let router = Router::new()
        .route("/quote", post(quote))
        .route("/run", post(run_script))
        .route("/rates/{currency}", get(rate))
        .with_state(app);
    let server = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            eprintln!("server stopped: {error}");
        }
    });
    Ok((local, server))
}

/// A request's status and body, or why it could not be sent.
async fn answer(request: reqwest::RequestBuilder) -> Result<(reqwest::StatusCode, String), String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    Ok((status, body))
}

/// Checks every route against a running server; returns the first failure.
async fn self_test(address: std::net::SocketAddr) -> Result<(), String> {
    let client = reqwest::Client::new();
    let base = format!("http://{address}");
    let order = serde_json::json!({
        "items": [
            { "name": "tea", "price": 2.5, "quantity": 2 },
            { "name": "cake", "price": 4.0, "quantity": 1 }
        ],
        "currency": "USD"
    });
    let quote = |user: &'static str| {
        let request = client.post(format!("{base}/quote")).header("x-user", user);
        let request = request.json(&order);
        async move {
            let (status, body) = answer(request).await?;
            serde_json::from_str::<Quote>(&body).map_err(|e| format!("{status}: {body}: {e}"))
        }
    };
    let first = quote("ada").await?;
    let expected = Quote {
        total_eur: 9.0,
        total: 11.25,
        currency: "USD".into(),
        notes: 1,
    };
    check(first == expected, format!("/quote answered {first:?}"))?;
    check(
        quote("ada").await?.notes == 2,
        "ada's second quote sees two notes",
    )?;

    let unknown = serde_json::json!({ "items": [], "currency": "XYZ" });
    let (status, body) = answer(client.post(format!("{base}/quote")).json(&unknown)).await?;
    check(
        status == 400 && body.contains("no rate for XYZ") && body.contains("pricing.rhai"),
        format!("an unknown currency is a clear error: {status} {body}"),
    )?;

    let run = |user: &'static str, script: &'static str| {
        let request = client.post(format!("{base}/run")).header("x-user", user);
        answer(request.body(script))
    };
    let (_, notes) = run("ada", "list_notes().map(|n| n.text)").await?;
    check(
        notes == r#"["quoted 9.0 EUR","quoted 9.0 EUR"]"#,
        format!("a user's script reads their notes: {notes}"),
    )?;
    let (_, others) = run("grace", "list_notes().len()").await?;
    check(others == "0", "another user sees none of them")?;

    // Host objects: a transaction committed, one forgotten (rolled back), a callback retried.
    let (_, committed) = run(
        "ada",
        r#"let tx = begin_notes(); tx.add("draft"); tx.add("final"); let seen = tx.count();
           tx.commit(); [seen, list_notes().len()]"#,
    )
    .await?;
    check(
        committed == "[4,4]",
        format!("a committed transaction's notes stay: {committed}"),
    )?;
    let (_, forgotten) = run(
        "ada",
        r#"let tx = begin_notes(); tx.add("lost"); tx.count()"#,
    )
    .await?;
    let (_, after) = run("ada", "list_notes().len()").await?;
    check(
        forgotten == "5" && after == "4",
        format!("a forgotten transaction is rolled back: {forgotten} then {after}"),
    )?;
    let (_, streamed) = run(
        "ada",
        "let texts = []; for note in each_note() { texts.push(note.text); } texts",
    )
    .await?;
    check(
        streamed == r#"["quoted 9.0 EUR","quoted 9.0 EUR","draft","final"]"#,
        format!("a streamed query gives every note in order: {streamed}"),
    )?;
    let (_, retried) = run("ada", "retry(3, || list_notes().len())").await?;
    check(
        retried == "4",
        format!("retry runs the callback: {retried}"),
    )?;
    let (status, failed) = run("ada", r#"retry(2, || throw "upstream down")"#).await?;
    check(
        status == 400 && failed.contains("upstream down"),
        format!("retry gives the callback's last error: {status} {failed}"),
    )?;

    for (script, expected) in [
        ("begin_notes()", "is a resource"),
        ("loop {}", "Too many operations"),
        ("sleep(10)", "time limit"),
        ("exchange_rate(\"USD\")", "Function not found"),
        ("let = ;", "syntax error"),
    ] {
        let (status, body) = run("mallory", script).await?;
        check(
            status == 400 && body.contains(expected),
            format!("{script:?} is refused with {expected:?}: {status} {body}"),
        )?;
    }
    Ok(())
}

fn check(ok: bool, what: impl Into<String>) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.into())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|arg| arg == "--self-test") {
        let (address, server) = start("127.0.0.1:0").await?;
        let outcome = self_test(address).await;
        server.abort();
        return match outcome {
            Ok(()) => {
                println!("self-test passed");
                Ok(())
            }
            Err(failure) => Err(format!("self-test failed: {failure}").into()),
        };
    }
    let (address, server) = start("127.0.0.1:3000").await?;
    println!("serving on http://{address}; try:");
    println!(
        "  curl -H 'x-user: ada' -H 'content-type: application/json' -d \
         '{{\"items\":[{{\"name\":\"tea\",\"price\":2.5,\"quantity\":2}}],\"currency\":\"USD\"}}' \
         http://{address}/quote"
    );
    println!("  curl -H 'x-user: ada' -d 'list_notes()' http://{address}/run");
    server.await?;
    Ok(())
}
