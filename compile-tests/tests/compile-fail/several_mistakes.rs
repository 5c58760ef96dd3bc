#![allow(unused_variables)]

use bridge_runtime::script_async;

#[script_async(name = "let", colour = "red")]
fn many<T>((a, b): (i64, i64), out: &mut Vec<i64>, shown: impl std::fmt::Display) {}

fn main() {}
