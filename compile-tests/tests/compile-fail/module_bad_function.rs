use bridge_runtime::script_async;

// Each function of a module is checked as a single #[script_async] function would be.
#[script_async]
mod api {
    pub async fn first<T>(values: Vec<T>) -> i64 {
        values.len() as i64
    }

    pub async fn wait(millis: u64) {
        let _ = millis;
    }
}

fn main() {}
