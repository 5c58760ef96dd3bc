//! Stops a build of `bridge-runtime` with one error per Rhai feature it cannot run with.
//!
//! Cargo turns a crate's features on for the whole build: when any crate in a program asks Rhai
//! for `no_float`, say, `bridge-runtime` gets a Rhai without floats too, and would fail with
//! dozens of type errors deep inside it. `bridge-runtime` depends on this crate, which cargo
//! builds first, and which fails instead with one error that names the feature, says why the
//! bridge needs what it takes away, and where to look for who turned it on.
//!
//! A feature cannot be tested with `cfg` from outside the crate that has it, so each probe asks
//! for something the feature takes away, as a method call: Rhai's own method when it is there,
//! or otherwise a stand-in from [`StandIns`] whose result, [`Missing`], fails a trait bound
//! whose diagnostic names the feature. Rhai's `sync` feature is supported and needs no probe.
//! Nothing here is meant to be called.

#![no_std]
#![deny(missing_docs)]

use rhai::{Dynamic, Engine, AST};

/// What a stand-in returns: the feature took Rhai's own method away.
pub struct Missing;

/// Methods Rhai has only without a feature; method lookup prefers Rhai's own, inherent ones.
pub trait StandIns: Sized {
    /// Stands in for `Dynamic::as_float` (gone with `no_float`).
    fn as_float(&self) -> Missing {
        Missing
    }
    /// Stands in for `Dynamic::as_array_ref` (gone with `no_index`).
    fn as_array_ref(&self) -> Missing {
        Missing
    }
    /// Stands in for `Dynamic::as_map_ref` (gone with `no_object`).
    fn as_map_ref(&self) -> Missing {
        Missing
    }
    /// Stands in for `Dynamic::into_shared` (gone with `no_closure`).
    fn into_shared(self) -> Missing {
        Missing
    }
    /// Stands in for `Engine::max_operations` (gone with `unchecked`).
    fn max_operations(&self) -> Missing {
        Missing
    }
    /// Stands in for `AST::has_functions` (gone with `no_function`).
    fn has_functions(&self) -> Missing {
        Missing
    }
    /// Stands in for `Engine::module_resolver` (gone with `no_module`).
    fn module_resolver(&self) -> Missing {
        Missing
    }
}

impl StandIns for Dynamic {}
impl StandIns for Engine {}
impl StandIns for AST {}

/// Satisfied when script integers are `i64`.
#[diagnostic::on_unimplemented(
    message = "Rhai's `only_i32` feature is on, and bridge-runtime cannot run with it",
    label = "script integers are `{Self}` here, not `i64`",
    note = "the bridge passes integers to async functions as i64 (ids, counts, sizes, times); \
            cargo turns a feature on for every crate that uses Rhai: `cargo tree -e features -i rhai` \
            shows which crate asks for it"
)]
pub trait IntegersAreI64 {}
impl IntegersAreI64 for i64 {}

/// Satisfied when scripts have floats.
#[diagnostic::on_unimplemented(
    message = "Rhai's `no_float` feature is on, and bridge-runtime cannot run with it",
    label = "Rhai has no floats here",
    note = "the bridge converts JSON numbers and `f32`/`f64` parameters to script floats; \
            cargo turns a feature on for every crate that uses Rhai: `cargo tree -e features -i rhai` \
            shows which crate asks for it"
)]
pub trait HasFloats {}
impl<E> HasFloats for Result<f64, E> {}
impl<E> HasFloats for Result<f32, E> {}

/// Satisfied when script floats are `f64` (or absent, which [`HasFloats`] reports).
#[diagnostic::on_unimplemented(
    message = "Rhai's `f32_float` feature is on, and bridge-runtime cannot run with it",
    label = "script floats are `f32` here, not `f64`",
    note = "the bridge passes JSON numbers and `f64` parameters through script floats, which `f32` \
            would round; cargo turns a feature on for every crate that uses Rhai: \
            `cargo tree -e features -i rhai` shows which crate asks for it"
)]
pub trait FloatsAreF64 {}
impl<E> FloatsAreF64 for Result<f64, E> {}
impl FloatsAreF64 for Missing {}

