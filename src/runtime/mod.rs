//! The host side of the JavaScript sandbox: mapping scripts are untrusted, so they run in boa
//! compiled to WebAssembly (`sandbox/`), inside wasmtime, under a time and a memory limit.
//!
//! - [`Sandbox`]: one per process. Owns the wasmtime engine, the guest module (pre-initialised with
//!   its boa realm ready and compiled once, then loaded from a disk cache in milliseconds) and the
//!   epoch ticker thread that enforces time limits. Creating it costs milliseconds from the cache;
//!   without a cache entry, seconds (two compilations of the guest by Cranelift), or about a
//!   second with [`SandboxConfig::quick_start`] (Winch, the baseline compiler, while Cranelift
//!   fills the cache on a background thread).
//! - [`Script`]: one compiled mapping script and its pool of warm guest instances. Compiling one
//!   costs a fresh instance (copy-on-write of the snapshot) and the script's parse (under a
//!   millisecond); each call then costs tens of microseconds.
//! - [`Script::call`] runs `map(payload, request)` for one event and returns a [`ScriptOutcome`]:
//!   the JSON result or a [`ScriptError`], and the console output.
//!
//! Isolation between events: the realm is locked down before any author code runs (every object
//! reachable from `globalThis` is frozen), and each call re-runs the script's top level in a fresh
//! function scope, so one event cannot leave state for the next. See `docs/sandbox.md`.

mod error;
mod expression;
mod host;
mod instance;
mod pooled;
mod snapshot;

#[allow(unsafe_code)]
mod cache;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use wasmtime::{Config, Engine, InstancePre, Module, Strategy};

pub use crate::request::RequestInfo;
pub use cache::ModuleSource;
pub use error::{Named, RuntimeError, SCRIPT_NAME, ScriptError, StackFrame};

use expression::Expression;
use host::HostState;
use instance::{Failure, Guest, Image, TICK};

/// The guest: boa_engine built for `wasm32-wasip1` by `build.rs` from `sandbox/`.
const GUEST_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sandbox-guest.wasm"));

/// Native (wasm) stack a guest may use, bytes; exceeding it is a [`ScriptError::StackOverflow`].
const MAX_WASM_STACK: usize = 1024 * 1024;

/// Resource limits of one script, for each call. Written in a trigger's mapping as
/// `{"timeMs": 50, "memoryMb": 32}` (each key optional, with the defaults below).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "LimitsJson", into = "LimitsJson")]
pub struct Limits {
    /// Wall time of one call (default 50 ms).
    pub time: Duration,
    /// Linear memory of one instance, bytes (default 32 MiB; the guest itself needs about 3 MiB).
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { time: Duration::from_millis(50), memory_bytes: 32 * 1024 * 1024 }
    }
}

/// [`Limits`] as JSON: whole milliseconds and MiB.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LimitsJson {
    /// Wall-clock limit of one run, in milliseconds.
    #[serde(default = "LimitsJson::default_time_ms")]
    time_ms: u32,
    /// Memory limit of one run, in MiB.
    #[serde(default = "LimitsJson::default_memory_mb")]
    memory_mb: u32,
}

impl LimitsJson {
    fn default_time_ms() -> u32 {
        LimitsJson::from(Limits::default()).time_ms
    }

    fn default_memory_mb() -> u32 {
        LimitsJson::from(Limits::default()).memory_mb
    }
}

impl From<LimitsJson> for Limits {
    fn from(json: LimitsJson) -> Limits {
        Limits {
            time: Duration::from_millis(u64::from(json.time_ms)),
            memory_bytes: usize::try_from(json.memory_mb).unwrap_or(usize::MAX).saturating_mul(1 << 20),
        }
    }
}

impl From<Limits> for LimitsJson {
    fn from(limits: Limits) -> LimitsJson {
        LimitsJson {
            time_ms: u32::try_from(limits.time.as_millis()).unwrap_or(u32::MAX),
            memory_mb: u32::try_from(limits.memory_bytes >> 20).unwrap_or(u32::MAX),
        }
    }
}

