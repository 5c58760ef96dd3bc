use bridge_runtime::script_async;

#[script_async]
async fn repeat<const N: usize>(value: i64) -> Vec<i64> {
    vec![value; N]
}

fn main() {}
