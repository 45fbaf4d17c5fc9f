//! The JavaScript sandbox: the script contract, the errors an author sees, limits, hostile scripts,
//! isolation between events and the module cache.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hookmap::runtime::{
    ConsoleLine, Isolation, Limits, ModuleSource, RequestInfo, Sandbox, SandboxConfig, Script, ScriptError,
    ScriptOutcome,
};
use serde_json::{Value, json};

/// The module cache shared by the tests (kept between runs, so only the first run compiles).
fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hookmap-module-cache")
}

/// The shared module cache with the module in it (compiled by the first caller).
pub fn warm_cache_dir() -> PathBuf {
    sandbox();
    cache_dir()
}

/// One sandbox for the whole test binary, as in the server.
fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| match Sandbox::new(Some(&cache_dir())) {
        Ok(sandbox) => sandbox,
        Err(e) => panic!("the sandbox does not start: {e}"),
    })
}

/// Compiles `source` with the default limits, failing the test on an error.
fn script(source: &str) -> Script {
    script_with(source, Limits::default())
}

/// Compiles `source` with `limits`, failing the test on an error.
fn script_with(source: &str, limits: Limits) -> Script {
    match sandbox().compile(source, limits) {
        Ok(script) => script,
        Err(e) => panic!("does not compile: {e}\n{source}"),
    }
}

/// A request as the ingest listener would build it.
fn request() -> RequestInfo {
    RequestInfo {
        method: "POST".into(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-tag".into(), "a".into()),
            ("x-tag".into(), "b".into()),
        ],
        query: vec![("source".into(), "stripe".into()), ("source".into(), "ignored".into())],
        received_at: "2026-11-29T09:40:00Z".into(),
    }
}

/// Calls `script` on `payload`.
fn call(script: &Script, payload: Value) -> ScriptOutcome {
    script.call(payload.to_string().as_bytes(), &request())
}

/// The result of a call that must succeed.
fn ok(script: &Script, payload: Value) -> Value {
    match call(script, payload).result {
        Ok(value) => value,
        Err(e) => panic!("the call failed: {e}"),
    }
}

/// The error of a call that must fail.
fn err(script: &Script, payload: Value) -> ScriptError {
    match call(script, payload).result {
        Ok(value) => panic!("the call succeeded with {value}"),
        Err(e) => e,
    }
}

/// Runs a hostile `map` body: the call must fail as `check` says, within twice the time limit,
/// and the same script and another script must work afterwards.
///
/// The time limit is 200 ms rather than the default 50 ms: the test machine's cores are shared,
/// and a scheduling delay of a few tens of milliseconds must not fail the 2x check.
fn hostile(body: &str, check: impl Fn(&ScriptError) -> bool) {
    let limits = Limits { time: HOSTILE_TIME, ..Limits::default() };
    hostile_with(limits, body, check);
}

/// The time limit of [`hostile`] scripts.
const HOSTILE_TIME: Duration = Duration::from_millis(200);

/// [`hostile`] with a longer time limit, for scripts that must hit the memory limit first.
fn hostile_memory(body: &str, check: impl Fn(&ScriptError) -> bool) {
    hostile_with(Limits { time: Duration::from_secs(2), ..Limits::default() }, body, check);
}

/// [`hostile`] with `limits`.
fn hostile_with(limits: Limits, body: &str, check: impl Fn(&ScriptError) -> bool) {
    let source =
        format!("function map(payload, request) {{ if (payload.hostile) {{ {body} }} return {{ fine: true }}; }}");
    let hostile = script_with(&source, limits);
    let started = Instant::now();
    let outcome = call(&hostile, json!({"hostile": true}));
    let elapsed = started.elapsed();
    let error = match outcome.result {
        Ok(value) => panic!("`{body}` succeeded with {value}"),
        Err(e) => e,
    };
    assert!(check(&error), "`{body}` failed with an unexpected error: {error:?}");
    assert!(elapsed < limits.time * 2, "`{body}` took {elapsed:?}, more than twice {:?}", limits.time);
    assert_eq!(ok(&hostile, json!({"hostile": false})), json!({"fine": true}), "after `{body}`");
    let other = script("function map(p) { return { other: p.n + 1 }; }");
    assert_eq!(ok(&other, json!({"n": 1})), json!({"other": 2}), "another script after `{body}`");
}

fn is_time_limit(e: &ScriptError) -> bool {
    matches!(e, ScriptError::TimeLimit { limit } if *limit == HOSTILE_TIME)
        && e.to_string() == "time limit of 200 ms exceeded"
}

fn is_memory_limit(e: &ScriptError) -> bool {
    matches!(e, ScriptError::MemoryLimit { .. }) && e.to_string() == "memory limit of 32 MiB exceeded"
}

fn is_stack_overflow(e: &ScriptError) -> bool {
    matches!(e, ScriptError::StackOverflow)
}

// --- the script contract ---

