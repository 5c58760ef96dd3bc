use bridge_runtime::script_async;

pub struct Conn;

pub trait Close {
    async fn close(&mut self);
}

#[script_async]
impl Close for Conn {
    async fn close(&mut self) {}
}

fn main() {}
