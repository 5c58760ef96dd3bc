//! Checks that the runtime's modules depend on each other one way only.
//!
//! Run `cargo test -p bridge-runtime --test module_layers -- --nocapture` to print the graph.
//!
//! The check reads `src/` as text: every `crate::`, `super::` and `use child::` path outside
//! comments and outside the test module that ends a file is a dependency of that file on the
//! longest module the path names (`super::` inside an inline module is the file itself). Tests
//! may use anything, so they are not counted. It then
//! requires that
//! 1. each top-level part of the crate (a folder, or a file at the root) uses only parts listed
//!    after it in [`LAYERS`], or itself;
//! 2. no files import each other in a circle, inside a folder or across folders.
//!
//! Imports therefore name the module that defines an item (`crate::call::proxy::ScriptCall`),
//! never a re-export higher up (`crate::Error` from inside the crate would point at the root).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The crate's parts, from the public API down to the leaves. Each may use only the parts after
/// it; a new folder must be placed here.
const LAYERS: &[(&str, &str)] = &[
    (
        "crate",
        "lib.rs: the crate's documentation and public exports",
    ),
    (
        "__private",
        "what the code #[script_async] writes refers to",
    ),
    (
        "api",
        "what users build and hold: Bridge, BridgeBuilder, ScriptRun, ScriptHandle",
    ),
    (
        "engine",
        "the engine side: the pool of engine threads, each with its Rhai engine",
    ),
    (
        "worker",
        "the worker side: the thread whose tokio runtime runs the async calls",
    ),
    (
        "registered",
        "the functions #[script_async] registered, collected at link time",
    ),
    (
        "call",
        "the call protocol: the proxy's view and its stages, commands, the queue",
    ),
    (
        "resource",
        "host objects: values scripts hold that stay on the worker, and their tokens",
    ),
    (
        "sync",
        "synchronisation primitives: reply cell, waiting, waking, stop switch",
    ),
    (
        "fiber",
        "fibers: scripts as coroutines on their own guarded stacks",
    ),
    ("convert", "script values to and from Rust values"),
    (
        "state",
        "State, ScriptContext and the typed maps that hold them",
    ),
    (
        "signature",
        "how a registered function's parameters and result read",
    ),
    ("trace", "tracing spans for scripts and calls"),
    ("catch_unwind", "containing panics"),
    ("error", "the error types"),
];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn modules_depend_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = module_files(&src, &src);
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    let mut graph = Graph::new();
    for (module, text) in &files {
        let children = declared_children(text);
        let uses = graph.entry(module.clone()).or_default();
        for path in dependency_paths(module, text, &children) {
            if let Some(target) = longest_module(&modules, &path) {
                if &target != module {
                    uses.insert(target);
                }
            }
        }
    }

    print_graph(&graph);
    let mut problems = layer_violations(&graph);
    for circle in circles(&graph) {
        problems.push(format!("import circle: {}", circle.join(" -> ")));
    }
    assert!(
        problems.is_empty(),
        "module dependencies break the layering:\n  {}",
        problems.join("\n  ")
    );
}

/// Every `.rs` file under `dir`, by module path (`crate`, `call::proxy`, `convert`), with its text.
fn module_files(root: &Path, dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("src/ is readable").path();
        if path.is_dir() {
            files.extend(module_files(root, &path));
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let relative = path.strip_prefix(root).expect("under src/");
        let mut segments: Vec<String> = relative
            .with_extension("")
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        if matches!(segments.last().map(String::as_str), Some("mod" | "lib")) {
            segments.pop();
        }
        let module = if segments.is_empty() {
            "crate".to_owned()
        } else {
            segments.join("::")
        };
        files.insert(module, fs::read_to_string(&path).expect("source is UTF-8"));
    }
    files
}

/// The file's code without comments and without the test module(s) that end it.
fn code_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let mut code = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            let next = lines.get(index + 1).map_or("", |l| l.trim_start());
            if next.starts_with("mod ") || next.starts_with("pub(crate) mod ") {
                break;
            }
        }
        if trimmed.starts_with("//") {
            continue;
        }
        code.push(match line.find("//") {
            Some(comment) if !line[..comment].contains('"') => &line[..comment],
            _ => line,
        });
    }
    code
}

/// Modules declared in the file with `mod name;`.
fn declared_children(text: &str) -> BTreeSet<String> {
    code_lines(text)
        .iter()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("pub(crate) mod "))
                .or_else(|| line.strip_prefix("mod "))?;
            rest.strip_suffix(';').map(str::to_owned)
        })
        .collect()
}