#[test]
fn maps_a_payload_to_the_target_shape() {
    let script = script(
        r#"function map(payload, request) {
             return { payload: { target: { usersById: [payload.userId] }, detail: { firstName: payload.first } } };
           }"#,
    );
    let result = ok(&script, json!({"userId": "u_1", "first": "Ada"}));
    assert_eq!(result, json!({"payload": {"target": {"usersById": ["u_1"]}, "detail": {"firstName": "Ada"}}}));
}

#[test]
fn the_request_object_has_method_headers_query_and_time() {
    let script = script("function map(payload, request) { return request; }");
    let result = ok(&script, json!({}));
    assert_eq!(
        result,
        json!({
            "method": "POST",
            "headers": {"content-type": "application/json", "x-tag": "a, b"},
            "query": {"source": "stripe"},
            "receivedAt": "2026-11-29T09:40:00Z",
        })
    );
}

#[test]
fn results_keep_key_order_and_honour_to_json() {
    let script = script(
        "function map(p) { return { z: 1, a: [1, 'two', null, true], d: new Date(0), nested: { toJSON() { return 'x'; } } }; }",
    );
    let result = ok(&script, json!({}));
    assert_eq!(
        serde_json::to_string(&result).unwrap_or_default(),
        r#"{"z":1,"a":[1,"two",null,true],"d":"1970-01-01T00:00:00.000Z","nested":"x"}"#
    );
}

#[test]
fn console_output_is_returned_with_results_and_errors() {
    let script = script(
        r#"function map(p) {
             console.log("hello", 42, { a: [1, 2] });
             console.warn("careful");
             console.error("bad");
             console.info("fyi");
             if (p.fail) throw new Error("no");
             return null;
           }"#,
    );
    let outcome = call(&script, json!({}));
    assert_eq!(outcome.result, Ok(Value::Null));
    let line = |level: &str, text: &str| ConsoleLine { level: level.into(), text: text.into() };
    assert_eq!(
        outcome.console,
        vec![
            line("log", r#"hello 42 {"a":[1,2]}"#),
            line("warn", "careful"),
            line("error", "bad"),
            line("info", "fyi")
        ]
    );
    let failed = call(&script, json!({"fail": true}));
    assert!(failed.result.is_err());
    assert_eq!(failed.console.len(), 4, "{:?}", failed.console);
}

#[test]
fn console_output_is_bounded() {
    let limits = Limits { time: Duration::from_secs(2), ..Limits::default() };
    let script = script_with(
        "function map(p) { for (let i = 0; i < 1000; i++) console.log('x'.repeat(100)); return 1; }",
        limits,
    );
    let outcome = call(&script, json!({}));
    assert_eq!(outcome.result, Ok(json!(1)));
    let bytes: usize = outcome.console.iter().map(|l| l.text.len()).sum();
    assert!(bytes <= 64 * 1024 + 100, "{bytes} bytes of console output");
    let last = outcome.console.last().map(|l| l.text.clone()).unwrap_or_default();
    assert!(last.contains("truncated"), "{last}");
}

// --- errors an author sees ---

#[test]
fn syntax_errors_have_line_column_and_a_caret() {
    let source = "function map(p) {\n  const x = 1;\n  return { a: x + };\n}";
    let error = match sandbox().compile(source, Limits::default()) {
        Ok(_) => panic!("compiled"),
        Err(e) => e,
    };
    let ScriptError::Syntax { line, column, source_line, .. } = &error else { panic!("{error:?}") };
    assert_eq!((*line, source_line.as_str()), (3, "  return { a: x + };"));
    assert_eq!(*column, 19, "{error}");
    let text = error.to_string();
    assert!(text.contains("3 |   return { a: x + };\n  |                   ^"), "{text}");
}

#[test]
fn syntax_errors_on_the_first_line_point_into_the_author_source() {
    let error = match sandbox().compile("function map(p) { return ) }", Limits::default()) {
        Ok(_) => panic!("compiled"),
        Err(e) => e,
    };
    assert!(matches!(error, ScriptError::Syntax { line: 1, column: 26, .. }), "{error:?}");
}

#[test]
fn a_script_without_map_is_refused() {
    let error = sandbox().compile("function mapp(p) { return p; }", Limits::default()).err();
    assert_eq!(error, Some(ScriptError::MissingMap));
}

#[test]
fn exceptions_have_message_line_column_and_stack() {
    let script =
        script("function helper(v) {\n  return v.missing.deeper;\n}\nfunction map(p) {\n  return helper(p);\n}");
    let error = err(&script, json!({}));
    let ScriptError::Exception { message, line, column, stack } = &error else { panic!("{error:?}") };
    assert!(message.starts_with("TypeError"), "{message}");
    assert_eq!((*line, *column), (Some(2), Some(20)), "{error}");
    let frames: Vec<(&str, Option<u32>)> =
        stack.iter().map(|f| (f.function.as_str(), f.position.map(|p| p.0))).collect();
    assert_eq!(frames, [("helper", Some(2)), ("map", Some(5))], "{stack:?}");
    // The server's name for a script is `script`; the CLI gives the file's name instead.
    assert!(error.to_string().contains("\n    at helper (script:2:"), "{error}");
    assert!(error.named("orders.js").to_string().contains("\n    at map (orders.js:5:"), "{error}");
    assert!(!error.named("orders.js").to_string().contains("script:"), "{error}");
}

