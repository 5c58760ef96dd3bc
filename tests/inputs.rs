//! Values the host gives scripts: `ScriptRun::with` inputs and `BridgeBuilder::global` constants.

use bridge_runtime::{script_async, Bridge, Error, Value};
use serde::{Serialize, Serializer};
use serde_json::json;
use std::collections::BTreeMap;
use std::collections::HashMap;

#[derive(Serialize)]
struct Order {
    id: i64,
    items: Vec<String>,
    customer: Customer,
}

#[derive(Serialize)]
struct Customer {
    name: String,
    vip: bool,
}

#[script_async]
async fn times_ten(n: i64) -> i64 {
    n * 10
}

fn input_error(result: Result<Value, Error>) -> (String, String) {
    match result {
        Err(Error::Input { name, message }) => (name, message),
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn inputs_of_every_shape_reach_the_script_as_variables() {
    let bridge = Bridge::new().unwrap();
    let order = Order {
        id: 7,
        items: vec!["tea".into(), "cake".into()],
        customer: Customer {
            name: "Ada".into(),
            vip: true,
        },
    };
    let value = bridge
        .script(
            r#"
            let label = if order.customer.vip { "VIP " } else { "" };
            #{ who: label + order.customer.name, count: order.items.len(), id: order.id,
               scaled: times_ten(factor), half: ratio / 2.0, none: nothing }
            "#,
        )
        .with("order", &order)
        .with("factor", 4)
        .with("ratio", 3.0)
        .with("nothing", ())
        .run()
        .unwrap();
    assert_eq!(
        value,
        json!({"who": "VIP Ada", "count": 2, "id": 7, "scaled": 40, "half": 1.5, "none": null})
    );
}

#[test]
fn a_second_value_for_a_name_replaces_the_first() {
    let bridge = Bridge::new().unwrap();
    let value = bridge.script("x").with("x", 1).with("x", 2).run().unwrap();
    assert_eq!(value, 2);
}

#[test]
fn an_input_is_data_never_code() {
    let bridge = Bridge::new().unwrap();
    let hostile = r#""); times_ten(1); ("#;
    let value = bridge.script("text").with("text", hostile).run().unwrap();
    assert_eq!(value, hostile);
}

#[test]
fn inputs_work_with_every_way_of_running() {
    let bridge = Bridge::new().unwrap();
    let spawned = bridge.script("times_ten(n)").with("n", 2).spawn();
    assert_eq!(spawned.join().unwrap(), 20);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let awaited = runtime
        .block_on(bridge.script("times_ten(n)").with("n", 3).run_async())
        .unwrap();
    assert_eq!(awaited, 30);
    let typed: i64 = runtime
        .block_on(bridge.script("n + 1").with("n", 41).run_async_as())
        .unwrap();
    assert_eq!(typed, 42);

    let compiled = bridge.compile("times_ten(n)").unwrap();
    for n in 0..3 {
        let value = bridge.script(&compiled).with("n", n).run_as::<i64>();
        assert_eq!(value.unwrap(), n * 10);
    }
}

#[test]
fn a_name_that_cannot_be_a_variable_is_an_error_naming_it() {
    let bridge = Bridge::new().unwrap();
    for name in ["1x", "a b", "let", "", "x-y"] {
        let (named, message) = input_error(bridge.script("1").with(name, 1).run());
        assert_eq!(named, name);
        assert!(
            message.contains("not a valid script variable name"),
            "{message}"
        );
    }
}

#[test]
fn a_value_without_a_script_form_is_an_error_naming_it() {
    let bridge = Bridge::new().unwrap();

    let mut by_pair = HashMap::new();
    by_pair.insert((1, 2), "a");
    let (name, message) = input_error(bridge.script("m").with("m", &by_pair).run());
    assert_eq!(name, "m");
    assert_eq!(
        message,
        "has no script form: a map key must be a string, integer, char or bool, not a compound \
         value"
    );

    let (name, message) = input_error(bridge.script("big").with("big", u64::MAX).run());
    assert_eq!(name, "big");
    assert!(message.contains("has no script form"), "{message}");

    let mut deep = json!(0);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let (name, message) = input_error(bridge.script("d").with("d", &deep).run());
    assert_eq!(name, "d");
    assert!(message.contains("nested deeper than 128"), "{message}");

    let error = bridge
        .script("x")
        .with("fine", 1)
        .with("bad name", 2)
        .with("also_fine", 3)
        .run()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the script input `bad name` is not a valid script variable name (a letter or `_`, then \
         letters, digits or `_`, and not a keyword)"
    );
}

/// A `Serialize` implementation that panics.
struct Explosive;

impl Serialize for Explosive {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("the input exploded")
    }
}

#[test]
fn a_panicking_serialize_is_an_error_not_a_crash() {
    let bridge = Bridge::new().unwrap();
    let (name, message) = input_error(bridge.script("x").with("x", Explosive).run());
    assert_eq!(name, "x");
    assert!(message.contains("the input exploded"), "{message}");
    // The bridge serves on.
    assert_eq!(bridge.run("1 + 1").unwrap(), 2);
}

#[test]
fn globals_are_constants_every_script_sees() {
    let mut limits = BTreeMap::new();
    limits.insert("max_items", 3);
    let bridge = Bridge::builder()
        .global("tenant", "acme")
        .global("limits", &limits)
        .build()
        .unwrap();
    assert_eq!(
        bridge.run("tenant + ':' + limits.max_items").unwrap(),
        "acme:3"
    );
    assert_eq!(bridge.run("tenant.len()").unwrap(), 4);

    let error = bridge.run(r#"tenant = "other"; tenant"#).unwrap_err();
    assert!(
        matches!(&error, Error::Script { message, .. } if message.contains("constant")),
        "{error:?}"
    );
}

#[test]
fn an_input_may_not_hide_a_global() {
    let bridge = Bridge::builder().global("tenant", "acme").build().unwrap();
    let (name, message) = input_error(bridge.script("tenant").with("tenant", "evil").run());
    assert_eq!(name, "tenant");
    assert!(message.contains("globals"), "{message}");
}

#[test]
fn a_bad_global_fails_build_naming_it() {
    let error = Bridge::builder().global("not ok", 1).build().unwrap_err();
    assert!(
        matches!(&error, Error::Input { name, .. } if name == "not ok"),
        "{error:?}"
    );
    let error = Bridge::builder()
        .global("huge", u64::MAX)
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, Error::Input { name, message } if name == "huge" && message.contains("no script form")),
        "{error:?}"
    );
}

#[test]
fn hostile_scripts_under_the_sandbox_get_inputs_and_stay_bounded() {
    let bridge = Bridge::sandboxed()
        .global("quota", 10)
        .max_operations(10_000)
        .build()
        .unwrap();
    let value = bridge
        .script("let total = 0; for item in items { total += item } total + quota")
        .with("items", vec![1, 2, 3])
        .run()
        .unwrap();
    assert_eq!(value, 16);
    // An input does not lift the sandbox's limits: a loop over it still counts operations.
    let error = bridge
        .script("let n = 0; loop { n += step }")
        .with("step", 1)
        .run()
        .unwrap_err();
    assert!(
        matches!(&error, Error::Script { message, .. } if message.contains("Too many operations")),
        "{error:?}"
    );
}