/// How a script's calls share guest instances. Written in a trigger's mapping as
/// `"isolation": "warm"` (the default) or `"fresh"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// Calls reuse warm instances of the compiled script: each call re-runs the script's top
    /// level in a fresh function scope in a realm whose globals are frozen, so one event cannot
    /// leave state for the next (tens of microseconds per call).
    #[default]
    Warm,
    /// Every call runs in a new instance, discarded afterwards: no memory at all is shared
    /// between events. Each new instance starts from the memory the script's compilation left
    /// (kept once), taken from a pool whose memory stays resident, so the cost per call is an
    /// instance, not a compilation (0.1–0.3 ms more than a warm call).
    Fresh,
}

impl Isolation {
    /// The name used in mappings and on the command line (`warm`, `fresh`).
    pub fn name(self) -> &'static str {
        match self {
            Isolation::Warm => "warm",
            Isolation::Fresh => "fresh",
        }
    }
}

impl std::str::FromStr for Isolation {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        [Isolation::Warm, Isolation::Fresh]
            .into_iter()
            .find(|isolation| isolation.name() == name)
            .ok_or_else(|| format!("expected warm or fresh, found {name:?}"))
    }
}

/// One line a script wrote with `console.*` (or the guest wrote to stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleLine {
    /// `log`, `info`, `warn`, `error`, `debug`, or `stderr`.
    pub level: String,
    /// The arguments, strings as they are and other values as JSON, separated by spaces.
    pub text: String,
}

/// What one call produced: the result or the error, and the console output either way.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptOutcome {
    /// The value `map` returned, as JSON.
    pub result: Result<Value, ScriptError>,
    /// Console output of the call (at most 64 KiB of text).
    pub console: Vec<ConsoleLine>,
}

/// How a [`Sandbox`] starts: where its module cache is and what it does when the cache has no
/// module for this guest and engine. Every setting has a default; [`Sandbox::new`] uses them all
/// but the cache directory.
#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
    /// The module cache directory (default: [`default_cache_dir`]).
    cache_dir: Option<PathBuf>,
    /// Start with the baseline compiler on a cache miss (default: false).
    quick_start: bool,
    /// Told the cache directory before a compilation on a cache miss (default: nobody).
    on_compile: Option<fn(&Path)>,
}

impl SandboxConfig {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where compiled guest modules are cached (default: [`default_cache_dir`]).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// On a cache miss, compile the guest with the baseline compiler (Winch: about a second,
    /// code a few times slower) and start at once, while the optimised module is compiled and
    /// cached on a background thread ([`Sandbox::finish_caching`] waits for it). Default `false`:
    /// compile the optimised module before starting (several seconds), as a server wants.
    pub fn quick_start(mut self, quick: bool) -> Self {
        self.quick_start = quick;
        self
    }

    /// A function told the cache directory just before the guest is compiled because the cache
    /// had no module for it: a command line prints why it waits (default: none).
    pub fn on_compile(mut self, notice: fn(&Path)) -> Self {
        self.on_compile = Some(notice);
        self
    }

    /// Starts a sandbox with this configuration: milliseconds from the cache, otherwise one or
    /// two compilations of the guest.
    pub fn start(&self) -> Result<Sandbox, RuntimeError> {
        let dir = self.cache_dir.clone().unwrap_or_else(default_cache_dir);
        let optimising = Engine::new(&engine_config(Strategy::Cranelift)).map_err(RuntimeError::Engine)?;
        let entry = cache::entry_path(&optimising, GUEST_WASM, &dir);
        if let Some(module) = cache::load(&optimising, &entry) {
            return Sandbox::with_ticker(Ticker::start(optimising)?, module, ModuleSource::Cache, None);
        }
        if let Some(notice) = self.on_compile {
            notice(&dir);
        }
        if self.quick_start {
            // Winch may not support this machine: the optimised path is then the only one.
            if let Ok(baseline) = Engine::new(&engine_config(Strategy::Winch)) {
                return Sandbox::start_baseline(baseline, optimising, entry);
            }
        }
        let ticker = Ticker::start(optimising.clone())?;
        let snapshot = snapshot::pre_initialise(&optimising, GUEST_WASM)?;
        let module = cache::compile_and_store(&optimising, &snapshot, &entry)?;
        Sandbox::with_ticker(ticker, module, ModuleSource::Compiled, None)
    }
}

