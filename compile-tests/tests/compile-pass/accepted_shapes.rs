//! Every accepted shape of function compiles.

use bridge_runtime::script_async;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Serialize, Deserialize)]
pub struct Config {
    pub name: String,
    pub retries: u8,
}

#[script_async]
pub async fn public_fn(x: i64) -> i64 {
    x
}

#[script_async]
pub(crate) async fn crate_visible(mut x: i64) -> i64 {
    x += 1;
    x
}

#[script_async]
async fn with_lifetime<'a>(text: &'a str, items: &'a [u8], config: &'a Config) -> usize {
    text.len() + items.len() + config.name.len()
}

#[script_async(name = "repeat_loop")]
async fn r#loop(times: u32) -> u32 {
    times
}

#[script_async]
async fn containers(
    list: Vec<Option<i64>>,
    map: HashMap<String, Vec<f32>>,
    sorted: BTreeMap<String, bool>,
    pair: (char, String),
    raw: serde_json::Value,
) -> (usize, usize, usize, serde_json::Value) {
    let _ = pair;
    (list.len(), map.len(), sorted.len(), raw)
}

#[script_async]
async fn fallible(config: Config) -> std::result::Result<Option<Config>, std::io::Error> {
    Ok(Some(config))
}

#[script_async]
async fn boxed_error() -> Result<(), Box<dyn std::error::Error>> {
    Ok(())
}

mod inner {
    #[bridge_runtime::script_async(name = "inner_fn")]
    pub async fn renamed() -> &'static str {
        "static strings are fine to return"
    }
}

fn main() {
    fn defined_in_a_body() {}
    defined_in_a_body();
    let _ = inner::renamed;
}
