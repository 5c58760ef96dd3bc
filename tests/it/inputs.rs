//! Values the host gives scripts: `ScriptRun::with` inputs and `BridgeBuilder::global` constants.

use bridge_runtime::{script_async, Bridge, Error, Limits, Value};
use bridge_suite::child::in_child;
use bridge_suite::observe::memory_bytes;
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
         letters, digits or `_`, and not one of Rhai's keywords or reserved words such as `let`, \
         `print`, `this`, `Fn`)"
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
        .limits(Limits::sandboxed().max_operations(10_000))
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

#[test]
fn an_input_over_max_string_size_is_refused_naming_it_and_the_limit() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let huge = "x".repeat(100 * 1024 * 1024);
    let (name, message) = input_error(bridge.script("text.len()").with("text", &huge).run());
    assert_eq!(name, "text");
    assert_eq!(
        message,
        "is too large for this bridge: its strings hold at least 104857600 bytes in all, more \
         than this bridge's max_string_size of 65536 (everything nested in a value counts \
         together, as Rhai counts it)"
    );
    // At the limit, the input is the script's to use.
    let fits = "x".repeat(64 * 1024);
    let value = bridge.script("text.len()").with("text", &fits).run();
    assert_eq!(value.unwrap(), 64 * 1024);
}

#[test]
fn a_huge_input_is_refused_without_being_copied() {
    // Alone in a child process, so that its peak memory is this test's own.
    in_child(
        "inputs::a_huge_input_is_refused_without_being_copied",
        || {
            let bridge = Bridge::sandboxed().build().unwrap();
            let huge = "x".repeat(100 * 1024 * 1024);
            let before = memory_bytes("VmHWM");
            let result = bridge.script("text.len()").with("text", &huge).run();
            assert!(matches!(result, Err(Error::Input { .. })), "{result:?}");
            let grown = memory_bytes("VmHWM").saturating_sub(before);
            assert!(
                grown < 16 * 1024 * 1024,
                "refusing the input raised the peak by {} MiB",
                grown / (1024 * 1024)
            );
        },
    );
}

#[test]
fn the_strings_nested_in_an_input_count_together_and_the_error_says_where() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let half = "x".repeat(40 * 1024);
    let parts = BTreeMap::from([("a", &half), ("b", &half)]);
    let (name, message) = input_error(bridge.script("parts").with("parts", &parts).run());
    assert_eq!(name, "parts");
    assert!(
        message.starts_with("is too large for this bridge: at .b: its strings hold at least"),
        "{message}"
    );
    assert!(message.contains("max_string_size of 65536"), "{message}");
}

#[test]
fn an_input_over_max_array_size_is_refused_before_it_is_built() {
    let bridge = Bridge::sandboxed().build().unwrap();
    let items = vec![0_i32; 10_000_000];
    let (name, message) = input_error(bridge.script("items.len()").with("items", &items).run());
    assert_eq!(name, "items");
    assert!(
        message.starts_with(
            "is too large for this bridge: at [10000]: its arrays hold at least \
                             10001 items in all, more than this bridge's max_array_size of 10000"
        ),
        "{message}"
    );
    // Arrays nested in arrays count their items together, as Rhai counts them.
    let nested = vec![vec![0_i32; 4_000]; 3];
    let (_, message) = input_error(bridge.script("n").with("n", &nested).run());
    assert!(message.contains("max_array_size of 10000"), "{message}");
    let fits = vec![vec![0_i32; 3_000]; 3];
    let value = bridge.script("n.len() + n[0].len()").with("n", &fits).run();
    assert_eq!(value.unwrap(), 3_003);
}

