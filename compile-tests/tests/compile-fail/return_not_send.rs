use bridge_runtime::script_async;
use serde::Serialize;
use std::marker::PhantomData;

/// Serializable, but not `Send`.
#[derive(Serialize)]
struct ThreadBound {
    id: i64,
    #[serde(skip)]
    marker: PhantomData<*const ()>,
}

#[script_async]
async fn make(id: i64) -> ThreadBound {
    ThreadBound { id, marker: PhantomData }
}

fn main() {}
