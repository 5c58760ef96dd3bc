use bridge_runtime::script_async;

/// A shared resource, like a database pool: neither data nor `Serialize`.
struct Pool;

/// An HTTP client: the same mistake.
struct Client;

/// Three mistakes: each should be one error, on its type, pointing at `State<T>`.
#[script_async]
async fn list_notes(pool: Pool, db: &Pool, client: Client, limit: i64) -> i64 {
    let _ = (pool, db, client);
    limit
}

fn main() {}
