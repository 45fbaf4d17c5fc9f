//! Script mappings: JavaScript defining `function map(payload, request)`, compiled once
//! in the process-wide sandbox ([`crate::runtime::Sandbox`]) into a [`Program`] whose
//! root is a script node, the node a structured mapping's script leaf compiles to too
//! ([`leaf`]).
//!
//! The script returns `{payload: {target: {usersById}, detail, notificationDetail, metadata}}`;
//! missing sections become `{}` and the result is validated with the target schema,
//! exactly like a structured mapping's (user ids must already be strings).

use std::sync::OnceLock;

use super::error::{CompileError, CompileErrorKind, CompileErrors};
use super::node::Node;
use super::{Isolation, Limits, Program};
use crate::runtime::{RuntimeError, Sandbox, SandboxConfig};

/// How the process-wide sandbox starts, when set before it starts.
static CONFIG: OnceLock<SandboxConfig> = OnceLock::new();
/// The process-wide sandbox, started by the first script compiled (or [`start_sandbox`]).
static SANDBOX: OnceLock<Result<Sandbox, RuntimeError>> = OnceLock::new();

/// Sets how the process-wide sandbox starts (default: [`SandboxConfig::new`]). Takes effect only
/// before it starts and only once: returns whether it did.
pub fn configure_sandbox(config: SandboxConfig) -> bool {
    SANDBOX.get().is_none() && CONFIG.set(config).is_ok()
}

/// Starts the process-wide sandbox now (a server does so before it reports ready, so no
/// request waits for it); later calls return the same sandbox or error.
pub fn start_sandbox() -> Result<&'static Sandbox, &'static RuntimeError> {
    SANDBOX.get_or_init(|| CONFIG.get_or_init(SandboxConfig::new).start()).as_ref()
}

/// The process-wide sandbox, if it has started.
pub fn started_sandbox() -> Option<&'static Sandbox> {
    SANDBOX.get().and_then(|started| started.as_ref().ok())
}

/// Compiles a script mapping whose runs are isolated as `isolation` says.
pub fn compile(source: &str, limits: Limits, isolation: Isolation) -> Result<Program, CompileErrors> {
    let error = |kind| CompileErrors(vec![CompileError { field: String::new(), kind }]);
    let sandbox = start_sandbox().map_err(|e| error(CompileErrorKind::Sandbox(e.to_string())))?;
    let script = sandbox.compile(source, limits).map_err(|e| error(CompileErrorKind::Script(e)))?;
    Ok(Program::new(Node::Script(script.with_isolation(isolation)), super::filter::Filter::default()))
}

/// Compiles a structured mapping's script leaf (an expression, or a function of `payload` and
/// `request`) into a script node, in the process-wide sandbox.
pub(crate) fn leaf(expression: &str, limits: Limits, isolation: Isolation) -> Result<Node, CompileErrorKind> {
    let sandbox = start_sandbox().map_err(|e| CompileErrorKind::Sandbox(e.to_string()))?;
    sandbox
        .compile_expression(expression, limits)
        .map(|script| Node::Script(script.with_isolation(isolation)))
        .map_err(CompileErrorKind::Script)
}

#[cfg(test)]
mod tests {
    use super::super::{Input, Mapped, Mapping, Skip, compile as compile_mapping};
    use super::*;
    use serde_json::json;

    fn script(source: &str) -> Mapping {
        Mapping::Script { source: source.to_owned(), limits: Limits::default(), isolation: Isolation::Warm }
    }

