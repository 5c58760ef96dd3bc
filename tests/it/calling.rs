//! The ways a script can call an async function, and the real async work those functions do.

use bridge_runtime::{script_async, Bridge};
use serde_json::json;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[script_async(name = "greet")]
async fn make_greeting(name: String) -> String {
    format!("hello, {name}")
}

#[script_async]
async fn increment(x: i64) -> i64 {
    x + 1
}

#[script_async]
#[allow(clippy::too_many_arguments)]
async fn sum16(
    a1: i64,
    a2: i64,
    a3: i64,
    a4: i64,
    a5: i64,
    a6: i64,
    a7: i64,
    a8: i64,
    a9: i64,
    a10: i64,
    a11: i64,
    a12: i64,
    a13: i64,
    a14: i64,
    a15: i64,
    a16: i64,
) -> i64 {
    [
        a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16,
    ]
    .iter()
    .sum()
}

#[script_async]
async fn sleep_then_echo(ms: u64, value: String) -> String {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    value
}

/// Work handed to another tokio task, whose result comes back through its join handle.
#[script_async]
async fn spawned_square(x: i64) -> Result<i64, String> {
    tokio::spawn(async move { x * x })
        .await
        .map_err(|e| e.to_string())
}

/// A real TCP exchange over loopback: a server task echoes one line upper-cased.
#[script_async]
async fn tcp_upper(text: String) -> Result<String, std::io::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await?;
        let mut buffer = Vec::new();
        socket.read_to_end(&mut buffer).await?;
        socket.write_all(&buffer.to_ascii_uppercase()).await?;
        Ok::<_, std::io::Error>(())
    });
    let mut client = tokio::net::TcpStream::connect(address).await?;
    client.write_all(text.as_bytes()).await?;
    client.shutdown().await?;
    let mut reply = String::new();
    client.read_to_string(&mut reply).await?;
    server.await.map_err(std::io::Error::other)??;
    Ok(reply)
}

/// A file written and read back with tokio::fs.
#[script_async]
async fn file_round_trip(contents: String) -> Result<String, std::io::Error> {
    let path = std::env::temp_dir().join(format!("bridge-test-{}.txt", std::process::id()));
    tokio::fs::write(&path, &contents).await?;
    let back = tokio::fs::read_to_string(&path).await;
    tokio::fs::remove_file(&path).await?;
    back
}

/// Holds an `Rc` across an await: its future is not `Send`, which the worker allows.
#[script_async]
async fn not_send_future(x: i64) -> i64 {
    let shared = Rc::new(x);
    tokio::task::yield_now().await;
    *shared * 10
}

mod nested {
    pub mod deeper {
        use bridge_runtime::script_async;

        #[script_async]
        pub(crate) async fn from_a_module(x: i64) -> i64 {
            x - 1
        }
    }
}

#[test]
fn a_renamed_function_is_called_by_its_script_name() {
    assert_eq!(
        bridge_runtime::run(r#"greet("Ada")"#).unwrap(),
        json!("hello, Ada")
    );
    assert!(bridge_runtime::run(r#"make_greeting("Ada")"#).is_err());
}

#[test]
fn the_original_function_is_still_callable_from_rust() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    assert_eq!(
        runtime.block_on(make_greeting("Rust".into())),
        "hello, Rust"
    );
}

#[test]
fn calls_through_function_pointers_work() {
    assert_eq!(
        bridge_runtime::run(r#"Fn("increment").call(41)"#).unwrap(),
        json!(42)
    );
    assert_eq!(
        bridge_runtime::run(r#"let f = Fn("greet"); f.call("pointer")"#).unwrap(),
        json!("hello, pointer")
    );
    assert_eq!(
        bridge_runtime::run(r#"[1, 2, 3].map(Fn("increment"))"#).unwrap(),
        json!([2, 3, 4])
    );
}

#[test]
fn method_call_syntax_works() {
    assert_eq!(bridge_runtime::run("41.increment()").unwrap(), json!(42));
    assert_eq!(
        bridge_runtime::run(r#"let x = 5; x.increment().increment()"#).unwrap(),
        json!(7)
    );
}

#[test]
fn sixteen_parameters_work() {
    let script = "sum16(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)";
    assert_eq!(bridge_runtime::run(script).unwrap(), json!(136));
}

#[test]
fn timers_work_inside_async_functions() {
    assert_eq!(
        bridge_runtime::run(r#"sleep_then_echo(20, "awake")"#).unwrap(),
        json!("awake")
    );
}

#[test]
fn tokio_spawn_works_inside_async_functions() {
    assert_eq!(bridge_runtime::run("spawned_square(9)").unwrap(), json!(81));
}

#[test]
fn a_loopback_tcp_exchange_works() {
    assert_eq!(
        bridge_runtime::run(r#"tcp_upper("ping over tcp")"#).unwrap(),
        json!("PING OVER TCP")
    );
}

#[test]
fn tokio_fs_works_inside_async_functions() {
    assert_eq!(
        bridge_runtime::run(r#"file_round_trip("saved")"#).unwrap(),
        json!("saved")
    );
}

#[test]
fn futures_need_not_be_send() {
    assert_eq!(
        bridge_runtime::run("not_send_future(4)").unwrap(),
        json!(40)
    );
}

#[test]
fn functions_in_modules_are_registered() {
    assert_eq!(bridge_runtime::run("from_a_module(10)").unwrap(), json!(9));
}

#[test]
fn functions_in_a_library_crate_are_registered() {
    assert_eq!(
        bridge_runtime::run(r#"library_greeting("test")"#).unwrap(),
        json!("hello from the library, test")
    );
}

#[test]
fn functions_defined_inside_a_test_body_are_registered() {
    #[script_async]
    async fn inside_a_test(x: i64) -> i64 {
        x * 3
    }
    let bridge = Bridge::new().unwrap();
    assert_eq!(bridge.run("inside_a_test(5)").unwrap(), json!(15));
}

#[test]
fn many_calls_in_one_script_work() {
    let script = "let total = 0; for i in 0..500 { total = increment(total); } total";
    assert_eq!(bridge_runtime::run(script).unwrap(), json!(500));
}