/// Every module path the file's code names, made absolute (without the leading `crate`).
fn dependency_paths(module: &str, text: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let own: Vec<String> = if module == "crate" {
        Vec::new()
    } else {
        module.split("::").map(str::to_owned).collect()
    };
    let parent = own[..own.len().saturating_sub(1)].to_vec();
    let code = code_lines(text).join("\n");
    let mut paths = Vec::new();
    let bytes = code.as_bytes();
    // Brace depth, and the depths at which inline `mod name { .. }` bodies open: inside one,
    // `super::` is the file itself.
    let mut depth = 0;
    let mut inline_modules = Vec::new();
    for start in 0..bytes.len() {
        match bytes[start] {
            b'{' => {
                depth += 1;
                let before: Vec<&str> = code[..start].split_whitespace().rev().take(2).collect();
                if before.len() == 2 && before[1] == "mod" {
                    inline_modules.push(depth);
                }
            }
            b'}' => {
                if inline_modules.last() == Some(&depth) {
                    inline_modules.pop();
                }
                depth -= 1;
            }
            _ => {}
        }
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let rest = &code[start..];
        let (base, tail) = if let Some(tail) = rest.strip_prefix("crate::") {
            (Vec::new(), tail)
        } else if let Some(tail) = rest.strip_prefix("super::") {
            if !inline_modules.is_empty() {
                continue;
            }
            (parent.clone(), tail)
        } else if let Some(tail) = rest.strip_prefix("use ") {
            let first = tail.split("::").next().unwrap_or("");
            if !children.contains(first) {
                continue;
            }
            (own.clone(), tail)
        } else {
            continue;
        };
        for path in use_tree(&mut tail.chars().peekable()) {
            let mut full = base.clone();
            full.extend(path.into_iter().filter(|segment| segment != "self"));
            paths.push(full);
        }
    }
    paths
}

/// Parses a use tree (`a::b::{c, d::e}`), returning each path it names.
fn use_tree(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Vec<Vec<String>> {
    let mut prefix = Vec::new();
    loop {
        let ident: String =
            std::iter::from_fn(|| chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_'))
                .collect();
        if !ident.is_empty() {
            prefix.push(ident);
        }
        if chars.next_if_eq(&':').is_some() && chars.next_if_eq(&':').is_some() {
            if chars.next_if_eq(&'{').is_some() {
                let mut paths = Vec::new();
                loop {
                    while chars.next_if(|c| c.is_whitespace()).is_some() {}
                    if chars.next_if_eq(&'}').is_some() || chars.peek().is_none() {
                        return paths;
                    }
                    for path in use_tree(chars) {
                        let mut full = prefix.clone();
                        full.extend(path);
                        paths.push(full);
                    }
                    while chars.next_if(|c| *c != ',' && *c != '}').is_some() {}
                    chars.next_if_eq(&',');
                }
            }
            continue;
        }
        return vec![prefix];
    }
}

/// The longest module that `path` starts with.
fn longest_module(modules: &BTreeSet<String>, path: &[String]) -> Option<String> {
    (0..=path.len()).rev().find_map(|length| {
        let name = if length == 0 {
            "crate".to_owned()
        } else {
            path[..length].join("::")
        };
        modules.contains(&name).then_some(name)
    })
}

fn layer_of(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

fn layer_violations(graph: &Graph) -> Vec<String> {
    let rank = |layer: &str| LAYERS.iter().position(|(name, _)| *name == layer);
    let mut problems = Vec::new();
    for (module, uses) in graph {
        let Some(own) = rank(layer_of(module)) else {
            problems.push(format!("`{module}` is in no layer: add it to LAYERS"));
            continue;
        };
        for target in uses {
            match rank(layer_of(target)) {
                Some(other) if other > own || layer_of(target) == layer_of(module) => {}
                _ => problems.push(format!("`{module}` uses `{target}`, which is above it")),
            }
        }
    }
    problems
}

/// The strongly connected components with more than one module (Tarjan's algorithm).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    struct Search<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Search<'g> {
        fn visit(&mut self, node: &'g str) {
            let number = self.index.len();
            self.index.insert(node, number);
            self.low.insert(node, number);
            self.stack.push(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(top) = self.stack.pop() {
                    component.push(top.to_owned());
                    if top == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut search = Search {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !search.index.contains_key(node.as_str()) {
            search.visit(node);
        }
    }
    search.found
}

fn print_graph(graph: &Graph) {
    let mut by_layer: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (module, uses) in graph {
        for target in uses {
            if layer_of(target) != layer_of(module) {
                by_layer
                    .entry(layer_of(module))
                    .or_default()
                    .insert(layer_of(target));
            }
        }
    }
    println!("layers, top to bottom, and the layers each one uses:");
    for (layer, what) in LAYERS {
        let uses: Vec<&str> = by_layer.get(layer).into_iter().flatten().copied().collect();
        println!(
            "  {layer:<13} {what}\n  {:<13} uses: {}",
            "",
            uses.join(", ")
        );
    }
    println!("modules and what they use:");
    for (module, uses) in graph {
        let uses: Vec<&str> = uses.iter().map(String::as_str).collect();
        println!("  {module} -> {}", uses.join(", "));
    }
}
