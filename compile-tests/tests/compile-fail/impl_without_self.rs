use bridge_runtime::script_async;

pub struct Conn;

#[script_async]
impl Conn {
    async fn open() -> i64 {
        1
    }

    const LIMIT: i64 = 3;
}

fn main() {}
