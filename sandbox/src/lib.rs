//! The hookmap script sandbox guest: boa_engine compiled to `wasm32-wasip1`.
//!
//! The host (hookmap's `runtime` module) runs this module in wasmtime, which enforces the time and
//! memory limits. One instance holds one boa [`Context`] and one compiled mapping script.
//!
//! # ABI
//! Every export is a plain wasm function; data crosses through this instance's linear memory.
//! - `hm_init()`: prepares the realm: creates the boa context, installs `console`, takes the
//!   helpers the payload and the result writer need, and locks the realm down (see [`lock_down`]).
//!   The host runs it once, when it builds its module cache, and snapshots the instance's memory
//!   (wasmtime-wizer), so every instance starts with the realm ready; the snapshot no longer
//!   exports `hm_init`.
//! - `hm_input(len) -> ptr`: makes the input buffer `len` bytes long and returns its address; the
//!   host writes the input there.
//! - `hm_compile(len) -> packed`: the input holds the script source (UTF-8, `len` bytes). Compiles
//!   the script, runs its top level once, checks that it defines `map`, and freezes what the
//!   script added that outlives the call (the function that wraps it).
//! - `hm_call(payload_len, request_len) -> packed`: the input holds the payload JSON followed by the
//!   request JSON. Calls `map(payload, request)` and serialises its result.
//! - `hm_record_reads(on)`: while on, envelopes also list the payload properties read
//!   (`"reads": ["$['a']['b']", ..]`), which the shape check of script mappings uses.
//!
//! `packed` is `(ptr << 32) | len` of the output buffer, which holds one JSON envelope:
//! `{"ok": <result>}` or `{"error": {"kind": ..}}`.
//!
//! Console lines are written to stdout as they are logged, one `[level, text]` JSON array per
//! line, so the host keeps them even when the call traps (a limit, a panic) before its envelope.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::Path;

use boa_engine::builtins::object::OrdinaryObject;
use boa_engine::builtins::proxy::Proxy;
use boa_engine::object::{IntegrityLevel, ObjectInitializer};
use boa_engine::property::{Attribute, PropertyKey};
use boa_engine::value::JsVariant;
use boa_engine::{
    Context, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction, Script, Source, js_string,
};
use serde_json::{Value, json};

mod json;
mod lazy;

/// The name under which the author's script appears in boa's positions and stacks (the host
/// names it for the author: the file's name on the command line, `script` in the server).
const SCRIPT_PATH: &str = "script";
/// Opens the factory that wraps the author's script, on the script's first line.
const PREFIX: &str = "(function(){";
/// Closes the factory: it returns the script's `map` each time it is called.
const SUFFIX: &str = "\n;return typeof map === \"function\" ? map : undefined;})";
/// Console output kept per call (bytes of text); the rest is dropped with a marker line.
const CONSOLE_LIMIT: usize = 64 * 1024;
/// Largest serialised result (approximate bytes) a call may return.
const RESULT_LIMIT: usize = 16 * 1024 * 1024;
/// Deepest nesting of the result (objects and arrays).
const RESULT_DEPTH_LIMIT: usize = 512;

/// Prepares the realm for [`lock_down`]: data properties on the common prototypes that authors
/// override on their own objects (`toString`, `constructor`, `message`, ..) become accessors whose
/// setter defines an own property on the receiver, so that assignment keeps working once the
/// prototypes are frozen (the "override mistake").
const TAME_OVERRIDES: &str = r#"(function () {
  const O = Object, R = Reflect;
  const gopd = O.getOwnPropertyDescriptor, defineProperty = O.defineProperty;
  const freeze = O.freeze, getProto = O.getPrototypeOf, ownKeys = R.ownKeys;
  const overridable = ["constructor", "toString", "valueOf", "toLocaleString", "toJSON",
    "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "name", "message"];
  const protos = [O.prototype, Function.prototype, Array.prototype, Error.prototype,
    TypeError.prototype, RangeError.prototype, SyntaxError.prototype, ReferenceError.prototype,
    EvalError.prototype, URIError.prototype, String.prototype, Number.prototype,
    Boolean.prototype, Date.prototype, RegExp.prototype];
  for (const proto of protos) {
    for (const key of overridable) {
      const d = gopd(proto, key);
      if (!d || !("value" in d) || !d.configurable) continue;
      const value = d.value;
      defineProperty(proto, key, {
        get: function () { return value; },
        set: function (v) {
          if (this === proto) throw new TypeError("Cannot assign to read only property '" + key + "'");
          defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
        },
        enumerable: d.enumerable, configurable: false,
      });
    }
  }
})()"#;

