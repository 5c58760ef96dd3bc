//! How an engine learns a resource type: its name for scripts, its token's Rust type (which
//! Rhai picks methods by), and how its tokens print.

use crate::convert::host_types;
use crate::resource::token::ResourceToken;
use crate::resource::value::ScriptResource;
use std::any::TypeId;

/// A resource type, as a registered method or a function returning it records it.
#[derive(Clone, Copy, Debug)]
pub struct ResourceType {
    name: &'static str,
    token_type: fn() -> TypeId,
    register: fn(&mut rhai::Engine),
}

impl ResourceType {
    /// The resource type `T`.
    pub const fn of<T: ScriptResource>() -> Self {
        Self {
            name: T::TYPE_NAME,
            token_type: TypeId::of::<ResourceToken<T>>,
            register: register::<T>,
        }
    }

    /// Streams ([`ScriptStream`](crate::ScriptStream)): every engine knows their one type.
    pub const fn stream() -> Self {
        Self {
            name: crate::resource::stream::STREAM_TYPE_NAME,
            token_type: TypeId::of::<crate::resource::stream::StreamToken>,
            register: |_| {},
        }
    }

    /// The name scripts know it by.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The Rust type of its tokens, the first parameter of its methods.
    pub(crate) fn token_type(&self) -> TypeId {
        (self.token_type)()
    }

    /// Teaches `engine` the type: `type_of` gives its name, and a token prints as
    /// `Name#id` (the id is the worker's, and tells two resources apart).
    pub(crate) fn register(&self, engine: &mut rhai::Engine) {
        (self.register)(engine);
    }
}

fn register<T: ScriptResource>(engine: &mut rhai::Engine) {
    host_types::remember(TypeId::of::<ResourceToken<T>>(), T::TYPE_NAME);
    engine.register_type_with_name::<ResourceToken<T>>(T::TYPE_NAME);
    let show = |token: &mut ResourceToken<T>| format!("{}#{}", T::TYPE_NAME, token.inner.id);
    engine.register_fn("to_string", show);
    engine.register_fn("to_debug", show);
}
