use bridge_runtime::script_async;

#[script_async]
mod api {
    pub const VERSION: i64 = 1;
}

fn main() {}