#[test]
fn contract_mistakes_are_named() {
    let async_map = script("async function map(p) {\n  return { payload: { target: { usersById: [p.id] } } };\n}");
    let error = err(&async_map, json!({"id": "u1"}));
    assert_eq!(error, ScriptError::ReturnedPromise);
    assert!(error.to_string().starts_with("map() returned a Promise; mappings are synchronous"), "{error}");

    let no_return = script("function map(p) {\n  const out = { payload: { target: { usersById: [p.id] } } };\n}");
    let error = err(&no_return, json!({"id": "u1"}));
    assert_eq!(error.to_string(), "map() returned undefined; return {payload: {…}} or null to skip");

    let module = sandbox().compile("// orders\nexport function map(p) {\n  return p;\n}\n", Limits::default()).err();
    let Some(error @ ScriptError::ModuleSyntax { keyword, line: 2, column: 1, .. }) = &module else {
        panic!("{module:?}")
    };
    assert_eq!(keyword, "export");
    assert!(error.to_string().contains("define a global `function map(payload, request)`"), "{error}");
    assert!(error.to_string().contains("--> script:2:1"), "{error}");
}

#[test]
fn a_missing_closing_brace_is_an_unexpected_end_of_the_script() {
    let source = "function map(p) {\n  return { payload: { target: { usersById: [p.id] } } };\n";
    let error = sandbox().compile(source, Limits::default()).err();
    let Some(ScriptError::Syntax { message, line, column, .. }) = &error else { panic!("{error:?}") };
    assert!(message.starts_with("unexpected end of script"), "{message}");
    // Just past the source's last character: nothing of the sandbox's own wrapper shows.
    assert_eq!((*line, *column), (2, 57), "{error:?}");
}

#[test]
fn a_script_over_its_memory_limit_keeps_its_console_and_shows_nothing_of_the_guest() {
    let script = script_with(
        "function map(p) {\n  console.log('before', p.n);\n  let s = 'x'; const all = [];\n  for (let i = 0; i < 40; i++) { s = s + s; all.push(s); }\n  return null;\n}",
        Limits { time: Duration::from_secs(5), ..Limits::default() },
    );
    let outcome = call(&script, json!({"n": 1}));
    assert!(matches!(&outcome.result, Err(e) if is_memory_limit(e)), "{:?}", outcome.result);
    assert_eq!(outcome.console, vec![ConsoleLine { level: "log".into(), text: "before 1".into() }]);
}

#[test]
fn thrown_errors_keep_their_name_and_message() {
    let script = script("function map(p) {\n  throw new RangeError('amount ' + p.amount + ' is negative');\n}");
    let error = err(&script, json!({"amount": -5}));
    let ScriptError::Exception { message, line, .. } = &error else { panic!("{error:?}") };
    assert_eq!(message, "RangeError: amount -5 is negative");
    assert_eq!(*line, Some(2));
}

