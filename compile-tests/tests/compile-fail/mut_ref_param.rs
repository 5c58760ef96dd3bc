use bridge_runtime::script_async;

#[script_async]
async fn push_one(values: &mut Vec<i64>) {
    values.push(1);
}

fn main() {}
