//! Rhai's own limits, as a bridge applies them to each of its engines.

use crate::convert::json_bounds::ValueBounds;
use rhai::module_resolvers::DummyModuleResolver;
use rhai::{ASTNode, Engine, Position, Stmt, AST};

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
    /// At most this many variables in scope, and script functions defined.
    pub(crate) max_variables: Option<usize>,
    pub(crate) max_functions: Option<usize>,
    /// Refuse scripts with closures that capture variables: they can form reference cycles
    /// (`let m = #{}; m.f = || m;`) that are never freed.
    pub(crate) refuse_capturing_closures: bool,
    /// Refuse a source longer than this many bytes before parsing it: Rhai's parser takes time
    /// quadratic in the number of statements (measured: 234 KiB of `1;` lines, 1.2 s), and a
    /// deadline cannot interrupt a parse.
    pub(crate) max_script_size: Option<usize>,
}

impl ScriptLimits {
    /// The sizes a value from outside a script (a dispatched command) may have.
    pub(crate) fn value_bounds(&self) -> ValueBounds {
        ValueBounds {
            max_string_size: self.max_string_size,
            max_array_size: self.max_array_size,
            max_map_size: self.max_map_size,
        }
    }

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
        if let Some(max) = self.max_variables {
            engine.set_max_variables(max);
        }
        if let Some(max) = self.max_functions {
            engine.set_max_functions(max);
        }
        if self.disable_eval {
            engine.disable_symbol("eval");
        }
        if self.disable_imports {
            engine.set_module_resolver(DummyModuleResolver::new());
        }
    }
}

/// Where `ast` first makes a closure capture a variable, if it does anywhere (function bodies
/// included). Rhai shares each captured variable (`Stmt::Share`) just before it builds the closure.
///
/// A variable the script never declares and `is_constant` names (a bridge's global) is not
/// counted: it cannot be assigned, so it can never hold the closure that captures it.
pub(crate) fn first_capture(
    ast: &AST,
    is_constant: impl Fn(&str) -> bool,
) -> Option<(String, Position)> {
    let mut found = None;
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Share(captured))) = path.last() {
            // No index: the parser found no declaration, so the name is the scope's.
            found = captured
                .iter()
                .find(|(variable, index)| index.is_some() || !is_constant(&variable.name))
                .map(|(variable, _)| (variable.name.to_string(), variable.pos));
        }
        found.is_none()
    });
    found
}