#[test]
fn throwing_other_values_gives_sensible_messages() {
    let thrown = |body: &str| match err(&script(&format!("function map(p) {{ {body} }}")), json!({})) {
        ScriptError::Exception { message, .. } => message,
        other => panic!("{other:?}"),
    };
    assert_eq!(thrown("throw 42;"), "uncaught 42");
    assert_eq!(thrown("throw {};"), "uncaught {}");
    assert_eq!(thrown("throw { code: 7 };"), r#"uncaught {"code":7}"#);
    assert_eq!(thrown("throw 'plain text';"), "plain text");
    assert_eq!(thrown("throw undefined;"), "uncaught undefined");
}

#[test]
fn results_that_are_not_json_say_what_and_where() {
    let not_json = |body: &str| err(&script(&format!("function map(p) {{ {body} }}")), json!({}));
    assert_eq!(not_json("return undefined;"), ScriptError::ReturnedUndefined);
    assert_eq!(
        not_json("return { payload: { detail: { x: function () {} } } };"),
        ScriptError::NotJson { what: "function".into(), path: "result.payload.detail.x".into() }
    );
    assert_eq!(
        not_json("const o = { a: [] }; o.a.push(o); return o;"),
        ScriptError::NotJson { what: "cycle".into(), path: "result.a[0]".into() }
    );
    assert_eq!(
        not_json("return { 'odd key': 10n };"),
        ScriptError::NotJson { what: "BigInt".into(), path: r#"result["odd key"]"#.into() }
    );
    let text = not_json("return { n: 1n };").to_string();
    assert_eq!(text, "the result is not JSON: result.n is a BigInt");
}

#[test]
fn an_invalid_payload_is_an_input_error() {
    let script = script("function map(p) { return p; }");
    let outcome = script.call(b"{not json", &request());
    assert!(matches!(outcome.result, Err(ScriptError::InvalidInput { .. })), "{:?}", outcome.result);
    assert_eq!(ok(&script, json!(3)), json!(3));
}

// --- limits ---

#[test]
fn limits_are_configurable() {
    let limits = Limits { time: Duration::from_millis(100), memory_bytes: 24 * 1024 * 1024 };
    let script = script_with("function map(p) { while (true) {} }", limits);
    let started = Instant::now();
    let error = err(&script, json!({}));
    assert_eq!(error.to_string(), "time limit of 100 ms exceeded");
    assert!(started.elapsed() < Duration::from_millis(200), "{:?}", started.elapsed());
    let limits = Limits { time: Duration::from_secs(2), memory_bytes: 24 * 1024 * 1024 };
    let script =
        script_with("function map(p) { let a = []; while (true) a.push('x'.repeat(1 << 20) + a.length); }", limits);
    assert_eq!(err(&script, json!({})).to_string(), "memory limit of 24 MiB exceeded");
}

// --- hostile scripts ---

#[test]
fn hostile_infinite_loop() {
    hostile("while (true) {}", is_time_limit);
    let with_defaults = script("function map(p) { while (true) {} }");
    let error = err(&with_defaults, json!({}));
    assert_eq!(error.to_string(), "time limit of 50 ms exceeded");
}

#[test]
fn hostile_nested_loops() {
    hostile(
        "let n = 0; for (let i = 0; i < 1e9; i++) for (let j = 0; j < 1e9; j++) n += i ^ j; return { n };",
        is_time_limit,
    );
}

#[test]
fn hostile_unbounded_recursion() {
    hostile("function f(n) { return f(n + 1) + 1; } return f(0);", is_stack_overflow);
}

#[test]
fn hostile_deep_recursion_through_getters() {
    hostile("const o = { get x() { return this.x; } }; return o.x;", is_stack_overflow);
}

#[test]
fn hostile_huge_repeat() {
    // boa refuses a string this long up front (RangeError) or runs out of memory: either way a clean error.
    hostile_memory(r#"return "x".repeat(2 ** 30);"#, |e| {
        is_memory_limit(e) || matches!(e, ScriptError::Exception { message, .. } if message.starts_with("RangeError"))
    });
}

#[test]
fn hostile_string_doubling() {
    hostile_memory("let s = 'x'; while (true) s = s + s + '.'; return s;", |e| {
        is_memory_limit(e) || matches!(e, ScriptError::Exception { message, .. } if message.starts_with("RangeError"))
    });
}

#[test]
fn hostile_array_growth() {
    hostile_memory("const a = []; while (true) a.push({ i: a.length }); return a;", is_memory_limit);
}

#[test]
fn hostile_array_of_large_strings() {
    hostile_memory("const a = []; while (true) a.push('x'.repeat(1 << 20) + a.length); return a;", is_memory_limit);
}

#[test]
fn hostile_catastrophic_regex() {
    hostile(r#"return { m: /(a+)+$/.test("a".repeat(30) + "!") };"#, is_time_limit);
}

#[test]
fn hostile_deeply_nested_source() {
    hostile(r#"Function("(".repeat(5000)); return 1;"#, |e| {
        is_stack_overflow(e)
            || matches!(e, ScriptError::Exception { message, .. } if message.starts_with("SyntaxError"))
    });
}

#[test]
fn hostile_getter_that_loops_on_the_result() {
    hostile("return { get x() { while (true) {} } };", is_time_limit);
}

#[test]
fn hostile_proxy_trap_that_loops_on_the_result() {
    hostile("return new Proxy({}, { ownKeys() { while (true) {} } });", is_time_limit);
}

#[test]
fn hostile_throw_42() {
    hostile("throw 42;", |e| matches!(e, ScriptError::Exception { message, .. } if message == "uncaught 42"));
}

#[test]
fn hostile_throw_empty_object() {
    hostile("throw {};", |e| matches!(e, ScriptError::Exception { message, .. } if message == "uncaught {}"));
}

#[test]
fn hostile_returned_cycle() {
    hostile(
        "const a = {}; a.self = a; return a;",
        |e| matches!(e, ScriptError::NotJson { what, .. } if what == "cycle"),
    );
}

#[test]
fn hostile_hundred_megabyte_result() {
    hostile_memory(
        "const s = 'x'.repeat(1024 * 1024); const out = []; for (let i = 0; i < 100; i++) out.push(s + i); return out;",
        |e| is_memory_limit(e) || matches!(e, ScriptError::ResultTooLarge { .. }),
    );
}

// --- isolation between events ---

#[test]
fn prototype_pollution_does_not_reach_the_next_event() {
    let script = script(
        r#"function map(p) {
             const seen = ({}).polluted;
             try { Object.prototype.polluted = 'yes'; } catch (e) {}
             try { Array.prototype.push = null; } catch (e) {}
             return { seen: seen === undefined ? null : seen, push: typeof [].push };
           }"#,
    );
    for _ in 0..3 {
        assert_eq!(ok(&script, json!({})), json!({"seen": null, "push": "function"}));
    }
}