/// The name of the epoch ticker thread.
const TICKER_THREAD: &str = "hookmap-epoch";
/// The name of the thread that compiles the optimised module for the cache after a quick start.
const CACHING_THREAD: &str = "hookmap-module-cache";

/// Set (to anything) to have wasmtime write a perf map (`/tmp/perf-<pid>.map`), so that `perf`
/// names the guest's functions (a guest built with its name section names them all). For
/// profiling only: it costs nothing per call, but every loaded module's symbols are written out.
const PERF_MAP_VAR: &str = "HOOKMAP_PERF_MAP";

/// The wasmtime configuration of the sandbox's engines, with the given compiler.
fn engine_config(strategy: Strategy) -> Config {
    let mut config = Config::new();
    config.strategy(strategy);
    config.epoch_interruption(true);
    config.max_wasm_stack(MAX_WASM_STACK);
    if std::env::var_os(PERF_MAP_VAR).is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

/// The sandbox: wasm engine, guest module and epoch ticker. One per process; `Send + Sync`.
pub struct Sandbox {
    /// State shared with every [`Script`].
    shared: Arc<Shared>,
    /// Where the module came from.
    module_source: ModuleSource,
    /// The background compilation of the optimised module for the cache, after a quick start.
    caching: Mutex<Option<JoinHandle<Result<(), RuntimeError>>>>,
}

/// What scripts share: the engine and the pre-linked guest.
struct Shared {
    /// The guest, linked with the host functions, ready to instantiate.
    pre: InstancePre<HostState>,
    /// The pool fresh instances come from, started when the first script is made fresh
    /// (`None` when it cannot start: fresh instances then come from `pre`).
    pooled: OnceLock<Option<pooled::Pooled>>,
    /// Enforces time limits; stops when the sandbox and its last script are dropped.
    _ticker: Ticker,
}

impl Shared {
    /// The pool of fresh instances, started on first use with two slots a core.
    fn pooled(&self) -> Option<&pooled::Pooled> {
        let start = || pooled::Pooled::start(self.pre.module(), u32::try_from(idle_instances()).unwrap_or(u32::MAX));
        self.pooled.get_or_init(start).as_ref()
    }

    /// A new instance for one fresh call: from the pool, else (every slot taken, or a memory
    /// limit larger than a slot) from the on-demand engine.
    fn fresh_guest(&self, limits: &Limits) -> Result<Guest, ScriptError> {
        match self.pooled().and_then(|pooled| pooled.instantiate(limits)) {
            Some(guest) => guest,
            None => Guest::instantiate(&self.pre, limits),
        }
    }
}

impl Sandbox {
    /// Starts the sandbox, loading the compiled guest from `cache_dir` (default
    /// [`default_cache_dir`]) or compiling it there (seconds) when there is no valid entry.
    pub fn new(cache_dir: Option<&Path>) -> Result<Self, RuntimeError> {
        let config = SandboxConfig::new();
        match cache_dir {
            Some(dir) => config.cache_dir(dir).start(),
            None => config.start(),
        }
    }

    /// A sandbox running `module`, whose engine `ticker` drives.
    fn with_ticker(
        ticker: Ticker,
        module: Module,
        module_source: ModuleSource,
        caching: Option<JoinHandle<Result<(), RuntimeError>>>,
    ) -> Result<Self, RuntimeError> {
        let linker = host::linker(&module).map_err(RuntimeError::Module)?;
        let pre = linker.instantiate_pre(&module).map_err(RuntimeError::Module)?;
        let shared = Shared { pre, pooled: OnceLock::new(), _ticker: ticker };
        Ok(Self { shared: Arc::new(shared), module_source, caching: Mutex::new(caching) })
    }

    /// Pre-initialises and compiles the guest with the `baseline` engine, and compiles the same
    /// snapshot with the `optimising` engine into the cache `entry` on a background thread.
    fn start_baseline(baseline: Engine, optimising: Engine, entry: PathBuf) -> Result<Self, RuntimeError> {
        // Started first: the guest's pre-initialisation runs under a deadline too.
        let ticker = Ticker::start(baseline.clone())?;
        let snapshot = Arc::new(snapshot::pre_initialise(&baseline, GUEST_WASM)?);
        let module = Module::from_binary(&baseline, &snapshot).map_err(RuntimeError::Module)?;
        let caching = std::thread::Builder::new()
            .name(CACHING_THREAD.into())
            .spawn(move || cache::compile_and_store(&optimising, &snapshot, &entry).map(drop))
            .map_err(|source| RuntimeError::Thread { name: CACHING_THREAD, source })?;
        Self::with_ticker(ticker, module, ModuleSource::Baseline, Some(caching))
    }

    /// Whether the optimised module is still being compiled for the cache (after a quick start
    /// that found no cache entry).
    pub fn is_caching(&self) -> bool {
        self.caching.lock().is_ok_and(|caching| caching.as_ref().is_some_and(|thread| !thread.is_finished()))
    }

    /// Waits until the optimised module is in the cache (after a quick start that found no
    /// entry; at once otherwise), so the next process loads it in milliseconds.
    pub fn finish_caching(&self) -> Result<(), RuntimeError> {
        let thread = self.caching.lock().ok().and_then(|mut caching| caching.take());
        match thread.map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(RuntimeError::Thread {
                name: CACHING_THREAD,
                source: std::io::Error::other("panicked while compiling the module for the cache"),
            }),
        }
    }

    /// Whether the guest module was loaded from the disk cache, compiled, or compiled by the
    /// baseline compiler.
    pub fn module_source(&self) -> ModuleSource {
        self.module_source
    }

    /// Compiles `source` (which must define `function map(payload, request)`) into a [`Script`].
    ///
    /// Costs one guest instance (the realm comes ready from the snapshot), the parse and one run of
    /// the script's top level. The instance is kept warm for the first call.
    pub fn compile(&self, source: &str, limits: Limits) -> Result<Script, ScriptError> {
        let mut guest = Guest::instantiate(&self.shared.pre, &limits)?;
        guest.compile(source, &limits).map_err(|failure| failure.error)?;
        Ok(Script {
            shared: Arc::clone(&self.shared),
            source: Arc::from(source),
            limits,
            isolation: Isolation::Warm,
            image: None,
            pool: Mutex::new(vec![guest]),
            max_idle: idle_instances(),
            expression: None,
        })
    }

    /// Compiles a script expression into a [`Script`] whose `map(payload, request)` returns the
    /// expression's value, `payload` and `request` in scope; a function value is called with
    /// `(payload, request)` and gives what it returns. `undefined` is returned as `null`. Errors
    /// have their positions in the expression's text. Costs what [`Sandbox::compile`] costs.
    pub fn compile_expression(&self, expression: &str, limits: Limits) -> Result<Script, ScriptError> {
        let expression = Expression::new(expression);
        let mut script = self.compile(&expression.wrapped(), limits).map_err(|error| expression.author_error(error))?;
        script.expression = Some(expression);
        Ok(script)
    }
}

