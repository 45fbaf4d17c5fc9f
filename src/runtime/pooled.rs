//! The engine fresh instances come from ([`super::Isolation::Fresh`]): wasmtime's pooling
//! allocator with a few slots whose memory stays resident between instances and is reset with
//! `memset`, so a new instance neither maps nor faults in its memory. About three times faster
//! than an instance of the on-demand engine for a fresh call (`docs/performance.md`).
//!
//! The pool caps the instances alive at once, so it serves fresh calls only (their instance
//! lives for one call): warm instances stay on the on-demand engine, which has no cap. When
//! every slot is taken, or a script's memory limit is larger than a slot, the on-demand engine
//! makes the instance instead. Its module is a copy of the sandbox's, made once, when the first
//! script is made fresh.

#[cfg(test)]
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::{Engine, InstanceAllocationStrategy, InstancePre, Module, PoolingAllocationConfig, Strategy};

use super::host::{self, HostState};
use super::instance::Guest;
use super::{Limits, ScriptError, Ticker, engine_config};

/// The largest memory a pooled instance may grow to; a script allowed more gets an on-demand
/// instance.
const SLOT_MEMORY_BYTES: usize = 128 << 20;
/// The memory of a slot kept resident between instances (reset by `memset`, not unmapped).
const KEEP_RESIDENT_BYTES: usize = 16 << 20;
/// The largest function table: the guest's, with room to spare.
const TABLE_ELEMENTS: usize = 100_000;
/// The largest instance state (the guest's globals, tables and `VMContext`).
const INSTANCE_BYTES: usize = 16 << 20;

/// A pooling engine with the sandbox's module, and the ticker that enforces its time limits.
pub(super) struct Pooled {
    /// The module, linked with the host functions.
    pre: InstancePre<HostState>,
    /// Instances made so far, for tests.
    #[cfg(test)]
    made: AtomicU64,
    _ticker: Ticker,
}

impl Pooled {
    /// A pool of `slots` instances of `module` (compiled by the optimising engine), or `None`
    /// when the pooling engine cannot be built or cannot load the module (a module of the
    /// baseline compiler, or a machine that cannot reserve the slots).
    pub(super) fn start(module: &Module, slots: u32) -> Option<Pooled> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(slots).total_memories(slots).total_tables(slots);
        pool.max_memory_size(SLOT_MEMORY_BYTES).table_elements(TABLE_ELEMENTS).max_core_instance_size(INSTANCE_BYTES);
        pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES);
        let mut config = engine_config(Strategy::Cranelift);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).ok()?;
        let copy = super::cache::copy_into(&engine, module)?;
        let pre = host::linker(&copy).and_then(|linker| linker.instantiate_pre(&copy)).ok()?;
        let ticker = Ticker::start(engine).ok()?;
        Some(Pooled {
            pre,
            #[cfg(test)]
            made: AtomicU64::new(0),
            _ticker: ticker,
        })
    }

    /// A new instance from a free slot, or `None` when every slot is taken or `limits` allow
    /// more memory than a slot holds (the caller then makes one on the on-demand engine).
    pub(super) fn instantiate(&self, limits: &Limits) -> Option<Result<Guest, ScriptError>> {
        if limits.memory_bytes > SLOT_MEMORY_BYTES {
            return None;
        }
        match Guest::instantiate(&self.pre, limits) {
            Ok(guest) => {
                #[cfg(test)]
                self.made.fetch_add(1, Ordering::Relaxed);
                Some(Ok(guest))
            }
            // A memory limit below the module's initial memory is the script's error, whatever
            // the engine; anything else here is a pool with no free slot.
            Err(error @ ScriptError::MemoryLimit { .. }) => Some(Err(error)),
            Err(_) => None,
        }
    }

    /// How many instances the pool has made.
    #[cfg(test)]
    pub(super) fn made(&self) -> u64 {
        self.made.load(Ordering::Relaxed)
    }
}
