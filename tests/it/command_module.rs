//! `#[script_async] mod`: a module's functions as one group, its closed command enum (serde
//! data, one dispatch `match`), and `Bridge::dispatch` running a command without a script.

use bridge_runtime::record::RecordAndReplay;
use bridge_runtime::{script_async, Bridge, CallErrorKind, Error, Limits, ScriptCommand};
use bridge_suite::call_log::CallLog;
use std::sync::{Arc, OnceLock, Weak};

/// Who is asking, given per script run.
#[derive(Clone)]
struct Teller(String);

/// Reaches the bridge from inside one of its own functions.
#[derive(Default)]
struct SelfRef(Arc<OnceLock<Weak<Bridge>>>);

#[script_async]
mod bank {
    use super::{SelfRef, Teller};
    use bridge_runtime::{ScriptContext, State};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    pub struct Account {
        pub owner: String,
        pub balance: i64,
    }

    /// Opens an account with a first deposit.
    pub async fn open(owner: &str, deposit: i64) -> Result<Account, String> {
        tokio::task::yield_now().await;
        if deposit < 0 {
            return Err(format!("cannot open with {deposit}"));
        }
        Ok(Account {
            owner: owner.to_owned(),
            balance: deposit,
        })
    }

    pub async fn fee(amounts: Vec<i64>) -> i64 {
        amounts.iter().sum::<i64>() / 100
    }

    pub async fn teller(who: ScriptContext<Teller>) -> String {
        who.0.clone()
    }

    /// Tries to dispatch from the worker itself.
    pub async fn reenter(bridge: State<SelfRef>) -> String {
        let bridge = bridge.0.get().and_then(std::sync::Weak::upgrade);
        let bridge = bridge.expect("the test sets the bridge before running scripts");
        let command = BankCommand::Fee(FeeCommand { amounts: vec![100] });
        match bridge.dispatch(command) {
            Ok(value) => format!("dispatched: {value}"),
            Err(error) => error.to_string(),
        }
    }
}

#[test]
fn scripts_call_a_modules_functions_exposed_as_one_group_named_after_it() {
    let bridge = Bridge::builder()
        .state(SelfRef::default())
        .allow_group("bank")
        .build()
        .unwrap();
    let mut names: Vec<&str> = bridge.functions().iter().map(|f| f.name()).collect();
    names.sort_unstable();
    assert_eq!(names, ["fee", "open", "reenter", "teller"]);
    let out = bridge
        .run(r#"let a = open("ada", 500); a.balance + fee([a.balance, 1500])"#)
        .unwrap();
    assert_eq!(out, 520);
    let open = bridge
        .functions()
        .iter()
        .find(|f| f.name() == "open")
        .unwrap();
    assert_eq!(open.group(), Some("bank"));
    assert_eq!(open.signature(), "open(owner: string, deposit: int) -> map");
    assert_eq!(open.docs(), " Opens an account with a first deposit.");
}

#[test]
fn the_command_enum_is_serde_data_tagged_by_function() {
    let command = bank::BankCommand::Open(bank::OpenCommand {
        owner: "ada".into(),
        deposit: 5,
    });
    let json = serde_json::to_value(&command).unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "function": "open", "arguments": { "owner": "ada", "deposit": 5 } })
    );
    let back: bank::BankCommand = serde_json::from_value(json).unwrap();
    assert_eq!(back.script_name(), "open");
    assert_eq!(
        format!("{back:?}"),
        r#"BankCommand {"function":"open","arguments":{"owner":"ada","deposit":5}}"#
    );
    assert_eq!(<bank::BankCommand as ScriptCommand>::SCRIPT_NAME, "bank");
}

#[test]
fn dispatch_runs_one_command_through_the_match_without_a_script() {
    let bridge = Bridge::builder().state(SelfRef::default()).build().unwrap();
    let command = bank::BankCommand::Open(bank::OpenCommand {
        owner: "bo".into(),
        deposit: 70,
    });
    assert_eq!(
        bridge.dispatch(command).unwrap(),
        serde_json::json!({ "owner": "bo", "balance": 70 })
    );
    // One function's own command works too, typed.
    let fee = bridge.dispatch(bank::FeeCommand {
        amounts: vec![250, 50],
    });
    assert_eq!(fee.unwrap(), 3);

    let refused = bridge.dispatch(bank::BankCommand::Open(bank::OpenCommand {
        owner: "bo".into(),
        deposit: -1,
    }));
    match refused {
        Err(Error::Call(call)) => {
            assert_eq!(call.function, "open");
            assert_eq!(call.kind, CallErrorKind::Error);
            assert_eq!(call.message, "cannot open with -1");
        }
        other => panic!("expected the function's error, got {other:?}"),
    }
    // No script, so no script context.
    let no_teller = bridge.dispatch(bank::TellerCommand {}).unwrap_err();
    assert!(
        matches!(&no_teller, Error::Call(call) if call.kind == CallErrorKind::Context),
        "{no_teller:?}"
    );
}

