//! Checks, run by the compiler, that the types `#[script_async]` recognises by their name are
//! written by that name.
//!
//! The macro sees tokens, not types: it reads a parameter written `State<T>` or
//! `ScriptContext<T>` as a value the bridge passes in, one written `ScriptCallback` as a script
//! function, and a return type written `Result<T, E>` as success or a script error. The same
//! types under another name (`use bridge_runtime::State as S`, `type Res<T> = Result<T,
//! String>`) would silently become a script argument or a map returned to the script. So generated code asks [`NameCheck`] about every other parameter's
//! type and about the return type, and these types answer with an unmet bound whose message
//! says what to write.
//!
//! How it answers: an inherent method of `NameCheck<State<T>>` (and of the others) is
//! found before the trait method every `NameCheck<T>` has, for the concrete types generated
//! code names; the inherent one requires a trait nothing implements.

use crate::call::callback::ScriptCallback;
use crate::resource::guards::{Mut, Ref};
use crate::resource::stream::ScriptStream;
use crate::resource::value::Resource;
use crate::state::{ScriptContext, State};
use std::marker::PhantomData;

/// Asks about the type `T` the macro did not recognise by name.
pub struct NameCheck<T: ?Sized>(PhantomData<fn() -> PhantomData<T>>);

impl<T: ?Sized> NameCheck<T> {
    /// The question about `T`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: ?Sized> Default for NameCheck<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The answer for every type the macro does not recognise by name: nothing to report.
pub trait NotRecognisedByName {
    /// A script argument: fine unless it is `State` or `ScriptContext`.
    fn script_argument(&self) {}
    /// A return value: fine unless it is `Result`.
    fn return_value(&self) {}
}

impl<T: ?Sized> NotRecognisedByName for NameCheck<T> {}

/// Unmet for every type: the bound an alias of `State` meets with its message.
#[diagnostic::on_unimplemented(
    message = "this parameter is the bridge's `State<{T}>` under another name, so #[script_async] would read it from the script",
    label = "write `State<{T}>` here, by that name",
    note = "#[script_async] sees tokens, not types: it recognises `State<T>` by the name `State` (a path such as `bridge_runtime::State<T>` works too); import it as `State`"
)]
pub trait StateWrittenAsState<T: ?Sized> {}

/// Unmet for every type: the bound an alias of `ScriptContext` meets with its message.
#[diagnostic::on_unimplemented(
    message = "this parameter is the bridge's `ScriptContext<{T}>` under another name, so #[script_async] would read it from the script",
    label = "write `ScriptContext<{T}>` here, by that name",
    note = "#[script_async] sees tokens, not types: it recognises `ScriptContext<T>` by the name `ScriptContext` (a path such as `bridge_runtime::ScriptContext<T>` works too); import it as `ScriptContext`"
)]
pub trait ContextWrittenAsScriptContext<T: ?Sized> {}

/// Unmet for every type: the bound a `Result` under another name meets with its message.
#[diagnostic::on_unimplemented(
    message = "this return type is a `Result<{T}, {E}>` under another name, so #[script_async] would return it to the script as a map",
    label = "write `Result<{T}, {E}>` here, or give the alias a name ending in `Result`",
    note = "#[script_async] sees tokens, not types: it recognises a `Result` by its last path segment, so `Result<T, E>`, `io::Result<T>` and your own `type Result<T> = ...` all work; an `Err` becomes a script error"
)]
pub trait ResultWrittenAsResult<T, E> {}

/// Unmet for every type: the bound `ScriptCallback` under another name meets with its message.
#[diagnostic::on_unimplemented(
    message = "this parameter is the bridge's `ScriptCallback` under another name, so #[script_async] would convert it as data",
    label = "write `ScriptCallback` here, by that name",
    note = "#[script_async] sees tokens, not types: it recognises a callback by the name `ScriptCallback` (a path such as `bridge_runtime::ScriptCallback` works too); import it as `ScriptCallback`"
)]
pub trait CallbackWrittenAsScriptCallback<T: ?Sized> {}

/// Implemented by [`ScriptCallback`] only: lets the check below be generic, as a bound on a
/// concrete type alone must hold where it is written.
pub trait IsScriptCallback {}

impl IsScriptCallback for ScriptCallback {}

impl<T: IsScriptCallback> NameCheck<T> {
    /// Refuses `ScriptCallback` under another name.
    pub fn script_argument(&self)
    where
        Self: CallbackWrittenAsScriptCallback<T>,
    {
    }
}

impl<T: ?Sized> NameCheck<State<T>> {
    /// Refuses `State<T>` under another name.
    pub fn script_argument(&self)
    where
        Self: StateWrittenAsState<T>,
    {
    }
}

impl<T: ?Sized> NameCheck<ScriptContext<T>> {
    /// Refuses `ScriptContext<T>` under another name.
    pub fn script_argument(&self)
    where
        Self: ContextWrittenAsScriptContext<T>,
    {
    }
}

impl<T, E> NameCheck<Result<T, E>> {
    /// Refuses `Result<T, E>` under another name.
    pub fn return_value(&self)
    where
        Self: ResultWrittenAsResult<T, E>,
    {
    }
}

/// Unmet for every type: the bound `Ref<T>` or `Mut<T>` under another name meets with its
/// message.
#[diagnostic::on_unimplemented(
    message = "this parameter is the bridge's `{W}` under another name, so #[script_async] would convert it as data",
    label = "write `{W}` here, by that name",
    note = "#[script_async] sees tokens, not types: it recognises a resource parameter by the name `Ref` or `Mut` (a path such as `bridge_runtime::Mut<T>` works too); import it by that name"
)]
pub trait ResourceWrittenByName<W: ?Sized> {}

impl<T> NameCheck<Ref<T>> {
    /// Refuses `Ref<T>` under another name.
    pub fn script_argument(&self)
    where
        Self: ResourceWrittenByName<Ref<T>>,
    {
    }
}

impl<T> NameCheck<Mut<T>> {
    /// Refuses `Mut<T>` under another name.
    pub fn script_argument(&self)
    where
        Self: ResourceWrittenByName<Mut<T>>,
    {
    }
}

/// Unmet for every type: the bound `Resource<T>` or `ScriptStream<T>` under another name, as a
/// return type, meets with its message.
#[diagnostic::on_unimplemented(
    message = "this return type is a `{W}` under another name, so #[script_async] would not know the script holds it",
    label = "write `{W}` here, by that name",
    note = "#[script_async] sees tokens, not types: it recognises `Resource<T>` and `ScriptStream<T>` by those names (a path such as `bridge_runtime::Resource<T>` works too), which their signatures and the refusal to record them need"
)]
pub trait ReturnWrittenByName<W: ?Sized> {}

impl<T> NameCheck<Resource<T>> {
    /// Refuses `Resource<T>` under another name.
    pub fn return_value(&self)
    where
        Self: ReturnWrittenByName<Resource<T>>,
    {
    }
}

impl<T> NameCheck<ScriptStream<T>> {
    /// Refuses `ScriptStream<T>` under another name.
    pub fn return_value(&self)
    where
        Self: ReturnWrittenByName<ScriptStream<T>>,
    {
    }
}
