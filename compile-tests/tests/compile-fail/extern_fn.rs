use bridge_runtime::script_async;

#[script_async]
async extern "C" fn ffi_style(x: i64) -> i64 {
    x
}

fn main() {}
