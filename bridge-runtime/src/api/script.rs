//! [`Script`]: a script's source (and name), parsed at most once per engine thread.

use crate::engine::ast_cache::ScriptSource;
use std::fmt;
use std::sync::Arc;

/// A script to run: its source text and, optionally, a name for errors and traces.
///
/// [`Bridge::compile`](crate::Bridge::compile) makes one whose syntax was checked; source text
/// is one too ([`IntoScript`]), so [`Bridge::run`](crate::Bridge::run) and
/// [`Bridge::script`](crate::Bridge::script) take either. It is `Send + Sync`, cheap to clone, and
/// runs any number of times from any thread: each engine thread parses a source once and keeps
/// the result ([`BridgeBuilder::script_cache`](crate::BridgeBuilder::script_cache)), so running a
/// script again costs no parse.
///
/// ```
/// use bridge_runtime::{Bridge, Script};
///
/// let bridge = Bridge::new()?;
/// let script: Script = bridge.compile("n * 2")?.named("double");
/// assert_eq!(bridge.script(&script).with("n", 21).run()?, 42);
/// assert_eq!(bridge.script(&script).with("n", 4).run_as::<i64>()?, 8);
/// # Ok::<(), bridge_runtime::Error>(())
/// ```
#[derive(Clone)]
pub struct Script {
    pub(crate) source: ScriptSource,
    pub(crate) name: Option<Arc<str>>,
}

impl Script {
    /// A script of `source`, not checked yet (running it reports any syntax error).
    pub fn new(source: impl Into<Arc<str>>) -> Self {
        Self {
            source: ScriptSource::new(source.into()),
            name: None,
        }
    }

    /// The same script named `name`: errors give their position in it as `name, line 1,
    /// position 5`, and its tracing span carries the name.
    pub fn named(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The source text.
    pub fn source(&self) -> &str {
        self.source.text()
    }

    /// The name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("name", &self.name)
            .field("source_len", &self.source.text().len())
            .finish()
    }
}

/// What [`Bridge::run`](crate::Bridge::run), [`Bridge::script`](crate::Bridge::script) and the
/// others take as a script: source text (`&str`, `String`, `&String`, anything `AsRef<str>` by
/// reference) or a [`Script`].
pub trait IntoScript {
    /// The script.
    fn into_script(self) -> Script;
}

impl<S: AsRef<str> + ?Sized> IntoScript for &S {
    fn into_script(self) -> Script {
        Script::new(self.as_ref())
    }
}

impl IntoScript for String {
    fn into_script(self) -> Script {
        Script::new(self)
    }
}

impl IntoScript for Script {
    fn into_script(self) -> Script {
        self
    }
}

impl IntoScript for &Script {
    fn into_script(self) -> Script {
        self.clone()
    }
}