/// The default module cache: `$HOOKMAP_CACHE_DIR`, else `$XDG_CACHE_HOME/hookmap`, else
/// `$HOME/.cache/hookmap`, else `./hookmap-data/cache`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HOOKMAP_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("hookmap");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(home).join(".cache").join("hookmap");
    }
    PathBuf::from("hookmap-data").join("cache")
}

/// How many idle instances a script keeps: enough for every core to run it at once.
fn idle_instances() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

/// A compiled mapping script with its pool of warm instances. `Send + Sync`: calls from several
/// threads run in parallel, each in its own instance.
pub struct Script {
    /// The sandbox's shared state.
    shared: Arc<Shared>,
    /// The author's source, to compile into new instances.
    source: Arc<str>,
    /// Limits of every call.
    limits: Limits,
    /// Whether calls reuse warm instances or each get a new one.
    isolation: Isolation,
    /// The memory of an instance with this script compiled, which fresh instances start from
    /// (taken by [`Script::with_isolation`] for [`Isolation::Fresh`]; without it, a fresh
    /// instance compiles the script).
    image: Option<Image>,
    /// Idle, healthy instances (none with [`Isolation::Fresh`]).
    pool: Mutex<Vec<Guest>>,
    /// Most idle instances kept.
    max_idle: usize,
    /// For a script expression ([`Sandbox::compile_expression`]): its text, to place errors in it.
    expression: Option<Expression>,
}

