//! A `Result` under a name not ending in `Result` would be returned to the script as a map
//! (`{"Ok": ...}`): refused on the return type.

use bridge_runtime::script_async;

type Outcome<T> = Result<T, String>;

#[script_async]
async fn checked(x: i64) -> Outcome<i64> {
    Ok(x)
}

fn main() {}
