//! Each engine thread's parsed scripts, so that a script run again is not parsed again.
//!
//! Rhai's `AST` is not `Send` (without Rhai's `sync` feature, which would make every script value
//! pay for atomics), so a parsed script cannot be shared between engine threads: each thread
//! parses a source once and keeps the result. Sources run as text are kept least recently used
//! first, bounded by count and by their estimated parsed size; a compiled [`Script`] stays
//! parsed on each thread that ran it for as long as the host holds it.
//!
//! [`Script`]: crate::Script

use crate::error::Error;
use rhai::AST;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::{Arc, Weak};

/// A script's source text, hashed once where it is made (the caller's thread) so that engine
/// threads look it up without hashing it again.
#[derive(Clone)]
pub(crate) struct ScriptSource {
    text: Arc<str>,
    hash: u64,
    /// Set for a compiled script: alive while the host holds the script (any clone of it), and
    /// while it is parsed it stays parsed.
    keep_parsed: Option<Arc<()>>,
}

impl ScriptSource {
    pub(crate) fn new(text: Arc<str>) -> Self {
        let mut hasher = DefaultHasher::new();
        text.hash(&mut hasher);
        Self {
            hash: hasher.finish(),
            text,
            keep_parsed: None,
        }
    }

    /// This source, kept parsed on every engine thread that parses it for as long as it (or a
    /// clone) lives.
    pub(crate) fn kept_parsed(mut self) -> Self {
        self.keep_parsed.get_or_insert_with(|| Arc::new(()));
        self
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

/// Parsed scripts kept by one engine thread: compiled ones while the host holds them, others
/// least recently used dropped first.
pub(crate) struct AstCache {
    entries: HashMap<ScriptSource, Cached>,
    /// At most this many scripts; 0 keeps none.
    capacity: usize,
    /// The kept scripts' estimated parsed sizes add up to at most this many bytes.
    max_bytes: usize,
    bytes: usize,
    /// Counts lookups, to tell which entry was used least recently.
    clock: u64,
    /// Compiled scripts, each with what tells whether the host still holds it.
    compiled: HashMap<ScriptSource, (Rc<AST>, Weak<()>)>,
}

struct Cached {
    ast: Rc<AST>,
    last_used: u64,
    /// Its estimated parsed size.
    bytes: usize,
}

/// The parsed scripts one engine thread keeps (compiled ones aside) take about this much at
/// most, by [`parsed_size`]'s estimate.
const MAX_CACHED_PARSED_BYTES: usize = 32 * 1024 * 1024;

/// How many bytes a parsed script takes per byte of its source, measured: 2,000 distinct 57 KB
/// scripts of ordinary statements took 76 MiB on one engine thread, and
/// `tests/parsed_size.rs` measures what a parse allocates (update both together).
const PARSED_BYTES_PER_SOURCE_BYTE: usize = 18;

/// Compiled scripts the host dropped are forgotten every this many lookups.
const LOOKUPS_PER_COMPILED_SWEEP: u64 = 64;

/// The estimated memory the parsed form of `source` takes.
fn parsed_size(source: &str) -> usize {
    source.len().saturating_mul(PARSED_BYTES_PER_SOURCE_BYTE)
}

impl AstCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity,
            max_bytes: MAX_CACHED_PARSED_BYTES,
            bytes: 0,
            clock: 0,
            compiled: HashMap::new(),
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
        if self.clock.is_multiple_of(LOOKUPS_PER_COMPILED_SWEEP) {
            self.compiled.retain(|_, (_, held)| held.strong_count() > 0);
        }
        if let Some((ast, _)) = self.compiled.get(source) {
            return Ok(ast.clone());
        }
        if let Some(cached) = self.entries.get_mut(source) {
            cached.last_used = self.clock;
            return Ok(cached.ast.clone());
        }
        let ast = Rc::new(parse(source.text())?);
        if let Some(held) = &source.keep_parsed {
            // However large: the host compiled it to have it parsed.
            let entry = (ast.clone(), Arc::downgrade(held));
            // The key must not hold the script alive itself.
            let key = ScriptSource {
                keep_parsed: None,
                ..source.clone()
            };
            self.compiled.insert(key, entry);
            return Ok(ast);
        }
        let size = parsed_size(source.text());
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
            bytes: size,
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
        if let Some(cached) = oldest.and_then(|source| self.entries.remove(&source)) {
            self.bytes -= cached.bytes;
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
        let huge = "1;\n".repeat(MAX_CACHED_PARSED_BYTES / PARSED_BYTES_PER_SOURCE_BYTE / 4);
        cache
            .get_or_parse(&source(&huge), |_| Ok(engine.compile("1").unwrap()))
            .unwrap();
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_compiled_source_stays_parsed_however_large_while_it_is_held() {
        let engine = rhai::Engine::new();
        let mut cache = AstCache::new(1);
        let parses = Cell::new(0);
        let parse = |_: &str| {
            parses.set(parses.get() + 1);
            Ok(engine.compile("1").unwrap())
        };
        // Far over what the cache of sources keeps, and more scripts than its capacity.
        let huge = "1;\n".repeat(MAX_CACHED_PARSED_BYTES);
        let compiled = source(&huge).kept_parsed();
        let held = compiled.clone();
        cache.get_or_parse(&compiled, parse).unwrap();
        for other in ["2", "3", "4"] {
            cache.get_or_parse(&source(other), parse).unwrap();
        }
        cache.get_or_parse(&compiled, parse).unwrap();
        assert_eq!(parses.get(), 4, "the compiled source was parsed once");
        // Once the host drops it (and its clones), the next sweep forgets it.
        drop((compiled, held));
        for _ in 0..LOOKUPS_PER_COMPILED_SWEEP {
            cache.get_or_parse(&source("2"), parse).unwrap();
        }
        assert!(cache.compiled.is_empty());
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
