use bridge_runtime::script_async;

pub struct Conn;

#[script_async]
impl Conn {
    async fn close(self: Box<Self>) {}
}

fn main() {}