#[test]
fn globals_do_not_carry_over_between_events() {
    let script = script(
        r#"let calls = 0;
           var cache = {};
           function map(p) {
             calls += 1;
             cache[p.k] = true;
             try { globalThis.counter = (globalThis.counter || 0) + 1; } catch (e) {}
             return { calls, keys: Object.keys(cache), counter: globalThis.counter || 0 };
           }"#,
    );
    assert_eq!(ok(&script, json!({"k": "a"})), json!({"calls": 1, "keys": ["a"], "counter": 0}));
    assert_eq!(ok(&script, json!({"k": "b"})), json!({"calls": 1, "keys": ["b"], "counter": 0}));
}

#[test]
fn the_realm_is_locked_before_the_top_level_runs() {
    // The top level runs once at compile time and again for every event: it meets the same frozen
    // realm both times, so what it does to shared objects cannot differ between them.
    let script = script(
        r#"try { Object.prototype.polluted = 1; } catch (e) {}
           try { globalThis.shared = {}; } catch (e) {}
           const seen = { polluted: ({}).polluted !== undefined, shared: typeof shared !== 'undefined' };
           function map(p) { return seen; }"#,
    );
    assert_eq!(ok(&script, json!({})), json!({"polluted": false, "shared": false}));
    let error =
        sandbox().compile("'use strict'; Object.prototype.x = 1; function map(p) { return 1; }", Limits::default());
    assert!(
        matches!(&error, Err(ScriptError::Exception { message, line: Some(1), .. }) if message.starts_with("TypeError")),
        "{:?}",
        error.err()
    );
}

#[test]
fn the_script_wrapper_carries_no_state_between_events() {
    // Sloppy code reaches the function that wraps the script as `arguments.callee`; it is frozen
    // once the top level has run at compile time.
    let script = script(
        r#"var wrapper = arguments.callee;
           wrapper.count = (wrapper.count || 0) + 1;
           function map(p) { return { count: wrapper.count, frozen: Object.isFrozen(wrapper) }; }"#,
    );
    for _ in 0..3 {
        assert_eq!(ok(&script, json!({})), json!({"count": 1, "frozen": true}));
    }
}

#[test]
fn fresh_instances_of_the_snapshot_do_not_share_random_state() {
    // Every instance starts from one memory snapshot: `Math.random` must not be seeded in it.
    let script = script("function map(p) { return [Math.random(), Math.random()]; }");
    let first = script.call_in_fresh_instance(b"1", &request()).result;
    let second = script.call_in_fresh_instance(b"1", &request()).result;
    assert!(first.is_ok(), "{first:?}");
    assert_ne!(first, second);
}

#[test]
fn strict_scripts_see_the_lockdown_as_a_type_error() {
    let script = script("'use strict'; function map(p) { Object.prototype.x = 1; return 1; }");
    let error = err(&script, json!({}));
    assert!(matches!(&error, ScriptError::Exception { message, .. } if message.starts_with("TypeError")), "{error:?}");
}

#[test]
fn overriding_inherited_methods_on_own_objects_still_works() {
    let script = script(
        r#"function map(p) {
             const o = {}; o.toString = function () { return 'custom'; };
             const e = new Error(); e.message = 'set later';
             function Money(v) { this.v = v; }
             Money.prototype.toString = function () { return this.v + ' EUR'; };
             return { o: String(o), e: e.message, m: String(new Money(5)) };
           }"#,
    );
    assert_eq!(ok(&script, json!({})), json!({"o": "custom", "e": "set later", "m": "5 EUR"}));
}

#[test]
fn a_fresh_instance_gives_the_same_result() {
    let script = script("function map(p) { return { twice: p.n * 2 }; }");
    let outcome = script.call_in_fresh_instance(b"{\"n\": 21}", &request());
    assert_eq!(outcome.result, Ok(json!({"twice": 42})));
}

#[test]
fn scripts_run_in_parallel_from_several_threads() {
    let script = script("function map(p) { let s = 0; for (let i = 0; i < 1000; i++) s += i; return { s, n: p.n }; }");
    std::thread::scope(|scope| {
        for t in 0..4 {
            let script = &script;
            scope.spawn(move || {
                for n in 0..20 {
                    assert_eq!(ok(script, json!({"n": t * 100 + n})), json!({"s": 499500, "n": t * 100 + n}));
                }
            });
        }
    });
}

// --- fresh isolation: a new instance per call, started from the compiled script's memory ---

