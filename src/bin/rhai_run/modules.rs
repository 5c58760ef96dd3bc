//! `import` for `--modules`: `import "name"` loads `name.rhai` from `--dir` (through the same
//! directory handle as the `files` group, so no path or link leads outside), nothing else.

use crate::stdlib::FileRoot;
use bridge_runtime::rhai::{
    ASTNode, Engine, EvalAltResult, GlobalRuntimeState, Module, ModuleResolver, Position, Scope,
    Shared, Stmt,
};

/// The most a module's source may hold: as much as a script's (`--max-script-size`).
pub struct DirModuleResolver {
    root: FileRoot,
    max_size: usize,
}

impl DirModuleResolver {
    pub fn new(root: FileRoot, max_size: usize) -> Self {
        Self { root, max_size }
    }

    /// The source of module `name`, or why not.
    fn source(&self, name: &str) -> Result<String, String> {
        let source = self.root.read_text(&format!("{name}.rhai"))?;
        if self.max_size > 0 && source.len() > self.max_size {
            return Err(format!(
                "it is {} bytes long, over --max-script-size ({} bytes)",
                source.len(),
                self.max_size
            ));
        }
        Ok(source)
    }
}

impl DirModuleResolver {
    /// Module `name`, run with the importing script's `global` state (so its operations count
    /// toward the script's limits) but a scope of its own.
    fn load(
        &self,
        engine: &Engine,
        global: &mut GlobalRuntimeState,
        name: &str,
        position: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let in_module = |error: Box<EvalAltResult>| {
            Box::new(EvalAltResult::ErrorInModule(name.into(), error, position))
        };
        let refused = |message: String| {
            in_module(EvalAltResult::ErrorRuntime(message.into(), position).into())
        };
        let source = self.source(name).map_err(refused)?;
        let mut ast = engine.compile(source).map_err(|e| in_module(e.into()))?;
        // The sandbox refuses such closures in scripts (they can leak memory for good); a
        // module is script too.
        if let Some((variable, at)) = first_capture(&ast) {
            return Err(refused(format!(
                "a closure captures the variable `{variable}` ({at}); capturing closures are refused"
            )));
        }
        ast.set_source(name);
        let module = Module::eval_ast_as_new_raw(engine, &mut Scope::new(), global, &ast)
            .map_err(in_module)?;
        Ok(module.into())
    }
}

impl ModuleResolver for DirModuleResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        name: &str,
        position: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let mut global = engine.new_global_runtime_state();
        self.resolve_raw(engine, &mut global, &mut Scope::new(), name, position)
    }

    fn resolve_raw(
        &self,
        engine: &Engine,
        global: &mut GlobalRuntimeState,
        _scope: &mut Scope,
        name: &str,
        position: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        // Each import nests one level, bounded as script calls are: a module that imports
        // itself ends with this error.
        if global.level >= engine.max_call_levels() {
            let nested = format!(
                "imports nest deeper than --max-call-depth ({})",
                engine.max_call_levels()
            );
            return Err(Box::new(EvalAltResult::ErrorInModule(
                name.into(),
                EvalAltResult::ErrorRuntime(nested.into(), position).into(),
                position,
            )));
        }
        global.level += 1;
        let loaded = self.load(engine, global, name, position);
        global.level -= 1;
        loaded
    }
}

/// Where the module first makes a closure capture a variable (as the bridge checks scripts).
fn first_capture(ast: &bridge_runtime::rhai::AST) -> Option<(String, Position)> {
    let mut found = None;
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Share(captured))) = path.last() {
            found = captured
                .first()
                .map(|(variable, _)| (variable.name.to_string(), variable.pos));
        }
        found.is_none()
    });
    found
}
