//! Shared state, per-script context, and which functions a bridge's scripts may call.

use bridge_runtime::{script_async, Bridge, CallErrorKind, Error, ScriptContext, State};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

/// A stand-in for a connection pool: shared, internally synchronised.
struct Db {
    users: Mutex<HashMap<i64, String>>,
    queries: AtomicI64,
}

impl Db {
    fn with_users(users: &[(i64, &str)]) -> Self {
        Db {
            users: Mutex::new(
                users
                    .iter()
                    .map(|(id, name)| (*id, name.to_string()))
                    .collect(),
            ),
            queries: AtomicI64::new(0),
        }
    }
}

struct Caller {
    user_id: i64,
}

#[script_async(group = "users")]
async fn load_user(db: State<Db>, id: i64) -> Result<String, String> {
    tokio::task::yield_now().await;
    db.queries.fetch_add(1, Ordering::SeqCst);
    db.users
        .lock()
        .unwrap()
        .get(&id)
        .cloned()
        .ok_or_else(|| format!("no user {id}"))
}

#[script_async(group = "users")]
async fn query_count(db: State<Db>) -> i64 {
    db.queries.load(Ordering::SeqCst)
}

#[script_async]
async fn whoami(caller: ScriptContext<Caller>, db: State<Db>) -> String {
    let users = db.users.lock().unwrap();
    users
        .get(&caller.user_id)
        .cloned()
        .unwrap_or_else(|| "stranger".to_owned())
}

#[script_async(group = "fs")]
async fn read_config(key: String) -> String {
    format!("value of {key}")
}

#[script_async(group = "fs")]
async fn write_config(key: String, value: String) -> String {
    format!("{key} = {value}")
}

#[script_async]
async fn ping() -> &'static str {
    "pong"
}

fn users_bridge() -> bridge_runtime::BridgeBuilder {
    Bridge::builder().state(Db::with_users(&[(1, "ada"), (2, "grace")]))
}

fn is_function_not_found(result: Result<serde_json::Value, Error>, name: &str) -> bool {
    matches!(result, Err(Error::Script { message, .. }) if message.starts_with(&format!("Function not found: {name}")))
}

#[test]
fn state_is_given_once_and_shared_by_every_call() {
    let bridge = users_bridge().build().unwrap();
    assert_eq!(bridge.run("load_user(1)").unwrap(), json!("ada"));
    assert_eq!(bridge.run("load_user(2); query_count()").unwrap(), json!(2));
}

#[test]
fn state_is_not_a_script_parameter() {
    let bridge = users_bridge().build().unwrap();
    let function = bridge
        .functions()
        .iter()
        .find(|f| f.name() == "load_user")
        .unwrap();
    assert_eq!(function.params().len(), 1);
    assert_eq!(function.states()[0].name(), "Db");
    assert!(is_function_not_found(
        bridge.run("load_user((), 1)"),
        "load_user"
    ));
}

#[test]
fn without_allow_lists_a_function_lacking_its_state_fails_when_called_saying_so() {
    let bridge = Bridge::new().unwrap();
    let names: Vec<_> = bridge.functions().iter().map(|f| f.name()).collect();
    assert!(
        names.contains(&"ping") && names.contains(&"read_config"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"load_user") && !names.contains(&"whoami"),
        "only callable functions are listed: {names:?}"
    );
    let expected = "load_user: context error: `load_user` needs state of type `Db`, which this \
                    bridge was not given (line 1, position 1)";
    let error = bridge.run("load_user(1)").unwrap_err();
    assert_eq!(error.to_string(), expected);
    assert!(
        matches!(&error, Error::Call(call) if call.kind == CallErrorKind::Context),
        "{error:?}"
    );
    // The default bridge behind `run` does the same, and scripts can catch it.
    assert_eq!(
        bridge_runtime::run("load_user(1)").unwrap_err().to_string(),
        expected
    );
    let caught = bridge
        .run("let k = (); try { load_user(1) } catch (e) { k = e.kind } k")
        .unwrap();
    assert_eq!(caught, "context");
}

