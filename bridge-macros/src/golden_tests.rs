//! Golden expansions (functions, modules and resource `impl` blocks): each `tests/expand/NAME.rs` fixture expands to `tests/expand/NAME.expanded.rs`.
//!
//! A change to generated code shows up as a diff of `.expanded.rs` files. To accept one on purpose,
//! run `UPDATE_EXPANDED=1 cargo test -p bridge-macros` and review the diff. The same fixtures are
//! compiled by the trybuild test of `compile-tests/`, which proves each expansion builds.

use std::fs;
use std::path::{Path, PathBuf};
use syn::{Attribute, Item};

/// Expands every `#[script_async]` function and module of a fixture file and formats the result.
fn expand_fixture(source: &str) -> String {
    let mut file = syn::parse_file(source).expect("fixture parses");
    let mut items = Vec::new();
    for item in file.items.drain(..) {
        let mut expandable = item;
        let attrs = match &mut expandable {
            Item::Fn(function) => &mut function.attrs,
            Item::Mod(module) => &mut module.attrs,
            Item::Impl(block) => &mut block.attrs,
            _ => {
                items.push(expandable);
                continue;
            }
        };
        let Some(attr) = take_script_async(attrs) else {
            items.push(expandable);
            continue;
        };
        let args = match attr.meta {
            syn::Meta::List(list) => list.tokens,
            _ => proc_macro2::TokenStream::new(),
        };
        let expanded = crate::script_async_tokens(args, quote::quote!(#expandable));
        let expanded: syn::File = syn::parse2(expanded).expect("expansion parses");
        items.extend(expanded.items);
    }
    file.items = items;
    prettyplease::unparse(&file)
}

fn take_script_async(attrs: &mut Vec<Attribute>) -> Option<Attribute> {
    let index = attrs.iter().position(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "script_async")
    })?;
    Some(attrs.remove(index))
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let mut paths: Vec<_> = fs::read_dir(&dir)
        .expect("tests/expand exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "rs")
                && !path.to_string_lossy().ends_with(".expanded.rs")
        })
        .collect();
    paths.sort();
    paths
}

#[test]
fn expansions_match_their_golden_files() {
    let update = std::env::var_os("UPDATE_EXPANDED").is_some();
    let fixtures = fixtures();
    assert!(!fixtures.is_empty(), "no fixtures in tests/expand");
    let mut mismatched = Vec::new();
    for fixture in fixtures {
        let source = fs::read_to_string(&fixture).expect("fixture readable");
        let actual = expand_fixture(&source);
        let golden = fixture.with_extension("expanded.rs");
        if update {
            fs::write(&golden, &actual).expect("golden file writable");
            continue;
        }
        let expected = fs::read_to_string(&golden).unwrap_or_default();
        if expected != actual {
            mismatched.push(format!(
                "{} differs from its expansion; rerun with UPDATE_EXPANDED=1 and review the \
                 diff.\n--- actual ---\n{actual}",
                golden.display()
            ));
        }
    }
    assert!(mismatched.is_empty(), "{}", mismatched.join("\n\n"));
}