/// An array of the intrinsics that no property path from `globalThis` reaches (iterator and
/// generator prototypes, `%ThrowTypeError%`, ..), so that [`lock_down`] freezes them too.
const HIDDEN_INTRINSICS: &str = r#"(function () {
  const found = [];
  const add = (make) => { try { const o = make(); if (o !== null && o !== undefined) found.push(o); } catch (e) {} };
  const proto = Object.getPrototypeOf;
  add(() => proto([][Symbol.iterator]()));
  add(() => proto(proto([][Symbol.iterator]())));
  add(() => proto(new Map()[Symbol.iterator]()));
  add(() => proto(new Set()[Symbol.iterator]()));
  add(() => proto(""[Symbol.iterator]()));
  add(() => proto(/a/g[Symbol.matchAll]("a")));
  add(() => proto(function* () {}));
  add(() => proto(async function () {}));
  add(() => proto(async function* () {}));
  add(() => proto((function* () {})()));
  add(() => proto((async function* () {})()));
  add(() => proto(proto((async function* () {})())));
  add(() => proto([].values().map((x) => x)));
  add(() => proto(Iterator.from({ next() { return { done: true }; } })));
  add(() => (function () { "use strict"; return Object.getOwnPropertyDescriptor(arguments, "callee").get; })());
  add(() => proto(Promise.resolve()));
  return found;
})()"#;

/// One instance's engine state.
struct Engine {
    /// The boa context: one realm, locked down before any author code runs.
    context: Context,
    /// Every object the lockdown froze, so that freezing what a script adds stops at the realm.
    locked: HashSet<JsObject>,
    /// Calling it runs the script's top level in a fresh scope and returns its `map`; set by
    /// `hm_compile`.
    factory: Option<JsObject>,
}

/// The realm's own functions the result writer uses, taken before the author's code ran.
#[derive(Clone)]
struct WriterHelpers {
    /// `Object.keys`.
    object_keys: JsObject,
    /// `Array.isArray` (true for a Proxy of an array too).
    is_array: JsObject,
}

thread_local! {
    /// The input buffer the host writes into.
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The last output envelope; the host reads it after each call.
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The realm (set by `hm_init`) and the compiled script (set by `hm_compile`).
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    /// See [`WriterHelpers`]; set once per instance.
    static WRITER: RefCell<Option<WriterHelpers>> = const { RefCell::new(None) };
    /// Console lines of the current call.
    static CONSOLE: RefCell<Console> = const { RefCell::new(Console::new()) };
}

/// What one call wrote to the console so far, bounded by [`CONSOLE_LIMIT`].
struct Console {
    /// Bytes of text kept so far.
    bytes: usize,
    /// Whether a line was dropped.
    truncated: bool,
}

impl Console {
    /// An empty console.
    const fn new() -> Self {
        Self { bytes: 0, truncated: false }
    }

    /// Writes one line to stdout, or drops it once the limit is reached.
    fn push(&mut self, level: &str, text: String) {
        if self.truncated {
            return;
        }
        if self.bytes + text.len() > CONSOLE_LIMIT {
            self.truncated = true;
            let note = format!("console output truncated at {} KiB", CONSOLE_LIMIT / 1024);
            write_console_line("warn", &note);
            return;
        }
        self.bytes += text.len();
        write_console_line(level, &text);
    }
}

/// Writes `[level, text]` and a newline to stdout, where the host collects console lines.
fn write_console_line(level: &str, text: &str) {
    use std::io::Write;
    let Ok(mut record) = serde_json::to_vec(&json!([level, text])) else {
        return;
    };
    record.push(b'\n');
    let mut stdout = std::io::stdout().lock();
    // The host's stdout cannot fail; a line it could not take is dropped like any over the limit.
    let _ = stdout.write_all(&record).and_then(|()| stdout.flush());
}

/// Prepares the realm; see the crate docs. A failure here is a bug in the guest, not something a
/// script can cause: it aborts (a trap), and the host reports that it cannot build the module.
#[unsafe(no_mangle)]
pub extern "C" fn hm_init() {
    match prepare_realm() {
        Ok(engine) => ENGINE.with_borrow_mut(|slot| *slot = Some(engine)),
        Err(e) => {
            eprintln!("cannot prepare the realm: {e}");
            std::process::abort();
        }
    }
}

