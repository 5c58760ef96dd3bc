//! How a registered function's parameters and result read, in Rust and in scripts.

/// One parameter of a registered function, as written in its Rust signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptParam {
    pub(crate) name: &'static str,
    pub(crate) rust_type: &'static str,
    pub(crate) script_type: &'static str,
}

impl ScriptParam {
    /// Built by the code `#[script_async]` writes (through `__private::param`).
    pub(crate) const fn new(
        name: &'static str,
        rust_type: &'static str,
        script_type: &'static str,
    ) -> Self {
        Self {
            name,
            rust_type,
            script_type,
        }
    }

    /// The parameter's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its Rust type, as written.
    pub fn rust_type(&self) -> &'static str {
        self.rust_type
    }

    /// The type scripts pass, spelled as Rhai's generated signatures spell it: `int`, `float`,
    /// `bool`, `char`, `string`, `array`, `map` (a struct), `blob`, or `?` for any (an `Option`, a
    /// JSON value).
    pub fn script_type(&self) -> &'static str {
        self.script_type
    }
}

/// What a registered function returns, as written in Rust and as scripts see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptReturn {
    pub(crate) rust_type: &'static str,
    pub(crate) script_type: &'static str,
}

impl ScriptReturn {
    /// Built by the code `#[script_async]` writes (through `__private::returns`).
    pub(crate) const fn new(rust_type: &'static str, script_type: &'static str) -> Self {
        Self {
            rust_type,
            script_type,
        }
    }

    /// The Rust return type, as written (`()` when it has none).
    pub fn rust_type(&self) -> &'static str {
        self.rust_type
    }

    /// What scripts get, spelled as [`ScriptParam::script_type`]; for a `Result`, its `Ok` type.
    pub fn script_type(&self) -> &'static str {
        self.script_type
    }
}
