//! Where scripts' `print` and `debug` output goes.

use rhai::Engine;
use std::sync::Arc;

/// A host function that receives one line of a script's output.
pub(crate) type OutputHook = Arc<dyn Fn(&str) + Send + Sync>;

/// Where one kind of script output (`print` or `debug`) goes.
#[derive(Clone, Default)]
pub(crate) enum OutputTarget {
    /// Rhai's own behaviour: the host process's standard output.
    #[default]
    Rhai,
    /// Nowhere: a sandboxed script cannot write to the host's terminal or logs.
    Discard,
    /// The host's function.
    Hook(OutputHook),
}

/// Where `print` and `debug` output go.
#[derive(Clone, Default)]
pub(crate) struct ScriptOutput {
    pub(crate) print: OutputTarget,
    pub(crate) debug: OutputTarget,
}

impl ScriptOutput {
    /// Output that goes nowhere unless a hook is set: the sandbox's.
    pub(crate) fn discarded() -> Self {
        Self {
            print: OutputTarget::Discard,
            debug: OutputTarget::Discard,
        }
    }

    pub(crate) fn apply(&self, engine: &mut Engine) {
        match &self.print {
            OutputTarget::Rhai => {}
            OutputTarget::Discard => {
                engine.on_print(|_| {});
            }
            OutputTarget::Hook(hook) => {
                let hook = hook.clone();
                engine.on_print(move |text| hook(text));
            }
        }
        match &self.debug {
            OutputTarget::Rhai => {}
            OutputTarget::Discard => {
                engine.on_debug(|_, _, _| {});
            }
            OutputTarget::Hook(hook) => {
                let hook = hook.clone();
                engine.on_debug(move |text, _, _| hook(text));
            }
        }
    }
}