/// Makes the input buffer `len` bytes long and returns its address.
#[unsafe(no_mangle)]
pub extern "C" fn hm_input(len: u32) -> u32 {
    INPUT.with_borrow_mut(|input| {
        input.clear();
        input.resize(len as usize, 0);
        input.as_mut_ptr() as usize as u32
    })
}

/// Compiles the script held in the input buffer; see the crate docs.
#[unsafe(no_mangle)]
pub extern "C" fn hm_compile(len: u32) -> u64 {
    let source = INPUT.with_borrow_mut(|input| {
        input.truncate(len as usize);
        std::mem::take(input)
    });
    let outcome = match String::from_utf8(source) {
        Ok(source) => compile(&source),
        Err(_) => Err(json!({"kind": "input", "message": "the script is not UTF-8"})),
    };
    finish(outcome.map(|()| b"null".to_vec()))
}

/// Calls `map` on the payload and request held in the input buffer; see the crate docs.
#[unsafe(no_mangle)]
pub extern "C" fn hm_call(payload_len: u32, request_len: u32) -> u64 {
    let outcome = INPUT.with_borrow(|input| {
        let payload_end = payload_len as usize;
        let request_end = payload_end + request_len as usize;
        match (input.get(..payload_end), input.get(payload_end..request_end)) {
            (Some(payload), Some(request)) => call(payload, request),
            _ => Err(json!({"kind": "input", "message": "input lengths out of range"})),
        }
    });
    finish(outcome)
}

/// Reseeds the generator behind `Math.random` from the host's entropy. An instance whose memory
/// was restored from another instance's (a fresh instance of a compiled script) would otherwise
/// repeat that instance's sequence.
#[unsafe(no_mangle)]
pub extern "C" fn hm_reseed() {
    // The generator is seeded from the host's `random_get`, which does not fail.
    let _ = rand::rng().reseed();
}

/// Turns recording of the payload properties read on (`1`) or off (`0`) for the next calls.
#[unsafe(no_mangle)]
pub extern "C" fn hm_record_reads(on: u32) {
    lazy::record_reads(on != 0);
}

