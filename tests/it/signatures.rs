//! Script-visible signatures: parameter names, script types and doc comments reach Rhai's
//! metadata, its signatures and its definition files, and `Bridge::definitions` writes them.

use bridge_runtime::registry::{registered_functions, ScriptFunction};
use bridge_runtime::{script_async, Bridge, Error};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Serialize, Deserialize)]
struct User {
    id: i64,
    name: String,
}

/// Looks a user up by id.
///
/// Fails if there is none.
#[script_async]
async fn get_user(id: i64) -> Result<User, String> {
    Ok(User {
        id,
        name: format!("user {id}"),
    })
}

#[script_async]
async fn tag_users(ids: Vec<i64>, tag: &str, limit: Option<u32>, extra: HashMap<String, f64>) {
    let _ = (ids, tag, limit, extra);
}

fn registered(name: &str) -> &'static ScriptFunction {
    registered_functions()
        .into_iter()
        .find(|function| function.name() == name)
        .unwrap()
}

#[test]
fn the_registry_knows_each_signature_in_script_types_and_the_doc_comment() {
    let get_user = registered("get_user");
    assert_eq!(get_user.signature(), "get_user(id: int) -> map");
    assert_eq!(get_user.returns(), "Result<User, String>");
    assert_eq!(get_user.script_returns(), "map");
    assert_eq!(
        get_user.docs(),
        " Looks a user up by id.\n\n Fails if there is none."
    );
    let tag_users = registered("tag_users");
    assert_eq!(
        tag_users.signature(),
        "tag_users(ids: array, tag: string, limit: ?, extra: map)"
    );
    assert_eq!(tag_users.docs(), "");
}

#[test]
fn rhai_lists_the_functions_with_names_types_and_docs_on_the_engine_threads() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let bridge = Bridge::builder()
        .configure_engine({
            let seen = seen.clone();
            move |engine| *seen.lock().unwrap() = engine.gen_fn_signatures(false)
        })
        .build()
        .unwrap();
    assert_eq!(bridge.run("get_user(7).name").unwrap(), "user 7");
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(|s| s == "get_user(id: int) -> map"),
        "{seen:#?}"
    );
    assert_eq!(bridge.definitions().unwrap().signatures(), &seen[..]);
}

#[test]
fn the_definition_file_declares_each_function_with_its_doc_comment() {
    let definitions = Bridge::new().unwrap().definitions().unwrap();
    let text = definitions.single_file();
    assert!(
        text.contains(
            "/// Looks a user up by id.\n///\n/// Fails if there is none.\nfn get_user(id: int) -> map;"
        ),
        "{text}"
    );
    assert!(
        text.contains("fn tag_users(ids: array, tag: string, limit: ?, extra: map) -> ();"),
        "{text}"
    );
    // Rhai's built-ins come as their own files, beside the bridge's functions.
    let names: Vec<&str> = definitions
        .files()
        .iter()
        .map(|(name, _)| &name[..])
        .collect();
    assert!(names.contains(&"__static__.d.rhai"), "{names:?}");
    assert!(names.contains(&"__builtin__.d.rhai"), "{names:?}");
    let (_, statics) = &definitions.files()[names
        .iter()
        .position(|n| *n == "__static__.d.rhai")
        .unwrap()];
    assert!(
        statics.contains("fn get_user(id: int) -> map;"),
        "{statics}"
    );
}

#[test]
fn definitions_are_written_to_a_directory_for_editors() {
    let dir = std::env::temp_dir().join(format!("bridge-definitions-{}", std::process::id()));
    let definitions = Bridge::new().unwrap().definitions().unwrap();
    definitions.write_to_dir(&dir).unwrap();
    let written = std::fs::read_to_string(dir.join("__static__.d.rhai")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        written.contains("fn get_user(id: int) -> map;"),
        "{written}"
    );
}

#[test]
fn rhai_json_metadata_names_parameters_return_type_and_docs() {
    let definitions = Bridge::new().unwrap().definitions().unwrap();
    let metadata: serde_json::Value = serde_json::from_str(definitions.metadata_json()).unwrap();
    let functions = metadata["functions"].as_array().unwrap();
    let get_user = functions
        .iter()
        .find(|function| function["name"] == "get_user")
        .unwrap();
    assert_eq!(get_user["params"][0]["name"], "id");
    assert_eq!(get_user["params"][0]["type"], "int");
    assert_eq!(get_user["returnType"], "map");
    assert_eq!(
        get_user["docComments"][0],
        "/// Looks a user up by id.\n///\n/// Fails if there is none."
    );
}

#[test]
fn a_panicking_engine_hook_is_an_error_from_definitions_not_a_panic() {
    // `build` runs each hook once to check it; this one panics from its second run on.
    let runs = AtomicUsize::new(0);
    let bridge = Bridge::builder()
        .min_engine_threads(0)
        .configure_engine(move |_| {
            if runs.fetch_add(1, Ordering::SeqCst) > 0 {
                panic!("hook exploded")
            }
        })
        .build()
        .unwrap();
    match bridge.definitions() {
        Err(Error::Config(message)) => assert!(message.contains("hook exploded"), "{message}"),
        other => panic!("expected a configuration error, got {other:?}"),
    }
}