#[test]
fn dispatch_json_says_what_is_wrong_with_a_command() {
    let bridge = Bridge::builder().state(SelfRef::default()).build().unwrap();
    let fee = serde_json::json!({ "function": "fee", "arguments": { "amounts": [900] } });
    assert_eq!(bridge.dispatch_json::<bank::BankCommand>(fee).unwrap(), 9);
    for (bad, expected) in [
        (
            serde_json::json!({ "function": "rob", "arguments": {} }),
            "unknown variant `rob`",
        ),
        (
            serde_json::json!({ "function": "fee", "arguments": { "amounts": "all" } }),
            "invalid type: string \"all\"",
        ),
    ] {
        match bridge.dispatch_json::<bank::BankCommand>(bad) {
            Err(Error::Call(call)) => {
                assert_eq!(call.kind, CallErrorKind::Argument);
                assert!(call
                    .message
                    .starts_with("the JSON is not a command of `bank`"));
                assert!(call.message.contains(expected), "{}", call.message);
            }
            other => panic!("expected an argument error, got {other:?}"),
        }
    }
}

#[test]
fn dispatch_from_inside_a_function_is_an_error_not_a_deadlock() {
    let slot = Arc::new(OnceLock::new());
    let bridge = Arc::new(
        Bridge::builder()
            .state(SelfRef(slot.clone()))
            .build()
            .unwrap(),
    );
    slot.set(Arc::downgrade(&bridge)).unwrap();
    let out = bridge.run("reenter()").unwrap();
    assert_eq!(out, Error::BlockingOnBridgeThread.to_string());
}

#[test]
fn recorded_calls_are_commands_of_the_module() {
    let log = CallLog::default();
    let bridge = Bridge::builder()
        .state(SelfRef::default())
        .record(log.clone())
        .build()
        .unwrap();
    let teller = Teller("kim".into());
    let script = r#"let a = open("cy", 300); [a, fee([a.balance]), teller()]"#;
    bridge.script(script).context(teller).run().unwrap();
    // Dropping the bridge lets its writer thread finish the record.
    drop(bridge);
    let bridge = Bridge::builder().state(SelfRef::default()).build().unwrap();
    let recorded = log.calls();
    // Each recorded function and arguments pair is one command; dispatching it again gives the
    // recorded result (the context-free ones: a dispatched call has no script context).
    for call in recorded.iter().filter(|call| call.function != "teller") {
        let command = serde_json::json!({ "function": call.function, "arguments": call.arguments });
        let again = bridge.dispatch_json::<bank::BankCommand>(command).unwrap();
        assert_eq!(Some(&again), call.outcome.value());
    }
    assert_eq!(recorded.len(), 3);
}

#[script_async]
mod vault {
    pub async fn store(document: serde_json::Value) -> i64 {
        document.as_array().map_or(0, |items| items.len() as i64)
    }

    pub async fn tag(label: String) -> String {
        label
    }

    pub async fn secret() -> String {
        "the real secret".to_owned()
    }
}

fn vault_bridge() -> bridge_runtime::BridgeBuilder {
    Bridge::builder()
        .allow_function("store")
        .allow_function("tag")
        .limits(
            Limits::default()
                .max_string_size(64 * 1024)
                .max_array_size(1000),
        )
}

fn call_error(outcome: Result<impl std::fmt::Debug, Error>) -> bridge_runtime::CallError {
    match outcome {
        Err(Error::Call(call)) => call,
        other => panic!("expected a call error, got {other:?}"),
    }
}

#[test]
fn dispatch_keeps_to_the_allow_list() {
    let bridge = vault_bridge().build().unwrap();
    let secret = vault::VaultCommand::Secret(vault::SecretCommand {});
    let refused = call_error(bridge.dispatch(secret));
    assert_eq!(refused.kind, CallErrorKind::NotExposed);
    assert_eq!(refused.function, "secret");
    let json = serde_json::json!({ "function": "secret", "arguments": {} });
    let refused = call_error(bridge.dispatch_json::<vault::VaultCommand>(json));
    assert_eq!(refused.kind, CallErrorKind::NotExposed);
}