/// Compiles `source` with `limits` for a new instance per call.
fn fresh(source: &str, limits: Limits) -> Script {
    script_with(source, limits).with_isolation(Isolation::Fresh)
}

#[test]
fn hostile_calls_under_fresh_isolation_fail_with_their_limit_and_the_next_call_works() {
    let limits = Limits { time: Duration::from_secs(2), ..Limits::default() };
    let script = fresh(
        "function map(p) {\n\
           if (p.kind === 'loop') { while (true) {} }\n\
           if (p.kind === 'memory') { const a = []; while (true) a.push({ i: a.length }); }\n\
           if (p.kind === 'stack') { const f = (n) => f(n + 1) + 1; return f(0); }\n\
           return { fine: p.kind };\n\
         }",
        limits,
    );
    assert_eq!(err(&script, json!({"kind": "loop"})), ScriptError::TimeLimit { limit: limits.time });
    assert!(is_memory_limit(&err(&script, json!({"kind": "memory"}))));
    assert!(is_stack_overflow(&err(&script, json!({"kind": "stack"}))));
    assert_eq!(ok(&script, json!({"kind": "after"})), json!({"fine": "after"}));
}

#[test]
fn a_fresh_instance_gets_the_memory_a_top_level_grew_at_compile_time() {
    // The top level's array makes the compiled script's memory larger than a new instance's.
    let script = fresh(
        "const table = Array.from({ length: 200000 }, (_, i) => i * 2);\n\
         function map(p) { table[0] = p.n; return [table[0], table[199999], table.length]; }",
        Limits { time: Duration::from_secs(5), ..Limits::default() },
    );
    for n in 1..=3 {
        assert_eq!(ok(&script, json!({"n": n})), json!([n, 399998, 200000]));
    }
}

// --- the module cache ---