    #[test]
    fn a_script_maps_and_its_result_is_validated() {
        let program = compile_mapping(&script(
            "function map(p, r) { console.log('hi', p.id); return {payload: {target: {usersById: [String(p.id)]}, detail: {m: r.method}}}; }",
        ))
        .unwrap();
        let outcome = program.run_with_console(&Input::from_body(json!({"id": 7})));
        assert_eq!(
            outcome.result.unwrap().event().unwrap(),
            json!({"payload": {"target": {"usersById": ["7"]}, "detail": {"m": "POST"}, "notificationDetail": {}, "metadata": {}}})
        );
        assert_eq!(outcome.console.len(), 1);
        assert_eq!(outcome.console[0].text, "hi 7");
        assert!(program.reads().is_empty());
        // A script may read anything, so its body is parsed whole.
        assert_eq!(
            program.parse_body(br#"{"id": 7, "deep": {"x": [1]}}"#).unwrap(),
            json!({"id": 7, "deep": {"x": [1]}})
        );
    }

    #[test]
    fn a_script_reads_the_properties_it_touched_on_that_input() {
        let program = compile_mapping(&script(
            r#"function map(p, r) {
                 const ids = p.items.map(i => i.id);
                 if (p.kind === "a") ids.push(p.data.object.user);
                 const tags = Object.keys(p.tags);
                 return {payload: {target: {usersById: ids}, detail: {m: r.method, odd: p["it's"], n: tags.length}}};
               }"#,
        ))
        .unwrap();
        let body = json!({"kind": "a", "items": [{"id": "u1", "x": 1}, {"id": "u2"}], "data": {"object": {"user": "u3", "y": 2}},
                          "tags": {"t": {"deep": 1}}, "it's": "yes", "unread": 0});
        assert_eq!(
            program.reads_on(&Input::from_body(body.clone())),
            [
                "$['data']['object']['user']",
                "$['it\\'s']",
                "$['items']",
                "$['items'][*]['id']",
                "$['kind']",
                "$['tags']",
            ]
        );
        // Another input takes another branch: its reads are those of that run.
        let other = json!({"kind": "b", "items": [], "tags": {}, "it's": "no"});
        assert_eq!(program.reads_on(&Input::from_body(other)), ["$['it\\'s']", "$['items']", "$['kind']", "$['tags']"]);
        // Recording does not change the result, and later calls are not recorded.
        assert!(program.run(&Input::from_body(body)).is_ok());
    }

    #[test]
    fn script_errors_and_schema_errors_are_map_errors() {
        let program =
            compile_mapping(&script("function map(p) { return {payload: {target: {usersById: [p.id]}}}; }")).unwrap();
        let errors = program.run(&Input::from_body(json!({"id": 4.5}))).unwrap_err();
        assert_eq!(errors.to_string(), "payload.target.usersById[0]: expected a non-empty string, found number 4.5");
        let program = compile_mapping(&script("function map(p) { throw new Error('no user in ' + p.kind); }")).unwrap();
        let errors = program.run(&Input::from_body(json!({"kind": "ping"}))).unwrap_err();
        assert!(errors.to_string().contains("no user in ping"), "{errors}");
    }

    #[test]
    fn null_or_a_skip_object_skips_and_a_bad_skip_is_an_error() {
        let run = |result: &str| {
            let program = compile_mapping(&script(&format!("function map(p) {{ return {result}; }}"))).unwrap();
            program.run(&Input::from_body(json!({"kind": "ping"}))).map_err(|e| e.to_string())
        };
        let skipped = |reason: Option<&str>| Ok(Mapped::Skipped(Skip { reason: reason.map(str::to_owned) }));
        assert_eq!(run("null"), skipped(None));
        assert_eq!(run("{skip: true}"), skipped(None));
        assert_eq!(run("{skip: 'a ' + p.kind}"), skipped(Some("a ping")));
        assert_eq!(
            run("{skip: ''}"),
            Err("skip: expected a non-empty string (the reason) or true, found string \"\"".into())
        );
        assert_eq!(
            run("{skip: false}"),
            Err("skip: expected a non-empty string (the reason) or true, found boolean false".into())
        );
        assert_eq!(
            run("{skip: 'x', payload: {}}"),
            Err("skip: a skip is returned alone, as {skip: \"reason\"}; found payload beside it".into())
        );
        // undefined is not a skip: it stays an error.
        assert!(run("undefined").is_err());
    }

    #[test]
    fn syntax_errors_are_compile_errors_with_line_and_column() {
        let errors = compile_mapping(&script("function map(p) {\n  return {;\n}")).unwrap_err();
        let text = errors.to_string();
        assert!(text.contains("2:"), "{text}");
    }

    #[test]
    fn limits_are_part_of_the_cache_key() {
        let a = script("function map(p) { return p; }");
        let mut b = a.clone();
        if let Mapping::Script { limits, .. } = &mut b {
            limits.time = std::time::Duration::from_millis(10);
        }
        assert_ne!(a.settings(), b.settings());
    }
}
