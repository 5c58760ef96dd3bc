use bridge_runtime::script_async;

#[derive(Debug)]
struct Silent;

#[script_async]
async fn quiet(x: i64) -> Result<i64, Silent> {
    if x > 0 { Ok(x) } else { Err(Silent) }
}

fn main() {}