#[test]
fn dispatched_arguments_keep_to_the_depth_and_size_limits() {
    let bridge = vault_bridge().build().unwrap();
    let mut deep = serde_json::json!(1);
    for _ in 0..200 {
        deep = serde_json::Value::Array(vec![deep]);
    }
    let command = vault::VaultCommand::Store(vault::StoreCommand {
        document: deep.clone(),
    });
    let refused = call_error(bridge.dispatch(command));
    assert_eq!(refused.kind, CallErrorKind::Argument);
    assert!(
        refused.message.contains("deeper than 128"),
        "{}",
        refused.message
    );
    let json = serde_json::json!({ "function": "store", "arguments": { "document": deep } });
    let refused = call_error(bridge.dispatch_json::<vault::VaultCommand>(json));
    assert!(
        refused.message.contains("deeper than 128"),
        "{}",
        refused.message
    );

    let long = vault::VaultCommand::Tag(vault::TagCommand {
        label: "x".repeat(100_000),
    });
    let refused = call_error(bridge.dispatch(long));
    assert!(
        refused
            .message
            .contains("a string of 100000, more than this bridge's limit of 65536"),
        "{}",
        refused.message
    );
    let wide =
        serde_json::json!({ "function": "store", "arguments": { "document": vec![0; 1001] } });
    let refused = call_error(bridge.dispatch_json::<vault::VaultCommand>(wide));
    assert!(
        refused.message.contains("an array of 1001"),
        "{}",
        refused.message
    );
}

#[test]
fn a_dispatched_value_nested_100000_deep_is_refused_and_the_process_lives() {
    bridge_suite::child::in_child(
        "command_module::a_dispatched_value_nested_100000_deep_is_refused_and_the_process_lives",
        || {
            // A thread with room to build (and drop) the value: the bridge must not recurse.
            std::thread::Builder::new()
                .stack_size(512 * 1024 * 1024)
                .spawn(|| {
                    let bridge = vault_bridge().build().unwrap();
                    let mut deep = serde_json::json!(1);
                    for _ in 0..100_000 {
                        deep = serde_json::Value::Array(vec![deep]);
                    }
                    let json = serde_json::json!({ "function": "store", "arguments": { "document": deep.clone() } });
                    let refused = call_error(bridge.dispatch_json::<vault::VaultCommand>(json));
                    assert!(refused.message.contains("deeper than 128"));
                    let command = vault::VaultCommand::Store(vault::StoreCommand { document: deep });
                    let refused = call_error(bridge.dispatch(command));
                    assert!(refused.message.contains("deeper than 128"));
                    assert_eq!(bridge.run("store([1, 2])").unwrap(), 2);
                })
                .unwrap()
                .join()
                .unwrap();
        },
    );
}

#[test]
fn a_huge_tag_is_not_echoed_whole() {
    // No string limit: the tag reaches serde, whose message quotes it.
    let bridge = Bridge::builder().allow_function("store").build().unwrap();
    let tag = "y".repeat(10_000_000);
    let json = serde_json::json!({ "function": tag, "arguments": {} });
    let refused = call_error(bridge.dispatch_json::<vault::VaultCommand>(json));
    assert!(
        refused.message.len() < 1000,
        "{} bytes",
        refused.message.len()
    );
    assert!(
        refused.message.contains("unknown variant `yyy"),
        "{}",
        refused.message
    );
    assert!(
        refused.message.contains("more bytes)"),
        "{}",
        refused.message
    );
}

#[test]
fn dispatch_is_recorded_and_dispatch_json_is_served_by_mocks() {
    let log = CallLog::default();
    let bridge = vault_bridge()
        .record(log.clone())
        .mock("tag", |args| Ok(format!("mocked {}", args["label"]).into()))
        .build()
        .unwrap();
    let store = vault::VaultCommand::Store(vault::StoreCommand {
        document: serde_json::json!([1, 2, 3]),
    });
    assert_eq!(bridge.dispatch(store).unwrap(), 3);
    let tag = serde_json::json!({ "function": "tag", "arguments": { "label": "a" } });
    let served = bridge.dispatch_json::<vault::VaultCommand>(tag).unwrap();
    assert_eq!(served, "mocked \"a\"");
    // The typed form cannot give a mock's JSON back as the Rust type: it says so.
    let typed = vault::VaultCommand::Tag(vault::TagCommand { label: "b".into() });
    let refused = call_error(bridge.dispatch(typed));
    assert_eq!(refused.kind, CallErrorKind::Recording);
    assert!(
        refused.message.contains("dispatch_json"),
        "{}",
        refused.message
    );
    drop(bridge);
    let calls = log.calls();
    let functions: Vec<&str> = calls.iter().map(|call| &call.function[..]).collect();
    assert_eq!(functions, ["store", "tag"]);
    assert_eq!(
        calls[0].arguments,
        serde_json::json!({ "document": [1, 2, 3] })
    );
    assert_eq!(calls[0].outcome.value(), Some(&serde_json::json!(3)));
    assert_eq!(
        calls[1].outcome.value(),
        Some(&serde_json::json!("mocked \"a\""))
    );
}
