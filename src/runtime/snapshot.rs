//! Pre-initialisation of the guest with wasmtime-wizer: the guest's `hm_init` (a boa context with
//! `console`, the payload and result helpers, and the realm locked down) runs once, and the
//! instance's memory and globals become the data of a new module. Every instance of that module
//! starts with the realm ready (wasmtime maps the memory image copy-on-write), so a fresh
//! instance only compiles the author's script.
//!
//! Done when the module cache is built (see `cache`): it costs one more compilation of the guest
//! (the instrumented module the initialisation runs in), seconds, once per machine and version.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use wasmtime::{Engine, Instance, Module, Store, Val};
use wasmtime_wizer::{InstanceState, SnapshotVal, ValType, Wizer};

use super::error::RuntimeError;
use super::host::{self, HostState};
use super::instance::ticks;

/// The guest's export that prepares the realm; the snapshot no longer exports it.
const INIT_EXPORT: &str = "hm_init";
/// What determines the snapshot besides the guest's bytes and the engine (which the module cache
/// key covers already): the pre-initialiser and the initialisation protocol. Part of the cache key.
pub(crate) const SNAPSHOT_FORMAT: &str = "wasmtime-wizer 48; hm_init; realm locked before the script";
/// Memory the initialisation may use (it needs about 3 MiB).
const INIT_MEMORY_BYTES: usize = 64 * 1024 * 1024;
/// Time the initialisation may take (it takes a few milliseconds).
const INIT_TIME: Duration = Duration::from_secs(30);

/// The guest `wasm` with its realm prepared: a new wasm module, to compile and cache.
pub(crate) fn pre_initialise(engine: &Engine, wasm: &[u8]) -> Result<Vec<u8>, RuntimeError> {
    let mut wizer = Wizer::new();
    wizer.init_func(INIT_EXPORT);
    let (module_context, instrumented) = wizer.instrument(wasm).map_err(RuntimeError::Snapshot)?;
    let module = Module::new(engine, &instrumented).map_err(RuntimeError::Snapshot)?;
    let linker = host::linker(&module).map_err(RuntimeError::Snapshot)?;
    let mut store = Store::new(engine, HostState::new(INIT_MEMORY_BYTES));
    store.limiter(|state| &mut state.limiter);
    store.epoch_deadline_trap();
    store.set_epoch_deadline(ticks(INIT_TIME));
    let instance = linker.instantiate(&mut store, &module).map_err(RuntimeError::Snapshot)?;
    let init = instance.get_typed_func::<(), ()>(&mut store, INIT_EXPORT).map_err(RuntimeError::Snapshot)?;
    if let Err(error) = init.call(&mut store, ()) {
        // The guest writes why to stderr before it aborts.
        let output = String::from_utf8_lossy(&store.data().stderr).trim().to_owned();
        return Err(RuntimeError::Snapshot(error.context(format!("{INIT_EXPORT} failed: {output}"))));
    }
    let mut state = Initialised { store: &mut store, instance, missing: None };
    let snapshot = completed(wizer.snapshot(&module_context, &mut state))
        .ok_or_else(|| RuntimeError::Snapshot(wasmtime::format_err!("the snapshot did not complete synchronously")))?;
    if let Some(missing) = state.missing {
        return Err(RuntimeError::Snapshot(wasmtime::format_err!("the instrumented guest exports no {missing}")));
    }
    snapshot.map_err(RuntimeError::Snapshot)
}

/// The output of `future` if it completes on its first poll. The snapshot's futures never wait
/// (our [`InstanceState`] answers at once, and wizer's own steps are synchronous), so no executor
/// is needed.
fn completed<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// The initialised instance, as wizer reads it.
struct Initialised<'a> {
    /// The store the instance lives in.
    store: &'a mut Store<HostState>,
    /// The instrumented guest after `hm_init`.
    instance: Instance,
    /// A global or memory wizer asked for and the instance does not export (wizer's trait cannot
    /// fail, so it is reported after the snapshot).
    missing: Option<String>,
}

impl InstanceState for Initialised<'_> {
    async fn global_get(&mut self, name: &str, _type_hint: ValType) -> SnapshotVal {
        let value = self.instance.get_global(&mut *self.store, name).map(|global| global.get(&mut *self.store));
        match value {
            Some(Val::I32(x)) => SnapshotVal::I32(x),
            Some(Val::I64(x)) => SnapshotVal::I64(x),
            Some(Val::F32(x)) => SnapshotVal::F32(x),
            Some(Val::F64(x)) => SnapshotVal::F64(x),
            Some(Val::V128(x)) => SnapshotVal::V128(x.as_u128()),
            _ => {
                self.missing.get_or_insert_with(|| format!("numeric global {name}"));
                SnapshotVal::I32(0)
            }
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        match self.instance.get_memory(&mut *self.store, name) {
            Some(memory) => contents(memory.data(&*self.store)),
            None => {
                self.missing.get_or_insert_with(|| format!("memory {name}"));
                contents(&[]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module whose `hm_init` (`[] -> []`) executes `unreachable`.
    const TRAPPING_INIT: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // types: [] -> []
        0x03, 0x02, 0x01, 0x00, // functions: one of type 0
        0x07, 0x0b, 0x01, 0x07, b'h', b'm', b'_', b'i', b'n', b'i', b't', 0x00, 0x00, // export hm_init
        0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b, // code: unreachable, end
    ];

    fn engine() -> Engine {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        match Engine::new(&config) {
            Ok(engine) => engine,
            Err(e) => panic!("engine: {e}"),
        }
    }

    #[test]
    fn a_guest_whose_init_traps_is_an_error_not_a_crash() {
        let error = pre_initialise(&engine(), TRAPPING_INIT).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("hm_init failed"), "{error}");
    }

    #[test]
    fn a_guest_without_init_or_not_wasm_is_an_error() {
        let empty_module = &TRAPPING_INIT[..8];
        assert!(matches!(pre_initialise(&engine(), empty_module), Err(RuntimeError::Snapshot(_))));
        assert!(matches!(pre_initialise(&engine(), b"not wasm"), Err(RuntimeError::Snapshot(_))));
    }
}
