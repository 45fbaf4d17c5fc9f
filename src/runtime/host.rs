//! What the host gives a guest instance: its per-store state, the memory limiter, and the few WASI
//! functions the guest imports (clocks, random bytes, stdout and stderr captured: the script's
//! console lines and the guest's own panic messages, an empty environment). Every other import traps: no files, no network, no environment.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use wasmtime::{Caller, Extern, Linker, Memory, Module, ResourceLimiter};

/// The WASI module name of the imports the guest's standard library makes.
const WASI: &str = "wasi_snapshot_preview1";
/// Bytes of stdout kept per call: the script's console lines (64 KiB of text at most, the guest
/// counts), one JSON array each, so escapes may take more room.
const STDOUT_LIMIT: usize = 256 * 1024;
/// Bytes of stderr kept per call; the guest writes there only when it panics or aborts.
const STDERR_LIMIT: usize = 16 * 1024;
/// WASI errno: success.
const ERRNO_SUCCESS: i32 = 0;
/// WASI errno: bad file descriptor.
const ERRNO_BADF: i32 = 8;
/// WASI errno: invalid argument.
const ERRNO_INVAL: i32 = 28;
/// WASI errno: memory access out of bounds.
const ERRNO_FAULT: i32 = 21;

/// State of one store (one guest instance).
pub(crate) struct HostState {
    /// Caps linear memory growth and records a refusal.
    pub(crate) limiter: MemoryLimiter,
    /// What the guest wrote to stdout during the current call: console lines.
    pub(crate) stdout: Vec<u8>,
    /// What the guest wrote to stderr during the current call: a panic or abort message.
    pub(crate) stderr: Vec<u8>,
    /// Origin of the monotonic clock.
    started: Instant,
    /// Seeds `random_get`.
    random: RandomState,
    /// Counts `random_get` blocks, so each is different.
    random_counter: u64,
}

impl HostState {
    /// State for a new instance whose memory may grow to `memory_bytes`.
    pub(crate) fn new(memory_bytes: usize) -> Self {
        Self {
            limiter: MemoryLimiter { limit: memory_bytes, refused: false },
            stdout: Vec::new(),
            stderr: Vec::new(),
            started: Instant::now(),
            random: RandomState::new(),
            random_counter: 0,
        }
    }
}

/// Refuses linear memory growth beyond a limit, and remembers that it did, so that the trap that
/// follows is reported as a memory limit rather than a generic failure.
pub(crate) struct MemoryLimiter {
    /// Maximum linear memory, bytes.
    limit: usize,
    /// Whether a growth was refused since the last [`MemoryLimiter::reset`].
    pub(crate) refused: bool,
}

impl MemoryLimiter {
    /// Forgets earlier refusals (before each call).
    pub(crate) fn reset(&mut self) {
        self.refused = false;
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.refused = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        // The guest's function table does not grow at run time; refuse anything large.
        Ok(desired <= 100_000)
    }
}

/// A linker with the WASI functions the guest imports (`fd_write`, `random_get`, `clock_time_get`,
/// `environ_*`, `sched_yield`, `proc_exit`); every other import of `module` (`poll_oneoff`) traps.
pub(crate) fn linker(module: &Module) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(module.engine());
    linker.func_wrap(WASI, "fd_write", fd_write)?;
    linker.func_wrap(WASI, "random_get", random_get)?;
    linker.func_wrap(WASI, "clock_time_get", clock_time_get)?;
    linker.func_wrap(WASI, "environ_sizes_get", empty_sizes)?;
    linker.func_wrap(WASI, "environ_get", |_: i32, _: i32| ERRNO_SUCCESS)?;
    linker.func_wrap(WASI, "sched_yield", || ERRNO_SUCCESS)?;
    linker.func_wrap(WASI, "proc_exit", |code: i32| -> wasmtime::Result<()> {
        Err(wasmtime::format_err!("the guest exited with code {code}"))
    })?;
    linker.define_unknown_imports_as_traps(module)?;
    Ok(linker)
}

