use bridge_runtime::script_async;

#[script_async]
async fn spawn(job: String) -> String {
    job
}

fn main() {}
