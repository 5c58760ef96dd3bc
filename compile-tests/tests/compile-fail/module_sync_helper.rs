use bridge_runtime::script_async;

#[script_async]
mod api {
    pub async fn total(values: Vec<i64>) -> i64 {
        sum(&values)
    }

    fn sum(values: &[i64]) -> i64 {
        values.iter().sum()
    }
}

fn main() {}
