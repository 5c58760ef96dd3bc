//! The baseline a user would write by hand: JSON text over std `mpsc` to a worker thread that
//! `block_on`s each call, and a JSON reply over a fresh channel.

use serde_json::{json, Value};
use std::sync::mpsc;

type Request = (String, mpsc::Sender<String>);

/// A Rhai engine whose `bench_ready` goes through the naive hand-off.
pub struct NaiveBridge {
    engine: rhai::Engine,
}

impl NaiveBridge {
    pub fn start() -> Self {
        let (requests, received) = mpsc::channel::<Request>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            while let Ok((request, reply)) = received.recv() {
                let args: Value = serde_json::from_str(&request).expect("valid request");
                let sum = runtime.block_on(async move {
                    args["a"].as_i64().unwrap_or(0) + args["b"].as_i64().unwrap_or(0)
                });
                let _ = reply.send(json!({ "ok": sum }).to_string());
            }
        });
        let mut engine = rhai::Engine::new();
        engine.register_fn("bench_ready", move |a: i64, b: i64| -> i64 {
            let (reply, answer) = mpsc::channel();
            let request = json!({ "fn": "bench_ready", "a": a, "b": b }).to_string();
            requests.send((request, reply)).expect("worker alive");
            let answer: Value =
                serde_json::from_str(&answer.recv().expect("worker replies")).expect("valid reply");
            answer["ok"].as_i64().unwrap_or(0)
        });
        Self { engine }
    }

    pub fn engine(&self) -> &rhai::Engine {
        &self.engine
    }
}
