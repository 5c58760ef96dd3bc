//! Each engine thread's parsed scripts, so that a script run again is not parsed again.
//!
//! Rhai's `AST` is not `Send` (without Rhai's `sync` feature, which would make every script value
//! pay for atomics), so a parsed script cannot be shared between engine threads: each thread
//! parses a source once and keeps the result, bounded by count and by total source size.

use crate::error::Error;
use rhai::AST;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;

/// A script's source text, hashed once where it is made (the caller's thread) so that engine
/// threads look it up without hashing it again.
#[derive(Clone)]
pub(crate) struct ScriptSource {
    text: Arc<str>,
    hash: u64,
}

impl ScriptSource {
    pub(crate) fn new(text: Arc<str>) -> Self {
        let mut hasher = DefaultHasher::new();
        text.hash(&mut hasher);
        Self {
            hash: hasher.finish(),
            text,
        }
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

impl Hash for ScriptSource {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for ScriptSource {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && (Arc::ptr_eq(&self.text, &other.text) || self.text == other.text)
    }
}

impl Eq for ScriptSource {}

/// Parsed scripts kept by one engine thread, least recently used dropped first.
pub(crate) struct AstCache {
    entries: HashMap<ScriptSource, Cached>,
    /// At most this many scripts; 0 keeps none.
    capacity: usize,
    /// The kept scripts' sources add up to at most this many bytes.
    max_bytes: usize,
    bytes: usize,
    /// Counts lookups, to tell which entry was used least recently.
    clock: u64,
}

struct Cached {
    ast: Rc<AST>,
    last_used: u64,
}

/// The kept sources of one engine thread add up to at most this much. An AST takes a few times
/// its source's size, so this bounds a thread's cache to tens of megabytes however large the
/// scripts it is given.
const MAX_CACHED_SOURCE_BYTES: usize = 4 * 1024 * 1024;

impl AstCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity,
            max_bytes: MAX_CACHED_SOURCE_BYTES,
            bytes: 0,
            clock: 0,
        }
    }

    /// The parsed `source`: kept from an earlier run, or made by `parse` now (and kept unless it
    /// failed or is too large to keep).
    pub(crate) fn get_or_parse(
        &mut self,
        source: &ScriptSource,
        parse: impl FnOnce(&str) -> Result<AST, Error>,
    ) -> Result<Rc<AST>, Error> {
        self.clock += 1;
        if let Some(cached) = self.entries.get_mut(source) {
            cached.last_used = self.clock;
            return Ok(cached.ast.clone());
        }
        let ast = Rc::new(parse(source.text())?);
        let size = source.text().len();
        if self.capacity == 0 || size > self.max_bytes / 4 {
            return Ok(ast);
        }
        while !self.entries.is_empty()
            && (self.entries.len() >= self.capacity || self.bytes + size > self.max_bytes)
        {
            self.evict_least_recently_used();
        }
        self.bytes += size;
        let cached = Cached {
            ast: ast.clone(),
            last_used: self.clock,
        };
        self.entries.insert(source.clone(), cached);
        Ok(ast)
    }

    fn evict_least_recently_used(&mut self) {
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, cached)| cached.last_used)
            .map(|(source, _)| source.clone());
        if let Some(source) = oldest {
            self.entries.remove(&source);
            self.bytes -= source.text().len();
        }
    }

    /// How many parsed scripts are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn source(text: &str) -> ScriptSource {
        ScriptSource::new(text.into())
    }

    #[test]
    fn a_source_is_parsed_once_then_served_from_the_cache() {
        let engine = rhai::Engine::new();
        let mut cache = AstCache::new(4);
        let parses = Cell::new(0);
        let parse = |text: &str| {
            parses.set(parses.get() + 1);
            Ok(engine.compile(text).unwrap())
        };
        let first = cache.get_or_parse(&source("1 + 1"), parse).unwrap();
        let again = cache.get_or_parse(&source("1 + 1"), parse).unwrap();
        assert_eq!(parses.get(), 1);
        assert!(Rc::ptr_eq(&first, &again));
    }

    #[test]
    fn the_least_recently_used_source_goes_first() {
        let engine = rhai::Engine::new();
        let mut cache = AstCache::new(2);
        let parses = Cell::new(0);
        let parse = |text: &str| {
            parses.set(parses.get() + 1);
            Ok(engine.compile(text).unwrap())
        };
        cache.get_or_parse(&source("1"), parse).unwrap();
        cache.get_or_parse(&source("2"), parse).unwrap();
        cache.get_or_parse(&source("1"), parse).unwrap();
        cache.get_or_parse(&source("3"), parse).unwrap();
        assert_eq!((cache.len(), parses.get()), (2, 3));
        cache.get_or_parse(&source("1"), parse).unwrap();
        assert_eq!(parses.get(), 3, "\"1\" was used more recently than \"2\"");
        cache.get_or_parse(&source("2"), parse).unwrap();
        assert_eq!(parses.get(), 4, "\"2\" was dropped");
    }

    #[test]
    fn failures_and_oversized_sources_are_not_kept() {
        let engine = rhai::Engine::new();
        let mut cache = AstCache::new(8);
        let failed = cache.get_or_parse(&source("1 +"), |_| {
            Err(Error::Internal("parse failed".to_owned()))
        });
        assert!(failed.is_err());
        // Only the source's size matters to the cache: parse a stand-in.
        let huge = "1;\n".repeat(MAX_CACHED_SOURCE_BYTES / 4);
        cache
            .get_or_parse(&source(&huge), |_| Ok(engine.compile("1").unwrap()))
            .unwrap();
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_capacity_of_zero_keeps_nothing() {
        let engine = rhai::Engine::new();
        let mut cache = AstCache::new(0);
        cache
            .get_or_parse(&source("1"), |text| Ok(engine.compile(text).unwrap()))
            .unwrap();
        assert_eq!(cache.len(), 0);
    }
}
