use bridge_runtime::script_async;

type Result = std::result::Result<i64, String>;

#[script_async]
async fn parse(text: String) -> Result {
    text.parse::<i64>().map_err(|e| e.to_string())
}

fn main() {}
