//! One guest instance: a wasmtime store holding one boa context with one compiled script, and the
//! calls across the guest ABI (see `sandbox/src/lib.rs`).

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use wasmtime::{InstancePre, Memory, Store, Trap, TypedFunc};

use super::error::{ScriptError, StackFrame};
use super::host::HostState;
use super::{ConsoleLine, Limits, ScriptOutcome};

/// Period of the epoch ticker; time limits are counted in these ticks.
pub(crate) const TICK: Duration = Duration::from_millis(1);
/// Extra time compilation gets over the script's limit: parsing and compiling the script comes
/// before the author's top level runs.
const SETUP_ALLOWANCE: Duration = Duration::from_millis(250);

/// A live guest instance.
pub(crate) struct Guest {
    /// The store: instance state, limiter, captured output.
    store: Store<HostState>,
    /// The guest's linear memory.
    memory: Memory,
    /// `hm_input(len) -> ptr`.
    input: TypedFunc<u32, u32>,
    /// `hm_compile(len) -> packed`.
    compile: TypedFunc<u32, u64>,
    /// `hm_call(payload_len, request_len) -> packed`.
    call: TypedFunc<(u32, u32), u64>,
    /// `hm_record_reads(on)`.
    record_reads: TypedFunc<u32, ()>,
    /// `hm_reseed()`.
    reseed: TypedFunc<(), ()>,
}

/// The memory of an instance whose script is compiled, kept as the runs of bytes that differ from
/// a new instance's: restoring it into a new instance ([`Guest::restore`]) gives the compiled
/// script's state without compiling it again. The guest's only mutable global, its stack
/// pointer, is back at its start between calls, so memory is the whole state.
pub(crate) struct Image {
    /// The memory's size, bytes.
    size: usize,
    /// Offsets and contents of the runs of pages that differ.
    runs: Vec<(usize, Vec<u8>)>,
}

/// The granularity of an [`Image`]: the host's page, the unit of copy-on-write.
const IMAGE_PAGE: usize = 4096;

/// A failed call: the error, and whether the instance may still be used.
pub(crate) struct Failure {
    /// What the author sees.
    pub(crate) error: ScriptError,
    /// Console output up to the failure.
    pub(crate) console: Vec<ConsoleLine>,
}

/// The guest's answer, as it writes it.
#[derive(Deserialize)]
struct Envelope {
    /// The result (present on success, even when `null`).
    #[serde(default, deserialize_with = "present")]
    ok: Option<Value>,
    /// The error, on failure.
    #[serde(default)]
    error: Option<GuestError>,
    /// The payload properties read, while recording.
    #[serde(default)]
    reads: Vec<String>,
}

/// A decoded envelope.
struct Decoded {
    result: Result<Value, ScriptError>,
    console: Vec<ConsoleLine>,
    reads: Vec<String>,
}

/// Deserialises a field that is present (even when `null`) as `Some`.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// An error as the guest reports it.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum GuestError {
    Syntax {
        message: String,
        line: u32,
        column: u32,
    },
    Exception {
        message: String,
        line: Option<u32>,
        column: Option<u32>,
        frames: Vec<(String, Option<u32>, Option<u32>)>,
    },
    Returned {
        what: String,
    },
    NotJson {
        what: String,
        path: String,
    },
    ResultTooLarge {
        limit: usize,
    },
    MissingMap,
    StackOverflow,
    Input {
        message: String,
    },
    Internal {
        message: String,
    },
}