impl Script {
    /// The limits every call runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// This script with its calls isolated as `isolation` says (compiled scripts start
    /// [`Isolation::Warm`]).
    ///
    /// For [`Isolation::Fresh`] it keeps the memory of an instance with the script compiled, so
    /// that each call's new instance starts from it instead of compiling the script again.
    pub fn with_isolation(mut self, isolation: Isolation) -> Script {
        self.isolation = isolation;
        if isolation == Isolation::Fresh {
            // A new instance, not one from the pool: the image is the state right after the
            // compilation, whatever calls the script made before.
            if let Ok(pool) = self.pool.get_mut() {
                pool.clear();
            }
            let compiled = self.new_instance().ok();
            let new = Guest::instantiate(&self.shared.pre, &self.limits).ok();
            self.image = compiled.zip(new).map(|(compiled, new)| compiled.image(&new));
            // Started now rather than at the first call, which would wait for it.
            self.shared.pooled();
        }
        self
    }

    /// How the calls of this script are isolated from each other.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// Runs `map(payload, request)` on one event: in a warm instance, or in a new one with
    /// [`Isolation::Fresh`] ([`Script::call_in_fresh_instance`]).
    ///
    /// `payload_json` is the raw request body (JSON). An instance that trapped or hit a limit is
    /// discarded; the next call gets a fresh one.
    pub fn call(&self, payload_json: &[u8], request: &RequestInfo) -> ScriptOutcome {
        match self.isolation {
            Isolation::Warm => self.in_author_terms(self.call_pooled(payload_json, request)),
            Isolation::Fresh => self.call_in_fresh_instance(payload_json, request),
        }
    }

    /// [`Script::call`] before its error is placed in an expression's text.
    fn call_pooled(&self, payload_json: &[u8], request: &RequestInfo) -> ScriptOutcome {
        let idle = self.pool.lock().ok().and_then(|mut pool| pool.pop());
        let guest = match idle {
            Some(guest) => guest,
            None => match self.new_instance() {
                Ok(guest) => guest,
                Err(failure) => {
                    return ScriptOutcome { result: Err(failure.error), console: failure.console };
                }
            },
        };
        self.call_in(guest, payload_json, request, true)
    }

    /// Runs `map(payload, request)` in a new instance, discarded afterwards: the strongest
    /// isolation, at the cost of an instance of the snapshot and, unless the script was made
    /// [`Isolation::Fresh`] (which keeps the compiled script's memory to start from), a
    /// compilation of the script per event.
    pub fn call_in_fresh_instance(&self, payload_json: &[u8], request: &RequestInfo) -> ScriptOutcome {
        self.in_author_terms(match self.fresh_instance() {
            Ok(guest) => self.call_in(guest, payload_json, request, false),
            Err(failure) => ScriptOutcome { result: Err(failure.error), console: failure.console },
        })
    }

    /// Runs `map(payload, request)` once in a new instance and lists the payload properties it
    /// read: JSONPaths in bracket notation with `[*]` for any array index
    /// (`$['data']['items'][*]['id']`), leaves only (a path is left out when a longer one
    /// without a new `[*]` extends it). A property read by the result writer counts too.
    /// The shape check of script mappings is built from this run on the sample.
    pub fn call_recording_reads(&self, payload_json: &[u8], request: &RequestInfo) -> (ScriptOutcome, Vec<String>) {
        let (outcome, reads) = self.record_reads(payload_json, request);
        (self.in_author_terms(outcome), reads)
    }