#[test]
fn allowing_a_function_whose_state_was_never_given_fails_build() {
    let error = Bridge::builder()
        .allow_function("load_user")
        .build()
        .err()
        .unwrap();
    assert_eq!(
        error.to_string(),
        "invalid bridge settings: `load_user` needs state of type `Db`, which this bridge was not \
         given: add .state(value) to the builder, or do not allow it"
    );
    let error = Bridge::builder()
        .allow_group("users")
        .build()
        .err()
        .unwrap();
    assert!(matches!(error, Error::Config(_)), "{error}");
}

#[test]
fn allowing_an_unknown_function_or_group_fails_build() {
    let error = Bridge::builder()
        .allow_function("no_such")
        .build()
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("allow_function(\"no_such\")"),
        "{error}"
    );
    let error = Bridge::builder()
        .allow_group("nothing")
        .build()
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("allow_group(\"nothing\")"),
        "{error}"
    );
}

#[test]
fn once_anything_is_allowed_only_allowed_functions_exist() {
    let bridge = Bridge::builder().allow_function("ping").build().unwrap();
    assert_eq!(bridge.run("ping()").unwrap(), json!("pong"));
    assert!(is_function_not_found(
        bridge.run(r#"read_config("a")"#),
        "read_config"
    ));
}

#[test]
fn allowing_a_group_exposes_exactly_its_functions() {
    let bridge = Bridge::builder().allow_group("fs").build().unwrap();
    assert_eq!(
        bridge
            .run(r#"write_config("a", read_config("b"))"#)
            .unwrap(),
        json!("a = value of b")
    );
    assert!(is_function_not_found(bridge.run("ping()"), "ping"));
    let names: Vec<_> = bridge.functions().iter().map(|f| f.name()).collect();
    assert_eq!(names, ["read_config", "write_config"]);
}

#[test]
fn groups_and_functions_combine() {
    let bridge = users_bridge()
        .allow_group("users")
        .allow_function("ping")
        .build()
        .unwrap();
    assert_eq!(
        bridge.run("ping() + load_user(2)").unwrap(),
        json!("ponggrace")
    );
    assert!(is_function_not_found(
        bridge.run(r#"read_config("x")"#),
        "read_config"
    ));
}

#[test]
fn a_disallowed_function_is_not_reachable_through_pointers_or_start() {
    let bridge = Bridge::builder().allow_function("ping").build().unwrap();
    assert!(bridge.run(r#"Fn("read_config").call("x")"#).is_err());
    assert!(bridge
        .run(r#"wait(start(Fn("read_config"), ["x"]))"#)
        .is_err());
}

#[test]
fn per_script_context_reaches_the_function() {
    let bridge = users_bridge().build().unwrap();
    let ada = bridge
        .script("whoami()")
        .context(Caller { user_id: 1 })
        .run()
        .unwrap();
    let grace = bridge
        .script("whoami()")
        .context(Caller { user_id: 2 })
        .run()
        .unwrap();
    assert_eq!((ada, grace), (json!("ada"), json!("grace")));
}

#[test]
fn a_missing_context_is_a_catchable_context_error() {
    let bridge = users_bridge().build().unwrap();
    match bridge.run("whoami()") {
        Err(Error::Call(call)) => {
            assert_eq!(call.kind, CallErrorKind::Context);
            assert!(
                call.message.contains("no context of type"),
                "{}",
                call.message
            );
        }
        other => panic!("expected a context error, got {other:?}"),
    }
    let caught = bridge
        .run("let k = (); try { whoami() } catch (e) { k = e.kind } k")
        .unwrap();
    assert_eq!(caught, json!("context"));
}

#[tokio::test]
async fn context_works_with_run_async() {
    let bridge = users_bridge().build().unwrap();
    let who = bridge
        .script("whoami()")
        .context(Caller { user_id: 2 })
        .run_async()
        .await
        .unwrap();
    assert_eq!(who, json!("grace"));
}
