use bridge_runtime::script_async;

#[script_async]
mod api {
    #[script_async]
    pub async fn ping() -> i64 {
        1
    }

    mod inner {
        pub async fn pong() -> i64 {
            2
        }
    }
}

fn main() {}
