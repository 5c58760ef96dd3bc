use bridge_runtime::script_async;

pub struct Conn<T>(T);

#[script_async(name = "conn", eager)]
impl<T: 'static> Conn<T> {
    async fn ping(&self) -> i64 {
        1
    }
}

fn main() {}