    /// [`Script::call_recording_reads`] before its error is placed in an expression's text.
    fn record_reads(&self, payload_json: &[u8], request: &RequestInfo) -> (ScriptOutcome, Vec<String>) {
        let mut guest = match self.new_instance() {
            Ok(guest) => guest,
            Err(failure) => {
                return (ScriptOutcome { result: Err(failure.error), console: failure.console }, Vec::new());
            }
        };
        if let Err(failure) = guest.record_reads(&self.limits) {
            return (ScriptOutcome { result: Err(failure.error), console: failure.console }, Vec::new());
        }
        let request = match encode_request(request) {
            Ok(request) => request,
            Err(failed) => return (failed, Vec::new()),
        };
        match guest.call(payload_json, &request, &self.limits) {
            Ok((outcome, reads)) => (outcome, leaves(reads)),
            Err(Failure { error, console }) => (ScriptOutcome { result: Err(error), console }, Vec::new()),
        }
    }

    /// `outcome` with its error placed in the expression's text, for a script expression.
    fn in_author_terms(&self, mut outcome: ScriptOutcome) -> ScriptOutcome {
        if let Some(expression) = &self.expression {
            outcome.result = outcome.result.map_err(|error| expression.author_error(error));
        }
        outcome
    }

    /// Calls `guest`, and returns it to the pool if `keep` and it is still healthy.
    fn call_in(&self, mut guest: Guest, payload_json: &[u8], request: &RequestInfo, keep: bool) -> ScriptOutcome {
        let request = match encode_request(request) {
            Ok(request) => request,
            Err(failed) => return failed,
        };
        match guest.call(payload_json, &request, &self.limits) {
            Ok((outcome, _)) => {
                if keep
                    && let Ok(mut pool) = self.pool.lock()
                    && pool.len() < self.max_idle
                {
                    pool.push(guest);
                }
                outcome
            }
            Err(Failure { error, console }) => ScriptOutcome { result: Err(error), console },
        }
    }

    /// A new instance with this script compiled in it: its memory restored from the script's
    /// image when there is one, else compiled.
    fn fresh_instance(&self) -> Result<Guest, Failure> {
        let Some(image) = &self.image else {
            return self.new_instance();
        };
        let mut guest =
            self.shared.fresh_guest(&self.limits).map_err(|error| Failure { error, console: Vec::new() })?;
        guest.restore(image, &self.limits)?;
        Ok(guest)
    }

    /// A new instance with this script compiled in it.
    fn new_instance(&self) -> Result<Guest, Failure> {
        let mut guest = Guest::instantiate(&self.shared.pre, &self.limits)
            .map_err(|error| Failure { error, console: Vec::new() })?;
        guest.compile(&self.source, &self.limits)?;
        Ok(guest)
    }
}

/// `request` as the JSON the guest reads, or the outcome of a call that could not encode it.
fn encode_request(request: &RequestInfo) -> Result<Vec<u8>, ScriptOutcome> {
    serde_json::to_vec(&request.to_json()).map_err(|e| ScriptOutcome {
        result: Err(ScriptError::Internal { message: format!("cannot encode the request: {e}") }),
        console: Vec::new(),
    })
}

/// `paths` without those that a longer path extends with keys only (`$['a']` goes when
/// `$['a']['b']` is there; `$['items']` stays beside `$['items'][*]['id']`, which may select
/// nothing in an empty array and so does not imply the array).
fn leaves(mut paths: Vec<String>) -> Vec<String> {
    paths.sort();
    paths.dedup();
    let implied = |path: &String| {
        paths.iter().any(|longer| {
            longer.len() > path.len()
                && longer.starts_with(path.as_str())
                && longer[path.len()..].starts_with('[')
                && !longer[path.len()..].contains("[*]")
        })
    };
    let keep: Vec<bool> = paths.iter().map(|p| !implied(p)).collect();
    paths.into_iter().zip(keep).filter_map(|(path, keep)| keep.then_some(path)).collect()
}