impl Guest {
    /// Instantiates the guest (cheap: the module is pre-linked and its memory image copy-on-write).
    pub(crate) fn instantiate(pre: &InstancePre<HostState>, limits: &Limits) -> Result<Self, ScriptError> {
        let internal = |what: &str, e: wasmtime::Error| ScriptError::Internal { message: format!("{what}: {e:#}") };
        let mut store = Store::new(pre.module().engine(), HostState::new(limits.memory_bytes));
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(ticks(limits.time + SETUP_ALLOWANCE));
        let instance = pre.instantiate(&mut store).map_err(|e| {
            if store.data().limiter.refused {
                ScriptError::MemoryLimit { limit_bytes: limits.memory_bytes }
            } else {
                internal("cannot instantiate the guest", e)
            }
        })?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| ScriptError::Internal { message: "the guest exports no memory".into() })?;
        let input = instance.get_typed_func(&mut store, "hm_input").map_err(|e| internal("hm_input", e))?;
        let compile = instance.get_typed_func(&mut store, "hm_compile").map_err(|e| internal("hm_compile", e))?;
        let call = instance.get_typed_func(&mut store, "hm_call").map_err(|e| internal("hm_call", e))?;
        let record_reads =
            instance.get_typed_func(&mut store, "hm_record_reads").map_err(|e| internal("hm_record_reads", e))?;
        let reseed = instance.get_typed_func(&mut store, "hm_reseed").map_err(|e| internal("hm_reseed", e))?;
        Ok(Self { store, memory, input, compile, call, record_reads, reseed })
    }

    /// Creates the guest's context and compiles `source` in it (runs its top level once).
    pub(crate) fn compile(&mut self, source: &str, limits: &Limits) -> Result<Vec<ConsoleLine>, Failure> {
        let len = self.write_input(&[source.as_bytes()], limits)?;
        let compile = self.compile.clone();
        let value = self.run(limits, limits.time + SETUP_ALLOWANCE, |store| compile.call(store, len))?;
        let Decoded { result, console, .. } = self.read_envelope(value, Some(source));
        match result {
            Ok(_) => Ok(console),
            Err(error) => Err(Failure { error, console }),
        }
    }

    /// This instance's memory as the pages that differ from `new`'s, an instance of the same
    /// module that has run nothing.
    pub(crate) fn image(&self, new: &Guest) -> Image {
        let now = self.memory.data(&self.store);
        let base = new.memory.data(&new.store);
        let mut runs: Vec<(usize, Vec<u8>)> = Vec::new();
        for (index, page) in now.chunks(IMAGE_PAGE).enumerate() {
            let at = index * IMAGE_PAGE;
            let same = match base.get(at..at + page.len()) {
                Some(before) => before == page,
                // Memory grown since: new pages start zeroed.
                None => page.iter().all(|&b| b == 0),
            };
            if same {
                continue;
            }
            match runs.last_mut() {
                Some((start, bytes)) if *start + bytes.len() == at => bytes.extend_from_slice(page),
                _ => runs.push((at, page.to_vec())),
            }
        }
        Image { size: now.len(), runs }
    }

    /// Gives this new instance the memory of `image` and a `Math.random` of its own.
    pub(crate) fn restore(&mut self, image: &Image, limits: &Limits) -> Result<(), Failure> {
        let current = self.memory.data_size(&self.store);
        if image.size > current {
            let pages = ((image.size - current) as u64).div_ceil(self.memory.page_size(&self.store));
            if self.memory.grow(&mut self.store, pages).is_err() {
                return Err(Failure {
                    error: ScriptError::MemoryLimit { limit_bytes: limits.memory_bytes },
                    console: Vec::new(),
                });
            }
        }
        let data = self.memory.data_mut(&mut self.store);
        for (at, bytes) in &image.runs {
            let Some(slot) = data.get_mut(*at..*at + bytes.len()) else {
                return Err(Failure {
                    error: ScriptError::Internal { message: "the compiled script's memory is out of bounds".into() },
                    console: Vec::new(),
                });
            };
            slot.copy_from_slice(bytes);
        }
        let reseed = self.reseed.clone();
        self.run(limits, limits.time, |store| reseed.call(store, ()).map(|()| 0))?;
        Ok(())
    }

    /// Makes the next calls record the payload properties they read (see [`Guest::call`]).
    pub(crate) fn record_reads(&mut self, limits: &Limits) -> Result<(), Failure> {
        let record_reads = self.record_reads.clone();
        self.run(limits, limits.time, |store| record_reads.call(store, 1).map(|()| 0))?;
        Ok(())
    }

    /// Calls the script's `map` with the given payload and request JSON; also returns the payload
    /// properties it read, once [`Guest::record_reads`] was called (none otherwise).
    ///
    /// `Err` means the instance must be discarded (it trapped or hit a limit).
    pub(crate) fn call(
        &mut self,
        payload: &[u8],
        request: &[u8],
        limits: &Limits,
    ) -> Result<(ScriptOutcome, Vec<String>), Failure> {
        let payload_len = u32::try_from(payload.len()).map_err(|_| Failure {
            error: ScriptError::InvalidInput { message: "the payload is larger than 4 GiB".into() },
            console: Vec::new(),
        })?;
        let request_len = request.len() as u32;
        self.write_input(&[payload, request], limits)?;
        let call = self.call.clone();
        let value = self.run(limits, limits.time, |store| call.call(store, (payload_len, request_len)))?;
        let Decoded { result, console, reads } = self.read_envelope(value, None);
        Ok((ScriptOutcome { result, console }, reads))
    }

    /// Copies `parts` one after the other into the guest's input buffer; returns the total length.
    fn write_input(&mut self, parts: &[&[u8]], limits: &Limits) -> Result<u32, Failure> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let Ok(total32) = u32::try_from(total) else {
            return Err(Failure {
                error: ScriptError::MemoryLimit { limit_bytes: limits.memory_bytes },
                console: Vec::new(),
            });
        };
        let input = self.input.clone();
        let ptr = self.run(limits, limits.time, |store| input.call(store, total32).map(u64::from))?;
        let data = self.memory.data_mut(&mut self.store);
        let mut at = ptr as usize;
        for part in parts {
            let Some(slot) = data.get_mut(at..at + part.len()) else {
                return Err(Failure {
                    error: ScriptError::Internal { message: "the guest input buffer is out of bounds".into() },
                    console: Vec::new(),
                });
            };
            slot.copy_from_slice(part);
            at += part.len();
        }
        Ok(total32)
    }

    /// Runs one guest export under the time and memory limits, mapping traps to script errors.
    fn run(
        &mut self,
        limits: &Limits,
        time: Duration,
        f: impl FnOnce(&mut Store<HostState>) -> wasmtime::Result<u64>,
    ) -> Result<u64, Failure> {
        self.store.data_mut().limiter.reset();
        self.store.data_mut().stdout.clear();
        self.store.data_mut().stderr.clear();
        self.store.set_epoch_deadline(ticks(time));
        match f(&mut self.store) {
            Ok(value) => Ok(value),
            Err(error) => {
                let state = self.store.data();
                // The script's own console lines up to the trap; the guest's panic text is not
                // the author's: it only says why.
                let console = console_lines(&state.stdout);
                let panic = panic_message(&state.stderr);
                // A refused growth, or an allocation too large to even ask for (the guest's
                // allocator aborts with one of these messages).
                let out_of_memory = state.limiter.refused
                    || panic
                        .as_deref()
                        .is_some_and(|p| p.starts_with("memory allocation of") || p.contains("capacity overflow"));
                let error = if out_of_memory {
                    ScriptError::MemoryLimit { limit_bytes: limits.memory_bytes }
                } else {
                    match (error.downcast_ref::<Trap>(), panic) {
                        (Some(Trap::Interrupt), _) => ScriptError::TimeLimit { limit: limits.time },
                        // The wasm stack, or the guest's shadow stack (which lies below address 0
                        // of linear memory, so exhausting it is an out-of-bounds access).
                        (Some(Trap::StackOverflow | Trap::MemoryOutOfBounds), _) => ScriptError::StackOverflow,
                        (_, Some(message)) => ScriptError::Internal { message },
                        (_, None) => ScriptError::Internal { message: format!("the guest trapped: {error:#}") },
                    }
                };
                Err(Failure { error, console })
            }
        }
    }

    /// Reads and decodes the envelope at `packed` (`ptr << 32 | len`).
    fn read_envelope(&mut self, packed: u64, source: Option<&str>) -> Decoded {
        let ptr = (packed >> 32) as usize;
        let len = (packed & 0xffff_ffff) as usize;
        let console = console_lines(&self.store.data().stdout);
        let Some(bytes) = self.memory.data(&self.store).get(ptr..ptr + len) else {
            let error = ScriptError::Internal { message: "the guest output is out of bounds".into() };
            return Decoded { result: Err(error), console, reads: Vec::new() };
        };
        let envelope: Envelope = match serde_json::from_slice(bytes) {
            Ok(envelope) => envelope,
            Err(e) => {
                let error = ScriptError::Internal { message: format!("unreadable guest output: {e}") };
                return Decoded { result: Err(error), console, reads: Vec::new() };
            }
        };
        let result = match (envelope.ok, envelope.error) {
            (_, Some(error)) => Err(script_error(error, source)),
            (Some(value), None) => Ok(value),
            (None, None) => Err(ScriptError::Internal { message: "the guest returned nothing".into() }),
        };
        Decoded { result, console, reads: envelope.reads }
    }
}

