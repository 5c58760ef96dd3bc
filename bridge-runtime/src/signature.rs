//! How a registered function's parameters and result read, in Rust and in scripts.

/// One parameter of a registered function, as written in its Rust signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptParam {
    /// The parameter's name.
    pub name: &'static str,
    /// Its Rust type, as written.
    pub rust_type: &'static str,
    /// The type scripts pass, spelled as Rhai's generated signatures spell it: `int`, `float`,
    /// `bool`, `char`, `string`, `array`, `map` (a struct), `blob`, or `?` for any (an `Option`, a
    /// JSON value).
    pub script_type: &'static str,
}

/// What a registered function returns, as written in Rust and as scripts see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptReturn {
    /// The Rust return type, as written (`()` when it has none).
    pub rust_type: &'static str,
    /// What scripts get, spelled as [`ScriptParam::script_type`]; for a `Result`, its `Ok` type.
    pub script_type: &'static str,
}
