//! The on-disk cache of the compiled, pre-initialised guest module.
//!
//! Building the module (pre-initialising the 6 MB guest, see `snapshot`, which compiles it once,
//! then compiling the snapshot with Cranelift) takes seconds; loading a serialised copy takes
//! milliseconds. Only modules of the optimising compiler (Cranelift) are cached. An entry is named by a hash of the engine's compatibility hash (wasmtime
//! version, target, configuration), the snapshot's format and the guest's bytes, so a new guest,
//! engine or pre-initialiser never loads a stale entry. Each entry ends with a SHA-256 of its
//! contents: a truncated or corrupt file is rebuilt and replaced, never loaded. Entries are written
//! to a temporary file and renamed, so a reader never sees a half-written entry.
//!
//! This is the only module with `unsafe` code (allowed where it is declared): wasmtime's
//! deserialisation trusts its input.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use super::error::RuntimeError;

/// Length of the trailing checksum.
const CHECKSUM_LEN: usize = 32;

/// How the module was obtained (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleSource {
    /// Loaded from a valid cache entry.
    Cache,
    /// Pre-initialised and compiled, then written to the cache (there was no entry, or it was
    /// invalid).
    Compiled,
    /// There was no valid entry: pre-initialised and compiled with the baseline compiler (Winch,
    /// about a second, slower code) to answer at once, while the optimised module is compiled
    /// and written to the cache on a background thread.
    Baseline,
}

/// Where the entry for `wasm` compiled by `engine` lives in `dir`.
pub(crate) fn entry_path(engine: &Engine, wasm: &[u8], dir: &Path) -> PathBuf {
    dir.join(entry_name(engine, wasm))
}

/// Compiles the pre-initialised guest `snapshot` with `engine` and writes it to the cache entry at
/// `path` (removing stale entries of other versions beside it).
pub(crate) fn compile_and_store(engine: &Engine, snapshot: &[u8], path: &Path) -> Result<Module, RuntimeError> {
    let module = Module::from_binary(engine, snapshot).map_err(RuntimeError::Module)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    store(&module, dir, path)?;
    prune(dir, path);
    Ok(module)
}

/// Entries of other guests or engines unused for this long are removed when a new one is written.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 60 * 60);

/// Removes other entries not written or read for [`STALE_AFTER`] (best effort: another process
/// of a different version may still use a recent one, so those stay).
fn prune(dir: &Path, keep: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_entry =
            path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("guest-") && n.ends_with(".cwasm"));
        let stale = entry
            .metadata()
            .and_then(|m| m.accessed().or_else(|_| m.modified()))
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if is_entry && stale && path != keep {
            let _ = fs::remove_file(&path);
        }
    }
}

/// The file name of the entry for this engine and guest.
fn entry_name(engine: &Engine, wasm: &[u8]) -> String {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut engine_hash);
    let mut digest = Sha256::new();
    digest.update(engine_hash.finish().to_le_bytes());
    digest.update(super::snapshot::SNAPSHOT_FORMAT.as_bytes());
    digest.update(wasm);
    let hex: String = digest.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("guest-{hex}.cwasm")
}

/// The module in the entry at `path`, if the entry exists and is intact.
pub(crate) fn load(engine: &Engine, path: &Path) -> Option<Module> {
    let bytes = fs::read(path).ok()?;
    let split = bytes.len().checked_sub(CHECKSUM_LEN)?;
    let (body, checksum) = bytes.split_at(split);
    if Sha256::digest(body).as_slice() != checksum {
        return None;
    }
    // SAFETY: `body` was produced by `Module::serialize` of this same engine configuration (the
    // entry name includes the engine's compatibility hash) and is byte-for-byte what we wrote: the
    // SHA-256 written after it matches. wasmtime still checks the header and the engine version.
    unsafe { Module::deserialize(engine, body) }.ok()
}

/// `module` loaded into `engine` (another configuration of the same compiler), or `None` when
/// `engine` cannot run code compiled for `module`'s engine.
pub(super) fn copy_into(engine: &Engine, module: &Module) -> Option<Module> {
    let bytes = module.serialize().ok()?;
    // SAFETY: `bytes` are what `Module::serialize` just produced in this process; wasmtime checks
    // that `engine`'s compiler and configuration can run them and refuses them otherwise.
    unsafe { Module::deserialize(engine, &bytes) }.ok()
}

/// Writes the entry for `module` at `path`, atomically (a temporary file renamed into place).
fn store(module: &Module, dir: &Path, path: &Path) -> Result<(), RuntimeError> {
    let cache_error = |path: &Path, source| RuntimeError::Cache { path: path.to_owned(), source };
    fs::create_dir_all(dir).map_err(|e| cache_error(dir, e))?;
    let body = module.serialize().map_err(RuntimeError::Module)?;
    let checksum = Sha256::digest(&body);
    let temp: PathBuf = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut file = fs::File::create(&temp)?;
        file.write_all(&body)?;
        file.write_all(&checksum)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&temp);
        cache_error(path, e)
    })
}