#[test]
fn the_module_cache_is_reused_and_a_corrupt_entry_is_recompiled() {
    let _ = sandbox(); // makes sure the shared cache holds a valid entry
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("no temp dir: {e}"),
    };
    let entries: Vec<_> = std::fs::read_dir(cache_dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    assert!(!entries.is_empty(), "no cache entry in {}", cache_dir().display());
    for entry in &entries {
        let name = entry.file_name().map(PathBuf::from).unwrap_or_default();
        let mut bytes = std::fs::read(entry).unwrap_or_default();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(dir.path().join(name), bytes).unwrap_or_default();
    }
    let recompiled = Sandbox::new(Some(dir.path())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(recompiled.module_source(), ModuleSource::Compiled);
    let script =
        recompiled.compile("function map(p) { return p; }", Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(script.call(b"[1]", &request()).result, Ok(json!([1])));
    let reloaded = Sandbox::new(Some(dir.path())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reloaded.module_source(), ModuleSource::Cache);
}

/// Cache directories a quick start was told it compiles into.
static COMPILE_NOTICES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn record_compile_notice(dir: &std::path::Path) {
    if let Ok(mut notices) = COMPILE_NOTICES.lock() {
        notices.push(dir.to_owned());
    }
}

#[test]
fn a_quick_start_runs_baseline_code_under_the_same_contract_and_limits_and_fills_the_cache() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
    let config = SandboxConfig::new().cache_dir(dir.path()).quick_start(true).on_compile(record_compile_notice);
    let quick = config.start().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(quick.module_source(), ModuleSource::Baseline);
    assert!(COMPILE_NOTICES.lock().is_ok_and(|notices| notices.contains(&dir.path().to_owned())));
    let compile = |source: &str, limits| quick.compile(source, limits).unwrap_or_else(|e| panic!("{e}: {source}"));
    let mapped =
        compile("function map(p, r) { console.log(r.method); return { id: String(p.id) }; }", Limits::default())
            .call(br#"{"id": 7}"#, &request());
    assert_eq!(mapped.result, Ok(json!({"id": "7"})));
    assert_eq!(mapped.console, vec![ConsoleLine { level: "log".into(), text: "POST".into() }]);
    let failing =
        |body: &str, limits| compile(&format!("function map(p) {{ {body} }}"), limits).call(b"{}", &request()).result;
    let short = Limits { time: HOSTILE_TIME, ..Limits::default() };
    assert_eq!(failing("while (true) {}", short), Err(ScriptError::TimeLimit { limit: HOSTILE_TIME }));
    // Baseline code on a busy machine may need more than 200 ms to exhaust the stack or the
    // memory: these limits must be reached before the time limit.
    let generous = Limits { time: Duration::from_secs(10), ..Limits::default() };
    let recursion = failing("function f(n) { return f(n + 1) + 1; } return f(0);", generous);
    assert_eq!(recursion, Err(ScriptError::StackOverflow));
    let memory = failing("const a = []; while (true) a.push({ n: a.length, s: 'x'.repeat(64) });", generous);
    assert!(memory.as_ref().is_err_and(is_memory_limit), "{memory:?}");
    let syntax = quick.compile("function map(p) { return {; }", Limits::default()).err();
    assert!(matches!(syntax, Some(ScriptError::Syntax { line: 1, .. })), "{syntax:?}");

    quick.finish_caching().unwrap_or_else(|e| panic!("{e}"));
    assert!(!quick.is_caching());
    let reloaded = config.start().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reloaded.module_source(), ModuleSource::Cache);
    let script = reloaded.compile("function map(p) { return p; }", Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(script.call(b"[1]", &request()).result, Ok(json!([1])));
}

#[test]
fn sandbox_and_script_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Sandbox>();
    check::<Script>();
}

// --- the payload behaves like ordinary JSON objects (it is converted lazily) ---

#[test]
fn the_payload_behaves_like_plain_objects() {
    let script = script(
        r#"function map(p) {
             const checks = {
               same: p.a === p.a,
               keys: Object.keys(p.a),
               json: JSON.stringify(p.a),
               spread: { ...p.a, z: 0 },
               has: 'x' in p.a && !('nope' in p.a),
               own: p.a.hasOwnProperty('x'),
               isArray: Array.isArray(p.list) && p.list.length === 2,
               mapped: p.list.map(i => i.n),
               missing: p.a.nope === undefined,
               text: String(p.a),
               forIn: (() => { const k = []; for (const key in p.a) k.push(key); return k; })(),
               entries: Object.entries(p.a.y),
             };
             p.a.x = 10;
             delete p.a.y;
             p.added = true;
             checks.after = p;
             console.log(p.list[0]);
             return checks;
           }"#,
    );
    let outcome = call(&script, json!({"a": {"x": 1, "y": {"deep": [1, 2]}}, "list": [{"n": 1}, {"n": 2}]}));
    assert_eq!(
        outcome.result,
        Ok(json!({
            "same": true,
            "keys": ["x", "y"],
            "json": r#"{"x":1,"y":{"deep":[1,2]}}"#,
            "spread": {"x": 1, "y": {"deep": [1, 2]}, "z": 0},
            "has": true,
            "own": true,
            "isArray": true,
            "mapped": [1, 2],
            "missing": true,
            "text": "[object Object]",
            "forIn": ["x", "y"],
            "entries": [["deep", [1, 2]]],
            "after": {"a": {"x": 10}, "list": [{"n": 1}, {"n": 2}], "added": true},
        }))
    );
    assert_eq!(outcome.console, vec![ConsoleLine { level: "log".into(), text: r#"{"n":1}"#.into() }]);
}

#[test]
fn results_are_written_as_json_stringify_writes_them() {
    // The guest writes the result's JSON text itself: numbers, escapes, holes and left-out keys.
    let script = script(
        r#"function map(p) {
             return {
               numbers: [0.1, -0, 1e21, 2 ** 53, -(2 ** 31), 1 / 3, NaN, Infinity, 42],
               strings: ["quote \" backslash \\ tab \t", "\u0001", "é€😀", "\ud800"],
               holes: [undefined, function () {}, , 1],
               skipped: { a: undefined, b: 1 },
               "odd key": { 2: "two", 1: "one", x: true },
               empty: [{}, []],
             };
           }"#,
    );
    let expected = json!({
        "numbers": [0.1, 0, 1e21, 9_007_199_254_740_992.0, -2_147_483_648, 0.333_333_333_333_333_3, null, null, 42],
        "strings": ["quote \" backslash \\ tab \t", "\u{1}", "é€😀", "\\uD800"],
        "holes": [null, null, null, 1],
        "skipped": {"b": 1},
        "odd key": {"1": "one", "2": "two", "x": true},
        "empty": [{}, []],
    });
    // Compared as text, so the order of keys counts too.
    assert_eq!(ok(&script, json!({})).to_string(), expected.to_string());
}

#[test]
fn payloads_of_every_json_type_arrive_intact() {
    let script = script("function map(p) { return p; }");
    for payload in [
        json!(null),
        json!(true),
        json!(-7),
        json!(1.5),
        json!(4_000_000_000u64),
        json!("text"),
        json!([1, [2, {"a": null}]]),
        json!({"a": {"b": {"c": "é€😀"}}}),
    ] {
        assert_eq!(ok(&script, payload.clone()), payload);
    }
}

#[test]
fn payload_text_is_read_as_json_parsers_read_it() {
    // The guest reads the body's text in place: escapes, whitespace, repeated keys (the last
    // value, in the first key's place), numbers beyond 32 bits, and the reads of a level that
    // was partly read before it was converted.
    let script = script(
        r#"function map(p) {
             const first = [p["k\n\"\u00e9"], p.dup, p.big, p.neg, p.exp, p.e["x/y"], p["café"], p["ab"], p["€"]];
             return { first, all: p, keys: Object.keys(p), e: p.e };
           }"#,
    );
    let text = r#" { "k\n\"\u00e9" : "v\ud83d\ude00\t" , "dup": 1, "big": 12345678901234567890,
        "neg": -2147483649, "exp": -1.5e-3, "dup": [2, {"a": null}], "e": {"x\/y": true},
        "café": 1, "a\u0062": 2, "€": 3 } "#;
    let outcome = script.call(text.as_bytes(), &request());
    assert_eq!(
        outcome.result,
        Ok(json!({
            "first": ["v😀\t", [2, {"a": null}], 12345678901234567890.0, -2147483649i64, -0.0015, true, 1, 2, 3],
            "all": {"k\n\"é": "v😀\t", "dup": [2, {"a": null}], "big": 12345678901234567890.0, "neg": -2147483649i64,
                    "exp": -0.0015, "e": {"x/y": true}, "café": 1, "ab": 2, "€": 3},
            "keys": ["k\n\"é", "dup", "big", "neg", "exp", "e", "café", "ab", "€"],
            "e": {"x/y": true},
        }))
    );
    for invalid in ["{\"a\" 1}", "[1,]", "01", "\"\\x\"", "[] x", "", "1.", "[\"\u{1}\"]", "{\"a\":1", "\"\u{ff}"] {
        let outcome = script.call(invalid.as_bytes(), &request());
        assert!(matches!(outcome.result, Err(ScriptError::InvalidInput { .. })), "{invalid:?}: {:?}", outcome.result);
    }
    assert!(matches!(script.call(b"\xff", &request()).result, Err(ScriptError::InvalidInput { .. })));
}