#[test]
fn an_input_over_max_map_size_is_refused_naming_the_limit() {
    let bridge = Bridge::builder()
        .limits(Limits::default().max_map_size(3))
        .build()
        .unwrap();
    let outer = BTreeMap::from([
        ("a", BTreeMap::from([("x", 1), ("y", 2)])),
        ("b", BTreeMap::new()),
    ]);
    let (name, message) = input_error(bridge.script("m").with("m", &outer).run());
    assert_eq!(name, "m");
    assert!(
        message.contains(
            "its object maps hold at least 4 entries in all, more than this \
                          bridge's max_map_size of 3"
        ),
        "{message}"
    );
    let fits = BTreeMap::from([("a", 1), ("b", 2), ("c", 3)]);
    assert_eq!(bridge.script("m.c").with("m", &fits).run().unwrap(), 3);
}

#[test]
fn limits_a_configure_engine_hook_raises_apply_to_inputs_too() {
    let bridge = Bridge::sandboxed()
        .configure_engine(|engine| {
            engine.set_max_string_size(1024 * 1024);
        })
        .build()
        .unwrap();
    let text = "x".repeat(100 * 1024);
    let value = bridge.script("text.len()").with("text", &text).run();
    assert_eq!(value.unwrap(), 100 * 1024);
}

#[test]
fn a_global_over_a_size_limit_fails_build_naming_it_and_the_limit() {
    let huge = "x".repeat(100 * 1024 * 1024);
    let error = Bridge::sandboxed()
        .global("blob", &huge)
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the script input `blob` (a global of the bridge) is too large for this bridge: its \
         strings hold at least 104857600 bytes in all, more than this bridge's max_string_size \
         of 65536 (everything nested in a value counts together, as Rhai counts it)"
    );
    // The limit set after the global still applies: globals are checked at build.
    let error = Bridge::builder()
        .global("list", vec![1, 2, 3])
        .limits(Limits::default().max_array_size(2))
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, Error::Input { name, message } if name == "list" && message.contains("max_array_size of 2")),
        "{error:?}"
    );
}

/// Rhai's keywords, reserved words and literals, and ordinary names beside them.
const CANDIDATE_NAMES: &[&str] = &[
    "print",
    "debug",
    "this",
    "Fn",
    "call",
    "curry",
    "type_of",
    "eval",
    "is_def_var",
    "is_def_fn",
    "is_shared",
    "global",
    "let",
    "const",
    "fn",
    "private",
    "import",
    "export",
    "as",
    "if",
    "else",
    "switch",
    "while",
    "loop",
    "do",
    "until",
    "for",
    "in",
    "break",
    "continue",
    "return",
    "throw",
    "try",
    "catch",
    "true",
    "false",
    "null",
    "nil",
    "void",
    "var",
    "new",
    "go",
    "spawn",
    "thread",
    "async",
    "await",
    "yield",
    "sync",
    "shared",
    "static",
    "super",
    "with",
    "case",
    "match",
    "module",
    "package",
    "use",
    "public",
    "protected",
    "default",
    "is",
    "_",
    "_1",
    "__",
    "x",
    "_x",
    "x1",
    "Fn2",
    "printer",
    "this_one",
    "sizeof",
    "Default",
];

#[test]
fn every_accepted_name_is_readable_and_every_refused_one_says_why() {
    let bridge = Bridge::new().unwrap();
    let mut refused = Vec::new();
    for &name in CANDIDATE_NAMES {
        match bridge.script(name).with(name, 42).run() {
            Ok(value) => assert_eq!(value, 42, "`{name}` was accepted but reads as {value}"),
            Err(Error::Input {
                name: named,
                message,
            }) => {
                assert_eq!(named, name);
                assert!(
                    message.contains("not a valid script variable name"),
                    "{message}"
                );
                // Rhai does not read it as a variable at all (an unknown variable would be
                // "Variable not found").
                let alone = bridge.run(name);
                assert!(
                    !matches!(&alone, Err(Error::Script { message, .. }) if message.contains("Variable not found")),
                    "`{name}` was refused but a script reads it as a variable: {alone:?}"
                );
                refused.push(name);
            }
            Err(other) => panic!("`{name}`: {other:?}"),
        }
    }
    for name in ["print", "this", "Fn", "let", "true", "go", "_1"] {
        assert!(refused.contains(&name), "`{name}` must be refused");
    }
    for name in ["x", "_x", "global", "printer", "Fn2"] {
        assert!(!refused.contains(&name), "`{name}` must be accepted");
    }
}