/// Satisfied when scripts have arrays.
#[diagnostic::on_unimplemented(
    message = "Rhai's `no_index` feature is on, and bridge-runtime cannot run with it",
    label = "Rhai has no arrays here",
    note = "the bridge passes lists and tuples as script arrays, and `start`/`wait_all` take them; \
            cargo turns a feature on for every crate that uses Rhai: `cargo tree -e features -i rhai` \
            shows which crate asks for it"
)]
pub trait HasArrays {}
impl<T, E> HasArrays for Result<T, E> {}

/// Satisfied when scripts have object maps.
#[diagnostic::on_unimplemented(
    message = "Rhai's `no_object` feature is on, and bridge-runtime cannot run with it",
    label = "Rhai has no object maps here",
    note = "the bridge passes structs and maps as script object maps, and its errors are maps; \
            cargo turns a feature on for every crate that uses Rhai: `cargo tree -e features -i rhai` \
            shows which crate asks for it"
)]
pub trait HasMaps {}
impl<T, E> HasMaps for Result<T, E> {}

/// Satisfied when Rhai checks its limits.
#[diagnostic::on_unimplemented(
    message = "Rhai's `unchecked` feature is on, and bridge-runtime cannot run with it",
    label = "Rhai checks no limits here",
    note = "the bridge's deadlines, cancellation, time slices, stack guard and sandbox all run from \
            Rhai's progress callback and limits, which `unchecked` removes; cargo turns a feature \
            on for every crate that uses Rhai: `cargo tree -e features -i rhai` shows which crate \
            asks for it"
)]
pub trait ChecksLimits {}
impl ChecksLimits for u64 {}

/// Satisfied when Rhai has modules.
#[diagnostic::on_unimplemented(
    message = "Rhai's `no_module` feature is on, and bridge-runtime cannot run with it",
    label = "Rhai has no modules here",
    note = "the bridge's sandbox refuses `import` by setting a module resolver, which `no_module` \
            removes; cargo turns a feature on for every crate that uses Rhai: \
            `cargo tree -e features -i rhai` shows which crate asks for it"
)]
pub trait HasModules {}
impl<T: ?Sized> HasModules for &T {}

/// Satisfied when scripts may define functions.
#[diagnostic::on_unimplemented(
    message = "Rhai's `no_function` feature is on, and bridge-runtime cannot run with it",
    label = "scripts cannot define functions here",
    note = "the bridge's `start` takes function pointers and its guide and tests rely on script \
            functions; cargo turns a feature on for every crate that uses Rhai: \
            `cargo tree -e features -i rhai` shows which crate asks for it"
)]
pub trait HasFunctions {}
impl HasFunctions for bool {}

/// Satisfied when scripts have closures, or lack functions altogether ([`HasFunctions`] reports
/// that: `no_function` turns `no_closure` on).
#[diagnostic::on_unimplemented(
    message = "Rhai's `no_closure` feature is on, and bridge-runtime cannot run with it",
    label = "scripts have no closures here",
    note = "the bridge's values are shared with scripts' closures (`Fn` pointers with captures, \
            shared values); cargo turns a feature on for every crate that uses Rhai: \
            `cargo tree -e features -i rhai` shows which crate asks for it"
)]
pub trait HasClosures {}
impl<F> HasClosures for (Dynamic, F) {}
impl HasClosures for (Missing, Missing) {}

macro_rules! probe {
    ($bound:ident, $value:expr) => {{
        fn check<T: $bound>(_: T) {}
        check($value);
    }};
}

/// The probes: type-checked by every build, never run.
#[allow(dead_code)]
fn probes() {
    let value = Dynamic::UNIT;
    let engine = Engine::new_raw();
    let ast = AST::empty();
    probe!(IntegersAreI64, rhai::INT::default());
    probe!(HasFloats, value.as_float());
    probe!(FloatsAreF64, value.as_float());
    probe!(HasArrays, value.as_array_ref());
    probe!(HasMaps, value.as_map_ref());
    probe!(ChecksLimits, engine.max_operations());
    probe!(HasFunctions, ast.has_functions());
    probe!(HasModules, engine.module_resolver());
    probe!(
        HasClosures,
        (Dynamic::UNIT.into_shared(), ast.has_functions())
    );
}