/// The author-facing error for a guest error; `source` gives syntax errors their line.
fn script_error(error: GuestError, source: Option<&str>) -> ScriptError {
    match error {
        GuestError::Syntax { message, line, column } => {
            let source_line =
                source.and_then(|s| s.lines().nth(line.saturating_sub(1) as usize)).unwrap_or_default().to_owned();
            match module_keyword(&source_line, column) {
                Some(keyword) => ScriptError::ModuleSyntax { keyword: keyword.to_owned(), line, column, source_line },
                None => ScriptError::Syntax { message, line, column, source_line },
            }
        }
        GuestError::Exception { message, line, column, frames } => {
            let stack = frames
                .into_iter()
                .map(|(function, line, column)| StackFrame { function, position: line.zip(column) })
                .collect();
            ScriptError::Exception { message, line, column, stack }
        }
        GuestError::Returned { what } if what == "Promise" => ScriptError::ReturnedPromise,
        GuestError::Returned { .. } => ScriptError::ReturnedUndefined,
        GuestError::NotJson { what, path } => ScriptError::NotJson { what, path },
        GuestError::ResultTooLarge { limit } => ScriptError::ResultTooLarge { limit_bytes: limit },
        GuestError::MissingMap => ScriptError::MissingMap,
        GuestError::StackOverflow => ScriptError::StackOverflow,
        GuestError::Input { message } => ScriptError::InvalidInput { message },
        GuestError::Internal { message } => ScriptError::Internal { message },
    }
}

