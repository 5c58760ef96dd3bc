use bridge_runtime::script_async;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Serializable both ways, but not `Send`.
#[derive(Serialize, Deserialize)]
struct ThreadBound {
    id: i64,
    #[serde(skip)]
    marker: PhantomData<*const ()>,
}

#[script_async]
async fn inspect(handle: ThreadBound) -> i64 {
    handle.id
}

fn main() {}
