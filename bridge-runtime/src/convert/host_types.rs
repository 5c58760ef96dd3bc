//! The script types that stand for host values (resources), by the Rust type of their tokens:
//! so that a conversion that meets one can say what it is, rather than print a Rust path.

use std::any::TypeId;
use std::sync::{PoisonError, RwLock};

static NAMES: RwLock<Vec<(TypeId, &'static str)>> = RwLock::new(Vec::new());

/// Records that script values of the Rust type `token` are resources of the type `name`.
pub(crate) fn remember(token: TypeId, name: &'static str) {
    let mut names = NAMES.write().unwrap_or_else(PoisonError::into_inner);
    if !names.iter().any(|(known, _)| *known == token) {
        names.push((token, name));
    }
}

/// The resource type of script values of the Rust type `token`, if they are resources.
pub(crate) fn resource_name(token: TypeId) -> Option<&'static str> {
    let names = NAMES.read().unwrap_or_else(PoisonError::into_inner);
    names
        .iter()
        .find(|(known, _)| *known == token)
        .map(|(_, name)| *name)
}