/// The guest's exported linear memory.
fn memory(caller: &mut Caller<'_, HostState>) -> Option<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Some(memory),
        _ => None,
    }
}

/// Writes zero into the two `u32` counts at `count_ptr` and `size_ptr`.
fn empty_sizes(mut caller: Caller<'_, HostState>, count_ptr: i32, size_ptr: i32) -> i32 {
    let Some(memory) = memory(&mut caller) else {
        return ERRNO_FAULT;
    };
    let zero = 0u32.to_le_bytes();
    let ok = memory.write(&mut caller, count_ptr as u32 as usize, &zero).is_ok()
        && memory.write(&mut caller, size_ptr as u32 as usize, &zero).is_ok();
    if ok { ERRNO_SUCCESS } else { ERRNO_FAULT }
}

/// `fd_write`: stdout (1) and stderr (2) are captured apart, bounded; other descriptors do not exist.
fn fd_write(mut caller: Caller<'_, HostState>, fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) -> i32 {
    if fd != 1 && fd != 2 {
        return ERRNO_BADF;
    }
    let Some(memory) = memory(&mut caller) else {
        return ERRNO_FAULT;
    };
    let (data, state) = memory.data_and_store_mut(&mut caller);
    let mut written: u32 = 0;
    for i in 0..iovs_len.max(0) as usize {
        let at = iovs as u32 as usize + i * 8;
        let Some(iov) = data.get(at..at + 8) else {
            return ERRNO_FAULT;
        };
        let ptr = u32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]) as usize;
        let len = u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]) as usize;
        let Some(bytes) = data.get(ptr..ptr.saturating_add(len)) else {
            return ERRNO_FAULT;
        };
        let (output, limit) =
            if fd == 1 { (&mut state.stdout, STDOUT_LIMIT) } else { (&mut state.stderr, STDERR_LIMIT) };
        let room = limit.saturating_sub(output.len());
        output.extend_from_slice(&bytes[..len.min(room)]);
        written = written.saturating_add(len as u32);
    }
    match data.get_mut(nwritten as u32 as usize..nwritten as u32 as usize + 4) {
        Some(slot) => {
            slot.copy_from_slice(&written.to_le_bytes());
            ERRNO_SUCCESS
        }
        None => ERRNO_FAULT,
    }
}

/// `random_get`: bytes from a per-store, OS-seeded hasher (not a cryptographic source; the guest
/// uses them to seed hash maps and `Math.random`).
fn random_get(mut caller: Caller<'_, HostState>, buf: i32, len: i32) -> i32 {
    let Some(memory) = memory(&mut caller) else {
        return ERRNO_FAULT;
    };
    let (data, state) = memory.data_and_store_mut(&mut caller);
    let start = buf as u32 as usize;
    let Some(out) = data.get_mut(start..start.saturating_add(len as u32 as usize)) else {
        return ERRNO_FAULT;
    };
    for chunk in out.chunks_mut(8) {
        state.random_counter = state.random_counter.wrapping_add(1);
        let mut hasher = state.random.build_hasher();
        hasher.write_u64(state.random_counter);
        let bytes = hasher.finish().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    ERRNO_SUCCESS
}

/// `clock_time_get`: realtime (0) from the system clock, the others monotonic since the instance started.
fn clock_time_get(mut caller: Caller<'_, HostState>, clock_id: i32, _precision: i64, time_ptr: i32) -> i32 {
    let nanos: u64 = match clock_id {
        0 => match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Err(_) => 0,
        },
        1..=3 => u64::try_from(caller.data().started.elapsed().as_nanos()).unwrap_or(u64::MAX),
        _ => return ERRNO_INVAL,
    };
    let Some(memory) = memory(&mut caller) else {
        return ERRNO_FAULT;
    };
    match memory.write(&mut caller, time_ptr as u32 as usize, &nanos.to_le_bytes()) {
        Ok(()) => ERRNO_SUCCESS,
        Err(_) => ERRNO_FAULT,
    }
}