#[test]
fn a_global_name_a_script_cannot_read_fails_build() {
    let error = Bridge::builder().global("print", 1).build().unwrap_err();
    assert_eq!(
        error.to_string(),
        "the script input `print` (a global of the bridge) is not a valid script variable name (a \
         letter or `_`, then letters, digits or `_`, and not one of Rhai's keywords or reserved \
         words such as `let`, `print`, `this`, `Fn`)"
    );
}

#[test]
fn globals_are_seen_inside_script_functions_and_closures() {
    let bridge = Bridge::sandboxed()
        .global("vat", 20)
        .global("rates", BTreeMap::from([("eu", 2)]))
        .build()
        .unwrap();
    let in_function = bridge.run("fn with_vat(net) { net + net * vat / 100 } with_vat(50)");
    assert_eq!(in_function.unwrap(), 60);
    let nested = bridge.run("fn rate() { rates.eu } fn twice() { rate() * 2 } twice()");
    assert_eq!(nested.unwrap(), 4);
    let in_closure = bridge.run("let add_vat = |net| net * vat; [1, 2].map(add_vat)");
    assert_eq!(in_closure.unwrap(), json!([20, 40]));
    let by_pointer = bridge.run(r#"fn f() { vat } let p = Fn("f"); p.call()"#);
    assert_eq!(by_pointer.unwrap(), 20);
}

#[test]
fn a_closure_may_capture_a_global_under_the_sandbox_which_stays_constant() {
    let bridge = Bridge::sandboxed()
        .global("rates", BTreeMap::from([("eu", 2)]))
        .build()
        .unwrap();
    let inside = bridge.run("fn f() { let g = || rates.eu; g.call() } f()");
    assert_eq!(inside.unwrap(), 2);
    // A closure gets its own copy: what it changes, no one else sees, and the global cannot hold
    // the closure (no reference cycle).
    let value = bridge.run("let g = || { rates.eu = 3; rates }; [g.call(), rates]");
    assert_eq!(value.unwrap(), json!([{"eu": 3}, {"eu": 2}]));
    let value = bridge.run("let g = || rates; rates.f = g; rates");
    assert_eq!(value.unwrap(), json!({"eu": 2}));
    let error = bridge.run("let g = || rates; rates = #{}; 1").unwrap_err();
    assert!(
        matches!(&error, Error::Script { message, .. } if message.contains("constant")),
        "{error:?}"
    );
    // A variable of the global's name that the script declares is the script's own: refused.
    let error = bridge
        .run("let rates = #{}; rates.f = || rates; 1")
        .unwrap_err();
    assert!(
        error.to_string().contains("captures the variable `rates`"),
        "{error}"
    );
}

#[test]
fn inside_a_function_a_global_stays_constant_and_locals_hide_it() {
    let bridge = Bridge::builder()
        .global("vat", 20)
        .global("rates", BTreeMap::from([("eu", 2)]))
        .build()
        .unwrap();
    for script in [
        "fn f() { vat = 1; vat } f()",
        "fn f() { rates.eu = 5; rates.eu } f()",
        "fn f() { rates.eu += 1 } f()",
    ] {
        let error = bridge.run(script).unwrap_err();
        assert!(
            matches!(&error, Error::Script { message, .. } if message.contains("constant")),
            "{script}: {error:?}"
        );
    }
    assert_eq!(bridge.run("fn f(vat) { vat } f(7)").unwrap(), 7);
    assert_eq!(bridge.run("fn f() { let vat = 3; vat } f()").unwrap(), 3);
    // An unknown name is still Rhai's error.
    let error = bridge.run("fn f() { nope } f()").unwrap_err();
    assert!(
        error.to_string().contains("Variable not found: nope"),
        "{error}"
    );
}
