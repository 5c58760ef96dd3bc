use bridge_runtime::script_async;

#[script_async(name = "fetch-user")]
async fn fetch_user(id: i64) -> i64 {
    id
}

fn main() {}