#[test]
fn a_top_level_that_never_ends_fails_to_compile_with_the_time_limit() {
    let started = Instant::now();
    let error = sandbox().compile("while (true) {}\nfunction map(p) { return p; }", Limits::default()).err();
    assert_eq!(error, Some(ScriptError::TimeLimit { limit: Duration::from_millis(50) }));
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[test]
fn an_unfinished_script_points_past_its_end() {
    let error = sandbox().compile("function map(p) {\n  return {", Limits::default()).err();
    assert!(matches!(&error, Some(ScriptError::Syntax { line: 2, .. })), "{error:?}");
}

#[test]
fn hidden_intrinsics_are_frozen_too() {
    let script = script(
        r#"function map(p) {
             const arrayIterator = Object.getPrototypeOf([][Symbol.iterator]());
             const generator = Object.getPrototypeOf(function* () {});
             const before = [arrayIterator.polluted, generator.polluted];
             try { arrayIterator.polluted = 1; } catch (e) {}
             try { generator.polluted = 1; } catch (e) {}
             try { arrayIterator.next = function () { return { done: true }; }; } catch (e) {}
             return { before: before.map(v => v === undefined), spread: [...[1, 2]] };
           }"#,
    );
    for _ in 0..2 {
        assert_eq!(ok(&script, json!({})), json!({"before": [true, true], "spread": [1, 2]}));
    }
}

#[test]
fn a_payload_larger_than_the_memory_limit_is_refused_cleanly() {
    let script = script("function map(p) { return p.length; }");
    let huge = format!("\"{}\"", "x".repeat(40 * 1024 * 1024));
    let outcome = script.call(huge.as_bytes(), &request());
    assert!(matches!(outcome.result, Err(ScriptError::MemoryLimit { .. })), "{:?}", outcome.result);
    assert_eq!(script.call(b"\"abc\"", &request()).result, Ok(json!(3)));
}

#[test]
fn deeply_nested_inputs_and_results_are_errors() {
    let script =
        script("function map(p) { let o = {}; for (let i = 0; i < 10000; i++) o = { o }; return p === 1 ? o : p; }");
    let deep_payload = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let outcome = script.call(deep_payload.as_bytes(), &request());
    assert!(matches!(outcome.result, Err(ScriptError::InvalidInput { .. })), "{:?}", outcome.result);
    let error = err(&script, json!(1));
    assert!(matches!(&error, ScriptError::NotJson { what, .. } if what == "too deeply nested"), "{error:?}");
}

#[test]
fn a_memory_limit_below_what_the_engine_needs_fails_at_compile_time() {
    let limits = Limits { memory_bytes: 1024 * 1024, ..Limits::default() };
    let error = sandbox().compile("function map(p) { return p; }", limits).err();
    assert_eq!(error.map(|e| e.to_string()), Some("memory limit of 1 MiB exceeded".to_owned()));
}

#[test]
fn the_payload_can_be_frozen_and_sealed() {
    let script = script(
        "'use strict'; function map(p) { Object.freeze(p.a); Object.seal(p); let threw = false; try { p.a.b = 2; } catch (e) { threw = true; } return { frozen: Object.isFrozen(p.a), sealed: Object.isSealed(p), threw, p }; }",
    );
    assert_eq!(
        ok(&script, json!({"a": {"b": 1}})),
        json!({"frozen": true, "sealed": true, "threw": true, "p": {"a": {"b": 1}}})
    );
}