/// Writes the envelope for `outcome` (the result as JSON text, or the error) and, while
/// recording, the payload properties read, to the output buffer.
fn finish(outcome: Result<Vec<u8>, Value>) -> u64 {
    CONSOLE.with_borrow_mut(|console| *console = Console::new());
    let reads = lazy::take_reads();
    OUTPUT.with_borrow_mut(|output| {
        output.clear();
        let written = (|| -> serde_json::Result<()> {
            match &outcome {
                Ok(result) => {
                    output.extend_from_slice(br#"{"ok":"#);
                    output.extend_from_slice(result);
                }
                Err(error) => {
                    output.extend_from_slice(br#"{"error":"#);
                    serde_json::to_writer(&mut *output, error)?;
                }
            }
            if let Some(reads) = &reads {
                output.extend_from_slice(br#","reads":"#);
                serde_json::to_writer(&mut *output, reads)?;
            }
            output.push(b'}');
            Ok(())
        })();
        if written.is_err() {
            output.clear();
            output.extend_from_slice(br#"{"error":{"kind":"internal","message":"cannot write the result"}}"#);
        }
        ((output.as_ptr() as usize as u64) << 32) | output.len() as u64
    })
}

/// Creates the context with `console`, the helpers the payload and the result writer need, and
/// locks the realm down: the state every instance starts from.
fn prepare_realm() -> JsResult<Engine> {
    let mut context = Context::default();
    install_console(&mut context)?;
    let object_keys = context
        .intrinsics()
        .constructors()
        .object()
        .constructor()
        .get(js_string!("keys"), &mut context)?
        .as_object()
        .ok_or_else(|| JsNativeError::typ().with_message("Object.keys is missing"))?;
    let is_array = context
        .intrinsics()
        .constructors()
        .array()
        .constructor()
        .get(js_string!("isArray"), &mut context)?
        .as_object()
        .ok_or_else(|| JsNativeError::typ().with_message("Array.isArray is missing"))?;
    WRITER.with_borrow_mut(|w| *w = Some(WriterHelpers { object_keys, is_array }));
    lazy::install(&mut context)?;
    let mut locked = HashSet::new();
    lock_down(&mut context, &mut locked)?;
    Ok(Engine { context, locked, factory: None })
}

/// Compiles `source` in the prepared realm and runs its top level once.
fn compile(source: &str) -> Result<(), Value> {
    ENGINE.with_borrow_mut(|engine| {
        let Some(engine) = engine else {
            return Err(json!({"kind": "internal", "message": "the realm is not prepared (hm_init)"}));
        };
        let context = &mut engine.context;
        let wrapped = format!("{PREFIX}{source}{SUFFIX}");
        let script =
            Script::parse(Source::from_bytes(wrapped.as_bytes()).with_path(Path::new(SCRIPT_PATH)), None, context)
                .map_err(|e| syntax_error(&e, source))?;
        let factory = script
            .evaluate(context)
            .map_err(|e| exception(e, context))?
            .as_object()
            .ok_or_else(|| json!({"kind": "internal", "message": "the script wrapper is not a function"}))?;
        // Run the top level once now, so its errors and a missing `map` are compile errors.
        let map = factory.call(&JsValue::undefined(), &[], context).map_err(|e| exception(e, context))?;
        if !map.is_callable() {
            return Err(json!({"kind": "missing_map"}));
        }
        // The factory is the one object of the script that outlives a call (sloppy code reaches
        // it as `arguments.callee`): freeze it, and whatever the top level hung on it.
        freeze_reachable(vec![factory.clone()], &mut engine.locked, context)
            .map_err(|e| json!({"kind": "internal", "message": e.to_string()}))?;
        engine.factory = Some(factory);
        Ok(())
    })
}

/// Makes every object reachable from `globalThis` immutable, before any author code runs: its own
/// properties, their values, getters and setters, and its prototype chain. The frozen objects are
/// recorded in `locked`.
fn lock_down(context: &mut Context, locked: &mut HashSet<JsObject>) -> JsResult<()> {
    context.eval(Source::from_bytes(TAME_OVERRIDES))?;
    let mut roots = vec![context.global_object()];
    let hidden = context.eval(Source::from_bytes(HIDDEN_INTRINSICS))?;
    if let Some(hidden) = hidden.as_object() {
        roots.push(hidden);
    }
    freeze_reachable(roots, locked, context)
}

/// Freezes `roots` and every object reachable from them through properties (values, getters,
/// setters) and prototypes, except those in `locked` (already frozen), and adds them to it.
/// Done natively: the same walk in JavaScript costs tens of milliseconds.
fn freeze_reachable(roots: Vec<JsObject>, locked: &mut HashSet<JsObject>, context: &mut Context) -> JsResult<()> {
    let mut todo = roots;
    while let Some(object) = todo.pop() {
        if !locked.insert(object.clone()) {
            continue;
        }
        if let Some(prototype) = object.prototype() {
            todo.push(prototype);
        }
        for key in object.own_property_keys(context)? {
            let descriptor = object.borrow().properties().get(&key);
            let Some(descriptor) = descriptor else {
                continue;
            };
            for value in [descriptor.value(), descriptor.get(), descriptor.set()].into_iter().flatten() {
                if let Some(inner) = value.as_object() {
                    todo.push(inner);
                }
            }
        }
        object.set_integrity_level(IntegrityLevel::Frozen, context)?;
    }
    Ok(())
}

/// Defines `console` with `log`, `info`, `warn`, `error` and `debug`, captured per call.
fn install_console(context: &mut Context) -> JsResult<()> {
    let console = ObjectInitializer::new(context)
        .function(NativeFunction::from_fn_ptr(console_log), js_string!("log"), 0)
        .function(NativeFunction::from_fn_ptr(console_info), js_string!("info"), 0)
        .function(NativeFunction::from_fn_ptr(console_warn), js_string!("warn"), 0)
        .function(NativeFunction::from_fn_ptr(console_error), js_string!("error"), 0)
        .function(NativeFunction::from_fn_ptr(console_debug), js_string!("debug"), 0)
        .build();
    context.register_global_property(js_string!("console"), console, Attribute::all())?;
    Ok(())
}

/// `console.log`.
fn console_log(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    console_line("log", args, context)
}
/// `console.info`.
fn console_info(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    console_line("info", args, context)
}
/// `console.warn`.
fn console_warn(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    console_line("warn", args, context)
}
/// `console.error`.
fn console_error(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    console_line("error", args, context)
}
/// `console.debug`.
fn console_debug(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    console_line("debug", args, context)
}

/// Formats `args` like a browser console (strings as they are, the rest as JSON) and records them.
fn console_line(level: &str, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let full = CONSOLE.with_borrow(|c| c.truncated);
    if !full {
        let mut text = String::new();
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(&describe(arg, context));
            if text.len() > CONSOLE_LIMIT {
                break;
            }
        }
        CONSOLE.with_borrow_mut(|c| c.push(level, text));
    }
    Ok(JsValue::undefined())
}

/// A short, readable text for any value: strings as they are, JSON-able values as JSON.
fn describe(value: &JsValue, context: &mut Context) -> String {
    if let Some(s) = value.as_string() {
        return s.to_std_string_escaped();
    }
    if value.is_callable() {
        return "[function]".to_owned();
    }
    if value.is_object() {
        // Through [[Get]], so lazy payload objects and getters show their properties.
        return match write_json(value, context) {
            Ok(json) => String::from_utf8(json).unwrap_or_else(|_| value.display().to_string()),
            Err(_) => value.display().to_string(),
        };
    }
    match value.to_json(context) {
        Ok(Some(json)) => json.to_string(),
        Ok(None) => "undefined".to_owned(),
        Err(_) => value.display().to_string(),
    }
}

/// Runs `map` on one event.
fn call(payload: &[u8], request: &[u8]) -> Result<Vec<u8>, Value> {
    ENGINE.with_borrow_mut(|engine| {
        let Some(Engine { context, factory: Some(factory), .. }) = engine else {
            return Err(json!({"kind": "internal", "message": "no script is compiled"}));
        };
        let internal = |e: JsError| json!({"kind": "internal", "message": e.to_string()});
        let documents = lazy::documents([("payload", payload), ("request", request)], context);
        let [payload, request] = match documents {
            Ok(documents) => documents,
            Err(Ok(message)) => return Err(json!({"kind": "input", "message": message})),
            Err(Err(e)) => {
                lazy::release();
                return Err(internal(e));
            }
        };
        let outcome = run_map(factory, payload, request, context);
        lazy::release();
        outcome
    })
}

/// Calls the factory (a fresh top-level scope), then `map`, then writes the result.
fn run_map(factory: &JsObject, payload: JsValue, request: JsValue, context: &mut Context) -> Result<Vec<u8>, Value> {
    let map = factory.call(&JsValue::undefined(), &[], context).map_err(|e| exception(e, context))?;
    let Some(map) = map.as_object().filter(|m| m.is_callable()) else {
        return Err(json!({"kind": "missing_map"}));
    };
    let result = map.call(&JsValue::undefined(), &[payload, request], context).map_err(|e| exception(e, context))?;
    if result.is_undefined() {
        return Err(json!({"kind": "returned", "what": "undefined"}));
    }
    if result.as_object().is_some_and(|o| o.is::<boa_engine::builtins::promise::Promise>()) {
        return Err(json!({"kind": "returned", "what": "Promise"}));
    }
    write_json(&result, context)
}

/// Writes `value` as JSON text through `[[Get]]`; see [`ResultWriter`].
fn write_json(value: &JsValue, context: &mut Context) -> Result<Vec<u8>, Value> {
    let Some(helpers) = WRITER.with_borrow(Clone::clone) else {
        return Err(json!({"kind": "internal", "message": "the result writer is not set up"}));
    };
    let mut writer = ResultWriter {
        object_keys: &helpers.object_keys,
        is_array: &helpers.is_array,
        ancestors: Vec::new(),
        size: 0,
        out: Vec::new(),
    };
    let mut path = String::from("result");
    writer.write(value, &mut path, context)?;
    Ok(writer.out)
}

/// Serialises a script result to JSON text through the object's own `[[Get]]`, so getters and
/// Proxy traps run inside the sandbox, and says what and where any non-JSON value is. Written
/// straight to text: building a `serde_json::Value` first cost as much again.
struct ResultWriter<'a> {
    /// `Object.keys`, which lists enumerable own string keys (through Proxy traps).
    object_keys: &'a JsObject,
    /// `Array.isArray`.
    is_array: &'a JsObject,
    /// Objects being written, outermost first, to find cycles.
    ancestors: Vec<JsObject>,
    /// Approximate bytes written so far.
    size: usize,
    /// The JSON text written so far (discarded on an error).
    out: Vec<u8>,
}

impl ResultWriter<'_> {
    /// Writes `value` found at `path`.
    fn write(&mut self, value: &JsValue, path: &mut String, context: &mut Context) -> Result<(), Value> {
        let not_json = |what: &str, path: &str| json!({"kind": "not_json", "what": what, "path": path});
        self.size += 8;
        if self.size > RESULT_LIMIT {
            return Err(json!({"kind": "result_too_large", "limit": RESULT_LIMIT}));
        }
        match value.variant() {
            JsVariant::Null => self.out.extend_from_slice(b"null"),
            JsVariant::Undefined => return Err(not_json("undefined", path)),
            JsVariant::Boolean(true) => self.out.extend_from_slice(b"true"),
            JsVariant::Boolean(false) => self.out.extend_from_slice(b"false"),
            JsVariant::Integer32(i) => serde_json::to_writer(&mut self.out, &i).map_err(|e| write_error(&e))?,
            JsVariant::Float64(f) => serde_json::to_writer(&mut self.out, &number(f)).map_err(|e| write_error(&e))?,
            JsVariant::String(s) => {
                self.size += s.len();
                if self.size > RESULT_LIMIT {
                    return Err(json!({"kind": "result_too_large", "limit": RESULT_LIMIT}));
                }
                self.string(&s.to_std_string_escaped())?;
            }
            JsVariant::BigInt(_) => return Err(not_json("BigInt", path)),
            JsVariant::Symbol(_) => return Err(not_json("Symbol", path)),
            JsVariant::Object(object) => {
                if object.is_callable() {
                    return Err(not_json("function", path));
                }
                if self.ancestors.iter().any(|a| JsObject::equals(a, &object)) {
                    return Err(not_json("cycle", path));
                }
                if self.ancestors.len() >= RESULT_DEPTH_LIMIT {
                    return Err(not_json("too deeply nested", path));
                }
                self.ancestors.push(object.clone());
                let written = self.write_object(&object, path, context);
                self.ancestors.pop();
                written?;
            }
        }
        Ok(())
    }

    /// Appends `text` as a JSON string (with JSON's escapes).
    fn string(&mut self, text: &str) -> Result<(), Value> {
        serde_json::to_writer(&mut self.out, text).map_err(|e| write_error(&e))
    }

    /// Writes `value` as the property `name` of the object being written, after a comma unless
    /// it is the `first`; leaves undefined values out, as `JSON.stringify` does.
    fn member(
        &mut self,
        name: &str,
        value: &JsValue,
        first: &mut bool,
        path: &mut String,
        context: &mut Context,
    ) -> Result<(), Value> {
        self.size += name.len();
        if value.is_undefined() {
            return Ok(());
        }
        if !std::mem::take(first) {
            self.out.push(b',');
        }
        self.string(name)?;
        self.out.push(b':');
        let base = path.len();
        push_key(path, name);
        let written = self.write(value, path, context);
        path.truncate(base);
        written
    }

    /// Writes an object or array (`toJSON` is honoured, as `JSON.stringify` does).
    fn write_object(&mut self, object: &JsObject, path: &mut String, context: &mut Context) -> Result<(), Value> {
        let thrown = |e: JsError, context: &mut Context| exception(e, context);
        let to_json = object.get(js_string!("toJSON"), context).map_err(|e| thrown(e, context))?;
        if let Some(to_json) = to_json.as_object().filter(|f| f.is_callable()) {
            let replaced = to_json
                .call(&JsValue::from(object.clone()), &[JsValue::from(js_string!(""))], context)
                .map_err(|e| thrown(e, context))?;
            if let JsVariant::Object(inner) = replaced.variant()
                && JsObject::equals(&inner, object)
            {
                // `toJSON` returned its receiver: write its properties.
            } else {
                return self.write(&replaced, path, context);
            }
        }
        let base = path.len();
        let proxy = object.is::<Proxy>();
        let array = object.is_array()
            || proxy
                && self
                    .is_array
                    .call(&JsValue::undefined(), &[JsValue::from(object.clone())], context)
                    .map_err(|e| thrown(e, context))?
                    .to_boolean();
        if array {
            let len = object
                .get(js_string!("length"), context)
                .and_then(|l| l.to_length(context))
                .map_err(|e| thrown(e, context))?;
            self.out.push(b'[');
            for index in 0..len {
                let item = object.get(PropertyKey::from(index), context).map_err(|e| thrown(e, context))?;
                if index > 0 {
                    self.out.push(b',');
                }
                // Like JSON.stringify, undefined and functions in arrays become null.
                if item.is_undefined() || item.is_callable() {
                    self.size += 8;
                    self.out.extend_from_slice(b"null");
                    continue;
                }
                path.push_str(&format!("[{index}]"));
                let written = self.write(&item, path, context);
                path.truncate(base);
                written?;
            }
            self.out.push(b']');
            return Ok(());
        }
        if object.is::<OrdinaryObject>() {
            return self.write_ordinary(object, path, context);
        }
        let keys = self
            .object_keys
            .call(&JsValue::undefined(), &[JsValue::from(object.clone())], context)
            .map_err(|e| thrown(e, context))?;
        let keys = keys
            .as_object()
            .ok_or_else(|| json!({"kind": "internal", "message": "Object.keys did not return an array"}))?;
        let count = keys
            .get(js_string!("length"), context)
            .and_then(|l| l.to_length(context))
            .map_err(|e| thrown(e, context))?;
        self.out.push(b'{');
        let mut first = true;
        for index in 0..count {
            let key = keys.get(PropertyKey::from(index), context).map_err(|e| thrown(e, context))?;
            let Some(key) = key.as_string() else { continue };
            let item = object.get(key.clone(), context).map_err(|e| thrown(e, context))?;
            let name = key.to_std_string_escaped();
            self.member(&name, &item, &mut first, path, context)?;
        }
        self.out.push(b'}');
        Ok(())
    }

    /// Writes a plain object: its enumerable own string keys, read without calling `Object.keys`.
    fn write_ordinary(&mut self, object: &JsObject, path: &mut String, context: &mut Context) -> Result<(), Value> {
        let thrown = |e: JsError, context: &mut Context| exception(e, context);
        let keys = object.own_property_keys(context).map_err(|e| thrown(e, context))?;
        self.out.push(b'{');
        let mut first = true;
        for key in keys {
            let name = match &key {
                PropertyKey::String(s) => s.to_std_string_escaped(),
                PropertyKey::Index(i) => i.get().to_string(),
                PropertyKey::Symbol(_) => continue,
            };
            // A getter may have deleted it meanwhile: then it is left out, as JSON.stringify does.
            let enumerable = object.borrow().properties().get(&key).and_then(|d| d.enumerable());
            if enumerable != Some(true) {
                continue;
            }
            let item = object.get(key, context).map_err(|e| thrown(e, context))?;
            self.member(&name, &item, &mut first, path, context)?;
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// The envelope error for a result that cannot be written as text (not expected: the writer
/// writes to memory).
fn write_error(error: &serde_json::Error) -> Value {
    json!({"kind": "internal", "message": format!("cannot write the result: {error}")})
}

/// A JSON number for `f` as `JSON.stringify` writes it: integral values without a fraction,
/// non-finite values as `null`.
fn number(f: f64) -> Value {
    const SAFE: f64 = 9_007_199_254_740_992.0; // 2^53
    if f.fract() == 0.0 && f.abs() < SAFE {
        return Value::from(f as i64);
    }
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Appends `.name`, or `["name"]` when `name` is not an identifier, to `path`.
fn push_key(path: &mut String, name: &str) {
    let identifier = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if identifier {
        path.push('.');
        path.push_str(name);
    } else {
        path.push_str(&format!("[{}]", Value::String(name.to_owned())));
    }
}

/// The envelope error for a syntax error in the author's `source`.
fn syntax_error(error: &JsError, source: &str) -> Value {
    let text = error.as_native().map_or_else(|| error.to_string(), |native| native.message().to_owned());
    let (message, line, column) = match text.rsplit_once(" at line ") {
        Some((message, position)) => {
            let mut parts = position.split(", col ");
            let line = parts.next().and_then(|l| l.trim().parse::<u32>().ok());
            let column = parts.next().and_then(|c| c.trim().parse::<u32>().ok());
            (message.to_owned(), line, column)
        }
        None => (text.clone(), None, None),
    };
    // The source's last line in the wrapped text; what lies beyond is the wrapper's own suffix.
    let last_line = source.split('\n').count() as u32;
    let end = || {
        let line = source.lines().count().max(1) as u32;
        let column = source.lines().last().map_or(0, |l| l.chars().count()) as u32 + 1;
        (line, column)
    };
    match (line, column) {
        (Some(line), Some(column)) if line <= last_line => {
            let (line, column) = unwrap_position(line, column);
            json!({"kind": "syntax", "message": message, "line": line, "column": column})
        }
        // "abrupt end", or a token of the wrapper's suffix: the source ended before a construct
        // was closed; point just past its last character.
        _ => {
            let (line, column) = end();
            let message = "unexpected end of script: a `}`, `)` or `]` is missing";
            json!({"kind": "syntax", "message": message, "line": line, "column": column})
        }
    }
}

/// Maps a position in the wrapped source back to the author's source.
fn unwrap_position(line: u32, column: u32) -> (u32, u32) {
    if line == 1 { (1, column.saturating_sub(PREFIX.len() as u32).max(1)) } else { (line, column) }
}

/// The envelope error for an uncaught exception (or an engine limit).
fn exception(error: JsError, context: &mut Context) -> Value {
    if let Some(engine) = error.as_engine() {
        let kind = match engine {
            boa_engine::error::EngineError::RuntimeLimit(_) => "stack_overflow",
            _ => "internal",
        };
        return json!({"kind": kind, "message": engine.to_string()});
    }
    let display = error.to_string();
    let message = match error.as_opaque() {
        Some(value) => thrown_message(&value.clone(), context),
        None => error
            .as_native()
            .map_or_else(|| display.clone(), |native| format!("{}: {}", native.kind(), native.message())),
    };
    // The display ends with the backtrace: "\n    at name (script:line:column)" lines.
    let mut frames = Vec::new();
    for line in display.lines().rev() {
        match line.strip_prefix("    at ") {
            Some(frame) => frames.push(stack_frame(frame)),
            None => break,
        }
    }
    frames.reverse();
    let position = frames.iter().find_map(|(_, position)| *position);
    let frames: Vec<Value> = frames
        .into_iter()
        .map(|(function, position)| json!([function, position.map(|p| p.0), position.map(|p| p.1)]))
        .collect();
    json!({
        "kind": "exception",
        "message": message,
        "line": position.map(|p| p.0),
        "column": position.map(|p| p.1),
        "frames": frames,
    })
}

/// The message of a thrown value: `Name: message` for errors, the text of strings, JSON for the rest.
fn thrown_message(value: &JsValue, context: &mut Context) -> String {
    if let Some(object) = value.as_object()
        && object.is::<boa_engine::builtins::error::Error>()
    {
        let text = |key: JsString, context: &mut Context| {
            object
                .get(key, context)
                .ok()
                .filter(|v| !v.is_undefined())
                .and_then(|v| v.to_string(context).ok())
                .map(|s| s.to_std_string_escaped())
                .unwrap_or_default()
        };
        let name = text(js_string!("name"), context);
        let message = text(js_string!("message"), context);
        return match (name.is_empty(), message.is_empty()) {
            (false, false) => format!("{name}: {message}"),
            (false, true) => name,
            (true, _) => message,
        };
    }
    let text = describe(value, context);
    if value.is_string() { text } else { format!("uncaught {text}") }
}

/// A frame of boa's backtrace (`name (script:line:column)`): the function's name and its
/// position in the author's source, or the whole text and no position.
fn stack_frame(frame: &str) -> (String, Option<(u32, u32)>) {
    let marker = format!("({SCRIPT_PATH}:");
    let Some(start) = frame.rfind(&marker) else {
        return (frame.to_owned(), None);
    };
    let Some((line, column)) = frame_position(&frame[start..]) else {
        return (frame.to_owned(), None);
    };
    let name = frame[..start].trim_end();
    // The factory that wraps the author's script is an anonymous function too, so anonymous
    // frames keep boa's name; only the script's own top level is renamed.
    let name = if name == "<main>" { "<top level>" } else { name };
    (name.to_owned(), Some(unwrap_position(line, column)))
}

/// The `line:column` in a frame text (`name (script:line:column)`).
fn frame_position(frame: &str) -> Option<(u32, u32)> {
    let marker = format!("({SCRIPT_PATH}:");
    let start = frame.find(&marker)? + marker.len();
    let inner = frame[start..].strip_suffix(')')?;
    let (line, column) = inner.split_once(':')?;
    Some((line.parse().ok()?, column.parse().ok()?))
}
