use bridge_runtime::script_async;

#[script_async(name = "api", eager, timeout_ms = 500)]
mod api {
    pub async fn ping() -> i64 {
        1
    }
}

fn main() {}
