//! [`ScriptDefinitions`]: what a bridge's scripts can call, as Rhai's tooling reads it.

use crate::call::env::EngineEnv;
use crate::catch_unwind::describe_panic;
use crate::engine::build::{build_engine, EngineSettings};
use crate::engine::run::script_globals;
use crate::error::Error;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::rc::Rc;

/// The functions a bridge's scripts can call, with parameter names, script types and doc
/// comments: Rhai definition files (`.d.rhai`) for editor completion, Rhai's JSON metadata, and
/// one signature per function. Made by [`Bridge::definitions`](crate::Bridge::definitions) from
/// an engine built exactly as the bridge's engine threads build theirs (the host's
/// `configure_engine` hooks included).
#[derive(Clone, Debug)]
pub struct ScriptDefinitions {
    files: Vec<(String, String)>,
    single_file: String,
    metadata_json: String,
    signatures: Vec<String>,
}

impl ScriptDefinitions {
    pub(crate) fn of(settings: &EngineSettings) -> Result<Self, Error> {
        catch_unwind(AssertUnwindSafe(|| {
            let env = Rc::new(EngineEnv::for_current_thread(&settings.calls));
            let engine = build_engine(settings, &env, &script_globals(&settings.globals));
            let definitions = engine.definitions();
            let metadata_json = engine.gen_fn_metadata_to_json(false).map_err(|error| {
                Error::Config(format!("writing Rhai's metadata failed: {error}"))
            })?;
            Ok(Self {
                files: definitions.iter_files().collect(),
                single_file: definitions.single_file(),
                metadata_json,
                signatures: engine.gen_fn_signatures(false),
            })
        }))
        .unwrap_or_else(|panic| {
            Err(Error::Config(format!(
                "building the script engine panicked: {}",
                describe_panic(panic)
            )))
        })
    }

    /// Each definition file as (file name, contents), as Rhai's `Definitions::iter_files` names
    /// them: `__static__.d.rhai` holds the bridge's functions, the others Rhai's built-ins.
    pub fn files(&self) -> &[(String, String)] {
        &self.files
    }

    /// Writes [`files`](Self::files) into `dir` (created if needed; files there are replaced).
    pub fn write_to_dir(&self, dir: impl AsRef<Path>) -> io::Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        for (name, contents) in &self.files {
            std::fs::write(dir.join(name), contents)?;
        }
        Ok(())
    }

    /// Every definition in one file's text.
    pub fn single_file(&self) -> &str {
        &self.single_file
    }

    /// Rhai's JSON metadata of every function outside its standard library
    /// (`Engine::gen_fn_metadata_to_json`): names, parameters, return types, doc comments.
    pub fn metadata_json(&self) -> &str {
        &self.metadata_json
    }

    /// Rhai's own signature of every function outside its standard library
    /// (`Engine::gen_fn_signatures`), as `name(param: type, ...) -> type`.
    pub fn signatures(&self) -> &[String] {
        &self.signatures
    }
}
