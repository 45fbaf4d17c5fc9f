//! The compiled-mapping cache: an LRU of `Arc<Program>` keyed by a hash of the
//! mapping's kind, its source and the engine version, so that a request never
//! compiles a mapping that was compiled before.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;
use sha2::{Digest, Sha256};

use super::{CompileErrors, Mapping, Program, compile};

/// The version of the engine, part of every cache key: a new engine never runs a
/// program compiled by an old one.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

type Key = [u8; 32];

/// A bounded cache of compiled mappings, shared between threads.
pub struct ProgramCache {
    entries: Mutex<LruCache<Key, Arc<Program>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Counters of a [`ProgramCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Look-ups answered from the cache.
    pub hits: u64,
    /// Look-ups that compiled.
    pub misses: u64,
    /// Programs held now.
    pub len: usize,
}

impl ProgramCache {
    /// A cache holding at most `capacity` programs; the least recently used goes first.
    pub fn new(capacity: NonZeroUsize) -> ProgramCache {
        ProgramCache {
            entries: Mutex::new(LruCache::new(capacity)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn key(mapping: &Mapping) -> Key {
        let mut hasher = Sha256::new();
        for part in [ENGINE_VERSION, mapping.kind(), mapping.source(), &mapping.settings()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.finalize().into()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, LruCache<Key, Arc<Program>>> {
        // The map stays consistent even if a holder panicked: every operation on it is one call.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The compiled program of `mapping`, compiled now if it is not cached. Compile
    /// errors are not cached.
    pub fn get_or_compile(&self, mapping: &Mapping) -> Result<Arc<Program>, CompileErrors> {
        let key = Self::key(mapping);
        if let Some(program) = self.entries().get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Arc::clone(program));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        // Compile without holding the lock: other mappings stay available meanwhile.
        let program = Arc::new(compile(mapping)?);
        self.entries().put(key, Arc::clone(&program));
        Ok(program)
    }

    /// Drops the compiled program of `mapping`; says whether one was cached.
    pub fn invalidate(&self, mapping: &Mapping) -> bool {
        self.entries().pop(&Self::key(mapping)).is_some()
    }

    /// The cache's counters.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            len: self.entries().len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(id_path: &str) -> Mapping {
        Mapping::Structured {
            source: format!(r#"{{"payload":{{"target":{{"usersById":"{id_path}"}}}}}}"#),
            limits: Default::default(),
            isolation: Default::default(),
        }
    }

    #[test]
    fn counts_hits_and_misses_and_evicts_the_least_recently_used() {
        let cache = ProgramCache::new(NonZeroUsize::new(2).unwrap());
        let a = cache.get_or_compile(&mapping("$.a")).unwrap();
        let again = cache.get_or_compile(&mapping("$.a")).unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        cache.get_or_compile(&mapping("$.b")).unwrap();
        cache.get_or_compile(&mapping("$.a")).unwrap();
        cache.get_or_compile(&mapping("$.c")).unwrap(); // evicts $.b
        assert_eq!(cache.stats(), CacheStats { hits: 2, misses: 3, len: 2 });
        cache.get_or_compile(&mapping("$.b")).unwrap();
        assert_eq!(cache.stats().misses, 4);
    }

    #[test]
    fn invalidation_forces_a_recompile() {
        let cache = ProgramCache::new(NonZeroUsize::new(4).unwrap());
        cache.get_or_compile(&mapping("$.a")).unwrap();
        assert!(cache.invalidate(&mapping("$.a")));
        assert!(!cache.invalidate(&mapping("$.a")));
        cache.get_or_compile(&mapping("$.a")).unwrap();
        assert_eq!(cache.stats(), CacheStats { hits: 0, misses: 2, len: 1 });
    }

    #[test]
    fn compile_errors_are_returned_and_not_cached() {
        let cache = ProgramCache::new(NonZeroUsize::new(4).unwrap());
        assert!(cache.get_or_compile(&mapping("$.[")).is_err());
        assert_eq!(cache.stats().len, 0);
    }
}