/// `export` or `import` when the syntax error at 1-based `column` of `source_line` is that
/// keyword starting a statement: the author wrote a module.
fn module_keyword(source_line: &str, column: u32) -> Option<&'static str> {
    let at: String = source_line.chars().skip(column.saturating_sub(1) as usize).collect();
    ["export", "import"].into_iter().find(|keyword| {
        at.strip_prefix(keyword)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_whitespace() || c == '{' || c == '*'))
    })
}

/// The console lines the guest wrote to stdout, one `[level, text]` JSON array per line (a line
/// cut short by the output limit is left out).
fn console_lines(stdout: &[u8]) -> Vec<ConsoleLine> {
    stdout
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice::<(String, String)>(line).ok())
        .map(|(level, text)| ConsoleLine { level, text })
        .collect()
}

/// The message of a guest panic or abort on stderr, without the runtime's framing
/// (`thread '<unnamed>' panicked at …:`, `note: run with RUST_BACKTRACE=1 …`).
fn panic_message(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("thread '") && !l.starts_with("note: "))
        .collect();
    (!lines.is_empty()).then(|| lines.join("; "))
}

/// Epoch ticks for `time`, rounded up, plus one: the current tick may be about to end.
pub(crate) fn ticks(time: Duration) -> u64 {
    let tick = TICK.as_nanos();
    u64::try_from(time.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX / 2) + 1
}
