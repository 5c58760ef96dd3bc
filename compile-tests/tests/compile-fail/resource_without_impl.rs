use bridge_runtime::{script_async, Resource};

pub struct Conn;

#[script_async]
async fn open() -> Resource<Conn> {
    Resource::new(Conn)
}

fn main() {}
