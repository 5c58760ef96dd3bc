use bridge_runtime::script_async;

#[script_async]
async fn show(value: impl std::fmt::Display) -> String {
    value.to_string()
}

fn main() {}