/// The thread that advances the engine's epoch every [`TICK`], which is how time limits fire.
struct Ticker {
    /// Set to stop the thread.
    stop: Arc<AtomicBool>,
    /// The thread, joined on drop.
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Starts the ticker for `engine`.
    fn start(engine: Engine) -> Result<Self, RuntimeError> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new().name(TICKER_THREAD.into()).spawn(move || {
            // One epoch per TICK of wall time: a sleep that overshoots (a loaded machine) is made
            // up with several increments, so time limits do not stretch with scheduling delays.
            let started = std::time::Instant::now();
            let mut ticked: u128 = 0;
            while !stopping.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                let due = started.elapsed().as_nanos() / TICK.as_nanos();
                while ticked < due {
                    engine.increment_epoch();
                    ticked += 1;
                }
            }
        });
        let thread = thread.map_err(|source| RuntimeError::Thread { name: TICKER_THREAD, source })?;
        Ok(Self { stop, thread: Some(thread) })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Isolation, Limits, RequestInfo, Sandbox, leaves};
    use std::time::Duration;

    /// One sandbox for these tests, and limits that a loaded machine (the guest compiled on a
    /// cache miss beside other tests) cannot reach.
    fn sandbox() -> (&'static Sandbox, Limits) {
        static SANDBOX: std::sync::OnceLock<Sandbox> = std::sync::OnceLock::new();
        let sandbox = SANDBOX.get_or_init(|| Sandbox::new(None).expect("the sandbox starts"));
        (sandbox, Limits { time: Duration::from_secs(10), ..Limits::default() })
    }

    #[test]
    fn fresh_isolation_keeps_no_instance_between_calls() {
        let (sandbox, limits) = sandbox();
        let source = "let n = 0; function map(p) { n += 1; return [p.id, n]; }";
        let idle = |script: &super::Script| script.pool.lock().unwrap().len();
        let request = RequestInfo::bare(0);
        let warm = sandbox.compile(source, limits).unwrap();
        assert_eq!(warm.isolation(), Isolation::Warm);
        assert_eq!(warm.call(b"{\"id\": 1}", &request).result, Ok(serde_json::json!([1, 1])));
        assert_eq!(idle(&warm), 1);
        let fresh = sandbox.compile(source, limits).unwrap().with_isolation(Isolation::Fresh);
        assert_eq!(idle(&fresh), 0);
        for id in 1..=3 {
            let outcome = fresh.call(format!("{{\"id\": {id}}}").as_bytes(), &request);
            assert_eq!(outcome.result, Ok(serde_json::json!([id, 1])));
            assert_eq!(idle(&fresh), 0);
        }
    }

    #[test]
    fn fresh_instances_of_a_compiled_script_draw_their_own_random_numbers() {
        // The top level draws a number at compile time, so the compiled script's memory holds a
        // seeded generator: each new instance restored from it must be reseeded.
        let (sandbox, limits) = sandbox();
        let source = "const first = Math.random(); function map(p) { return [Math.random(), Math.random()]; }";
        let fresh = sandbox.compile(source, limits).unwrap().with_isolation(Isolation::Fresh);
        assert!(fresh.image.is_some());
        let request = RequestInfo::bare(0);
        let draws: Vec<_> = (0..3).map(|_| fresh.call(b"{}", &request).result.unwrap()).collect();
        assert_ne!(draws[0], draws[1]);
        assert_ne!(draws[1], draws[2]);
        assert_ne!(draws[0], draws[2]);
    }

    #[test]
    fn fresh_calls_take_their_instances_from_the_pool() {
        // A sandbox of its own: no other test's calls hold slots of its pool.
        let (_, limits) = sandbox();
        let sandbox = Sandbox::new(None).expect("the sandbox starts");
        let source = "let n = 0; function map(p) { n += 1; return [p.id, n]; }";
        let fresh = sandbox.compile(source, limits).unwrap().with_isolation(Isolation::Fresh);
        let pooled = sandbox.shared.pooled().expect("the pool starts");
        let request = RequestInfo::bare(0);
        for id in 1..=3 {
            assert_eq!(
                fresh.call(format!("{{\"id\": {id}}}").as_bytes(), &request).result,
                Ok(serde_json::json!([id, 1]))
            );
        }
        assert_eq!(pooled.made(), 3);
        // Every slot taken: fresh calls still run, in instances of the on-demand engine.
        let mut held = Vec::new();
        while let Some(guest) = pooled.instantiate(&limits) {
            held.push(guest.unwrap());
            assert!(held.len() <= super::idle_instances(), "the pool has two slots a core");
        }
        assert_eq!(held.len(), super::idle_instances());
        let made = pooled.made();
        assert_eq!(fresh.call(b"{\"id\": 4}", &request).result, Ok(serde_json::json!([4, 1])));
        assert_eq!(pooled.made(), made);
        // A slot given back is used again.
        held.pop();
        assert_eq!(fresh.call(b"{\"id\": 5}", &request).result, Ok(serde_json::json!([5, 1])));
        assert_eq!(pooled.made(), made + 1);
    }

    #[test]
    fn a_pool_slot_is_free_again_once_its_instance_is_dropped() {
        let (sandbox, limits) = sandbox();
        let pool = super::pooled::Pooled::start(sandbox.shared.pre.module(), 1).expect("the pool starts");
        let first = pool.instantiate(&limits).expect("a free slot").unwrap();
        assert!(pool.instantiate(&limits).is_none(), "one slot, taken");
        drop(first);
        assert!(matches!(pool.instantiate(&limits), Some(Ok(_))));
        // More memory than a slot holds: not from the pool.
        let large = Limits { memory_bytes: 1 << 30, ..limits };
        assert!(pool.instantiate(&large).is_none());
        // A memory limit under the guest's initial memory is the script's error, not a full pool.
        let tiny = Limits { memory_bytes: 1 << 16, ..limits };
        assert!(matches!(pool.instantiate(&tiny), Some(Err(super::ScriptError::MemoryLimit { .. }))));
    }

    #[test]
    fn isolation_is_named_warm_or_fresh() {
        assert_eq!("fresh".parse::<Isolation>(), Ok(Isolation::Fresh));
        assert_eq!("warm".parse::<Isolation>(), Ok(Isolation::Warm));
        assert_eq!("cold".parse::<Isolation>(), Err("expected warm or fresh, found \"cold\"".to_owned()));
        assert_eq!(serde_json::to_value(Isolation::Fresh).unwrap(), serde_json::json!("fresh"));
        assert_eq!(serde_json::from_value::<Isolation>(serde_json::json!("warm")).unwrap(), Isolation::Warm);
    }

    #[test]
    fn limits_are_written_in_milliseconds_and_mib_with_defaults() {
        let read = |json: serde_json::Value| serde_json::from_value::<Limits>(json).map_err(|e| e.to_string());
        assert_eq!(read(serde_json::json!({})), Ok(Limits::default()));
        let limits = read(serde_json::json!({"timeMs": 20})).unwrap();
        assert_eq!(limits, Limits { time: Duration::from_millis(20), memory_bytes: 32 << 20 });
        assert_eq!(serde_json::to_value(limits).unwrap(), serde_json::json!({"timeMs": 20, "memoryMb": 32}));
        assert_eq!(
            read(serde_json::json!({"time": 1})),
            Err("unknown field `time`, expected `timeMs` or `memoryMb`".to_owned())
        );
    }

    fn strings(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn leaves_drop_paths_implied_by_longer_ones_but_not_through_arrays() {
        let paths = strings(&[
            "$['data']['object']['amount']",
            "$['data']",
            "$['data']['object']",
            "$['items']",
            "$['items'][*]['id']",
            "$['id']",
            "$['idx']",
            "$['id']",
        ]);
        assert_eq!(
            leaves(paths),
            strings(&["$['data']['object']['amount']", "$['id']", "$['idx']", "$['items']", "$['items'][*]['id']"])
        );
    }
}
