use bridge_runtime::script_async;

pub struct Conn;

#[script_async]
impl Conn {
    fn helper(&self) -> i64 {
        1
    }

    async fn ping(&self) -> i64 {
        self.helper()
    }
}

fn main() {}
