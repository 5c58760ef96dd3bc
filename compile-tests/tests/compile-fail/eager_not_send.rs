use bridge_runtime::script_async;
use std::rc::Rc;

/// Holds an `Rc` across an await: fine for ordinary functions, not for `eager` ones, whose
/// unfinished futures move from the engine thread to the worker.
#[script_async(eager)]
async fn local_only(x: i64) -> i64 {
    let shared = Rc::new(x);
    tokio::task::yield_now().await;
    *shared
}

fn main() {}
