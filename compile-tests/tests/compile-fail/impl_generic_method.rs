use bridge_runtime::script_async;

pub struct Conn;

#[script_async]
impl Conn {
    async fn send<T: ToString>(&self, value: T) -> String {
        value.to_string()
    }
}

fn main() {}
