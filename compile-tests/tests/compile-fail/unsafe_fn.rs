use bridge_runtime::script_async;

#[script_async]
async unsafe fn read_raw(address: usize) -> u8 {
    *(address as *const u8)
}

fn main() {}
