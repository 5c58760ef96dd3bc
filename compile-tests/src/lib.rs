//! Nothing to build: this package holds `tests/compile.rs`, the trybuild cases of
//! `#[script_async]` and the golden expansions, with only the dependencies they use.
