//! Rhai's own limits, as a bridge applies them to each of its engines.

use rhai::module_resolvers::DummyModuleResolver;
use rhai::Engine;

/// Limits on what one script may do; `None` leaves Rhai's default (unlimited, for most).
#[derive(Clone, Debug, Default)]
pub(crate) struct ScriptLimits {
    pub(crate) max_operations: Option<u64>,
    pub(crate) max_call_depth: Option<usize>,
    pub(crate) max_string_size: Option<usize>,
    pub(crate) max_array_size: Option<usize>,
    pub(crate) max_map_size: Option<usize>,
    /// Nesting depth of expressions, at top level and inside functions.
    pub(crate) max_expr_depths: Option<(usize, usize)>,
    /// Switch off `eval` (it runs text as script, escaping static review).
    pub(crate) disable_eval: bool,
    /// Refuse `import` (by default Rhai loads modules from the file system).
    pub(crate) disable_imports: bool,
}

impl ScriptLimits {
    pub(crate) fn apply(&self, engine: &mut Engine) {
        if let Some(max) = self.max_operations {
            engine.set_max_operations(max);
        }
        if let Some(max) = self.max_call_depth {
            engine.set_max_call_levels(max);
        }
        if let Some(max) = self.max_string_size {
            engine.set_max_string_size(max);
        }
        if let Some(max) = self.max_array_size {
            engine.set_max_array_size(max);
        }
        if let Some(max) = self.max_map_size {
            engine.set_max_map_size(max);
        }
        if let Some((global, in_functions)) = self.max_expr_depths {
            engine.set_max_expr_depths(global, in_functions);
        }
        if self.disable_eval {
            engine.disable_symbol("eval");
        }
        if self.disable_imports {
            engine.set_module_resolver(DummyModuleResolver::new());
        }
    }
}
