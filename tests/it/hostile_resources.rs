//! Resources as a hostile tenant would use them, under `Bridge::sandboxed()`: forged, smuggled
//! into another script, used after close, opened without end.

use bridge_runtime::record::RecordAndReplay;
use bridge_runtime::{rhai, script_async, Bridge, Limits, Mut, Ref, Resource};
use std::cell::RefCell;
use std::time::Duration;

/// A key a script holds.
pub struct HrKey {
    secret: i64,
}

#[script_async]
impl HrKey {
    /// The secret behind the key.
    async fn reveal(&self) -> i64 {
        self.secret
    }
}

/// A key with `secret`.
#[script_async]
async fn hr_key(secret: i64) -> Resource<HrKey> {
    Resource::new(HrKey { secret })
}

/// Whether two keys hold the same secret.
#[script_async]
async fn hr_same(a: Ref<HrKey>, b: Ref<HrKey>) -> bool {
    a.secret == b.secret
}

/// Swaps the secrets of two keys.
#[script_async]
async fn hr_swap(mut a: Mut<HrKey>, mut b: Mut<HrKey>) {
    std::mem::swap(&mut a.secret, &mut b.secret);
}

fn sandboxed() -> Bridge {
    Bridge::sandboxed().build().unwrap()
}

#[test]
fn a_resource_cannot_be_forged_from_a_number_a_string_or_a_map() {
    let bridge = sandboxed();
    for forged in [
        "reveal(1)",
        r#"reveal("HrKey#1")"#,
        "reveal(#{ id: 1 })",
        "let k = #{}; k.reveal()",
        "let k = 1; k.reveal()",
        "let k = hr_key(1); let m = #{ id: k }; m.reveal()",
    ] {
        let error = bridge.run(forged).unwrap_err().to_string();
        assert!(
            error.contains("Function not found: reveal"),
            "{forged}: {error}"
        );
    }
    // The real one still works beside them.
    assert_eq!(bridge.run("let k = hr_key(42); k.reveal()").unwrap(), 42);
}

thread_local! {
    /// What the hostile host hook below keeps between scripts on one engine thread.
    static STASH: RefCell<Option<rhai::Dynamic>> = const { RefCell::new(None) };
}

#[test]
fn a_resource_kept_past_its_script_cannot_be_used_by_another() {
    let bridge = Bridge::sandboxed()
        .max_engine_threads(1)
        .configure_engine(|engine| {
            engine.register_fn("stash", |value: rhai::Dynamic| {
                STASH.with(|stash| *stash.borrow_mut() = Some(value));
            });
            engine.register_fn("unstash", || {
                STASH.with(|stash| stash.borrow_mut().take().unwrap_or_default())
            });
        })
        .build()
        .unwrap();
    bridge.run("stash(hr_key(7)); 0").unwrap();
    let error = bridge
        .run("let k = unstash(); k.reveal()")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("this HrKey belongs to another script"),
        "{error}"
    );
    // Held by two live scripts at once: the second is refused as well.
    let holder = bridge.spawn("let k = hr_key(8); stash(k); sleep(0.5); k.reveal()");
    std::thread::sleep(Duration::from_millis(100));
    let error = bridge.run("unstash().reveal()").unwrap_err().to_string();
    assert!(error.contains("belongs to another script"), "{error}");
    assert_eq!(holder.join().unwrap(), 8);
}

#[test]
fn a_resource_cannot_be_a_result_an_input_or_a_recorded_value() {
    let bridge = sandboxed();
    let error = bridge.run("[hr_key(1)]").unwrap_err().to_string();
    assert!(error.contains("a HrKey is a resource"), "{error}");
    let recording = Bridge::sandboxed().record(std::io::sink()).build().unwrap();
    let error = recording.run("hr_key(1)").unwrap_err().to_string();
    assert!(
        error.contains("which a record cannot hold") && error.contains("hr_key"),
        "{error}"
    );
}

#[test]
fn opening_resources_without_end_stops_at_max_resources_and_released_ones_do_not_count() {
    let bridge = Bridge::sandboxed()
        .limits(
            Limits::sandboxed()
                .max_operations(None)
                .script_timeout(None),
        )
        .build()
        .unwrap();
    // 100,000 opened and let go one by one: never more than one open at a time.
    let value = bridge
        .run("let total = 0; for i in 0..100000 { let k = hr_key(i); total += 1; } total")
        .unwrap();
    assert_eq!(value, 100_000);
    // Held: the 65th is a catchable limit error.
    let value = bridge
        .run(
            r#"
            let held = [];
            let seen = ();
            try { for i in 0..100000 { held.push(hr_key(i)); } } catch (e) { seen = [held.len(), e.kind]; }
            held.clear();
            seen.push(hr_key(1).reveal());
            seen
            "#,
        )
        .unwrap();
    assert_eq!(value, serde_json::json!([64, "limit", 1]));
}

#[test]
fn a_resource_parameter_cannot_be_forged_smuggled_or_aliased() {
    let bridge = Bridge::sandboxed()
        .max_engine_threads(1)
        .configure_engine(|engine| {
            engine.register_fn("stash_param", |value: rhai::Dynamic| {
                STASH.with(|stash| *stash.borrow_mut() = Some(value));
            });
            engine.register_fn("unstash_param", || {
                STASH.with(|stash| stash.borrow_mut().take().unwrap_or_default())
            });
        })
        .build()
        .unwrap();
    for forged in ["1", r#""HrKey#1""#, "#{ id: 1 }", "()", "[hr_key(1)]"] {
        let script = format!(
            "let k = hr_key(1); let r = (); try {{ hr_swap(k, {forged}); }} catch (e) {{ r = [e.kind, e.param]; }} r"
        );
        let value = bridge.run(&script).unwrap();
        assert_eq!(value, serde_json::json!(["argument", "b"]), "{forged}");
    }
    bridge.run("stash_param(hr_key(7)); 0").unwrap();
    let value = bridge
        .run("let k = hr_key(7); let r = (); try { hr_same(k, unstash_param()); } catch (e) { r = e.message; } r")
        .unwrap();
    assert!(
        value
            .as_str()
            .unwrap()
            .contains("belongs to another script"),
        "{value}"
    );
    // The same key as both `Mut`s: refused before anything runs; as both `Ref`s: fine.
    let value = bridge
        .run("let k = hr_key(3); let seen = 0; try { hr_swap(k, k); } catch (e) { seen = e.kind; } [seen, hr_same(k, k), k.reveal()]")
        .unwrap();
    assert_eq!(value, serde_json::json!(["argument", true, 3]));
}
