//! Bytes cross as Rhai blobs both ways when the Rust type says they are bytes (`serde_bytes`,
//! `bytes::Bytes`); a plain `Vec<u8>` is a sequence of numbers, so it stays an array.

use bridge_runtime::{script_async, Bridge};
use bytes::Bytes;
use serde_bytes::ByteBuf;

#[script_async]
async fn checksum(data: ByteBuf) -> i64 {
    data.iter().map(|b| i64::from(*b)).sum()
}

#[script_async]
async fn make_bytes(len: i64) -> ByteBuf {
    ByteBuf::from(vec![7u8; usize::try_from(len).unwrap_or(0)])
}

#[script_async]
async fn echo_bytes(data: Bytes) -> Bytes {
    data
}

#[script_async]
async fn plain_vec() -> Vec<u8> {
    vec![1, 2]
}

#[test]
fn byte_types_come_back_as_blobs() {
    let bridge = Bridge::new().unwrap();
    let value = bridge
        .run("let b = make_bytes(3); [type_of(b), b.len(), b[0]]")
        .unwrap();
    assert_eq!(value, serde_json::json!(["blob", 3, 7]));
    let value = bridge
        .run("let b = echo_bytes(blob(2, 9)); [type_of(b), b[1]]")
        .unwrap();
    assert_eq!(value, serde_json::json!(["blob", 9]));
}

#[test]
fn blobs_and_arrays_of_bytes_are_accepted_as_byte_parameters() {
    let bridge = Bridge::new().unwrap();
    assert_eq!(bridge.run("checksum(blob(4, 10))").unwrap(), 40);
    assert_eq!(bridge.run("checksum([1, 2, 3])").unwrap(), 6);
    let error = bridge.run("checksum([1, 256])").unwrap_err();
    assert!(error.to_string().contains("bad argument `data`"), "{error}");
}

#[test]
fn a_plain_vec_of_u8_is_an_array() {
    let bridge = Bridge::new().unwrap();
    assert_eq!(bridge.run("type_of(plain_vec())").unwrap(), "array");
}

#[test]
fn byte_inputs_are_blobs_and_a_blob_result_is_an_array_of_numbers_in_json() {
    let bridge = Bridge::new().unwrap();
    let value = bridge
        .script("[type_of(data), checksum(data)]")
        .with("data", ByteBuf::from(vec![1, 2, 3]))
        .run()
        .unwrap();
    assert_eq!(value, serde_json::json!(["blob", 6]));
    let back: ByteBuf = bridge.script("make_bytes(2)").run_as().unwrap();
    assert_eq!(back.into_vec(), [7, 7]);
}
