use bridge_runtime::script_async;

struct Counter(i64);

impl Counter {
    #[script_async]
    async fn get(&self) -> i64 {
        self.0
    }
}

fn main() {}
