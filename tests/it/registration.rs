//! Every `#[script_async]` function the suite defines is registered exactly once: a registration
//! can silently vanish (an unlinked crate, an unsupported target), and a duplicate would make
//! every bridge in this binary fail to start.
//!
//! The expected functions are read from the suite's own sources, so a new function needs no
//! list kept by hand: a function is expected when a `#[script_async]` attribute is directly
//! above it, or when it is an `async fn` inside a `#[script_async] mod` or `impl` block.

use std::collections::BTreeMap;
use std::path::Path;

/// The crate a source file's functions are registered from, for each folder scanned.
const SOURCES: &[(&str, &str)] = &[("tests/it", "it"), ("tests/support", "bridge_suite")];

/// The name of every `#[script_async]` function in `source`. Nested modules are not tracked: a
/// registered function matches when its Rust path starts with its file's module (`it::calling`)
/// and ends with its name.
fn script_functions(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut attribute_pending = false;
    // Brace depth inside a `#[script_async] mod` or `impl`, once its opening line has been seen.
    let mut module_depth: Option<i64> = None;
    for line in source.lines() {
        let code = line.trim();
        if let Some(depth) = module_depth.as_mut() {
            if let Some(name) = async_fn_name(code) {
                found.push(name);
            }
            *depth += braces(code);
            if *depth <= 0 {
                module_depth = None;
            }
            continue;
        }
        if code.starts_with("#[script_async") || code.starts_with("#[bridge_runtime::script_async")
        {
            attribute_pending = true;
            continue;
        }
        if !attribute_pending {
            continue;
        }
        if let Some(name) = async_fn_name(code) {
            found.push(name);
            attribute_pending = false;
        } else if code.starts_with("mod ")
            || code.starts_with("pub mod ")
            || code.starts_with("impl ")
        {
            module_depth = Some(braces(code));
            attribute_pending = false;
        } else if code.starts_with("fn ") || code.starts_with("pub fn ") {
            panic!("`#[script_async]` above a function that is not async: {code}");
        }
        // Otherwise: doc comments, other attributes, the attribute's own continuation lines.
    }
    found
}

fn async_fn_name(code: &str) -> Option<String> {
    let (_, rest) = code.split_once("async fn ")?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    Some(name)
}

fn braces(code: &str) -> i64 {
    code.chars()
        .map(|c| match c {
            '{' => 1,
            '}' => -1,
            _ => 0,
        })
        .sum()
}

/// Each expected function as `(its file's module path, its name)`.
fn expected_functions() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut expected = Vec::new();
    for (folder, krate) in SOURCES {
        let mut files: Vec<_> = std::fs::read_dir(root.join(folder))
            .unwrap_or_else(|error| panic!("read {folder}: {error}"))
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
            .collect();
        files.sort();
        for file in files {
            let stem = file.file_stem().unwrap().to_str().unwrap();
            let module = match stem {
                "main" | "lib" => krate.to_string(),
                _ => format!("{krate}::{stem}"),
            };
            let source = std::fs::read_to_string(&file).unwrap();
            for name in script_functions(&source) {
                expected.push((module.clone(), name));
            }
        }
    }
    expected
}

#[test]
fn every_function_defined_in_the_suite_is_registered_exactly_once() {
    let registered = bridge_runtime::registry::registered_functions();
    let expected = expected_functions();
    assert!(
        expected.len() > 50,
        "the source scan found only {} functions",
        expected.len()
    );

    let mut unexpected: Vec<&str> = registered.iter().map(|f| f.rust_path()).collect();
    for (module, name) in &expected {
        let matches: Vec<&str> = registered
            .iter()
            .map(|f| f.rust_path())
            .filter(|path| {
                path.starts_with(&format!("{module}::")) && path.ends_with(&format!("::{name}"))
            })
            .collect();
        assert_eq!(
            matches.len(),
            1,
            "`{name}` in `{module}` should be registered exactly once, found {matches:?}"
        );
        unexpected.retain(|path| *path != matches[0]);
    }
    assert!(
        unexpected.is_empty(),
        "registered but not found in the sources: {unexpected:?}"
    );

    let mut by_script_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for function in &registered {
        by_script_name
            .entry(function.name())
            .or_default()
            .push(function.rust_path());
    }
    by_script_name.retain(|_, paths| paths.len() > 1);
    assert!(
        by_script_name.is_empty(),
        "script names claimed more than once: {by_script_name:?}"
    );
}
