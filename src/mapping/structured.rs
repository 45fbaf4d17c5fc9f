//! Structured mappings: a JSON document mirroring the target schema.
//!
//! ```json
//! {"payload": {
//!   "target": {"usersById": ["$.data.object.customer", {"path": "$.owner", "default": "ops"}]},
//!   "detail": {"event": "$.type", "greeting": {"template": "Hi {$.first}"}, "source": "stripe"},
//!   "notificationDetail": {"raw": "$.data.object"},
//!   "metadata": {"literal": {"const": "$not-a-path"}}
//! }}
//! ```
//! `usersById` is a LEAF or an array of LEAFs; `detail`, `notificationDetail` and
//! `metadata` are objects whose values are LEAFs. A LEAF is a string starting with
//! `$` (a JSONPath), any other scalar (a constant), `{"const": ANY}`,
//! `{"path": "$...", "default": ANY}`, `{"template": "..."}` or `{"script": "payload.a + payload.b"}`
//! (a JavaScript expression, or a function of `payload` and `request`, run in the sandbox under
//! the mapping's limits; `null` or `undefined` leaves the field out). Optional `skip` and `only`
//! rules beside `payload` skip a body before it is mapped (see [`super::filter`]).

use serde_json::{Map, Value};

use super::error::{CompileError, CompileErrorKind, CompileErrors};
use super::filter::Filter;
use super::node::Node;
use super::path::{CompiledPath, PathError};
use super::template::Template;
use super::{Isolation, Limits, Program};
use crate::field_path;
use crate::schema::{Found, PAYLOAD_KEYS, Rule, USER_IDS};

/// Compiles the JSON text of a structured mapping whose script leaves run under `limits`,
/// isolated as `isolation` says.
pub fn compile(source: &str, limits: Limits, isolation: Isolation) -> Result<Program, CompileErrors> {
    let document = crate::document::parse(source.as_bytes())
        .map_err(|e| CompileErrors(vec![CompileError { field: String::new(), kind: CompileErrorKind::Json(e) }]))?;
    compile_document(&document, limits, isolation)
}

/// Compiles a structured mapping that is already parsed, whose script leaves run under `limits`,
/// isolated as `isolation` says.
pub fn compile_document(document: &Value, limits: Limits, isolation: Isolation) -> Result<Program, CompileErrors> {
    let mut compiler = Compiler { errors: Vec::new(), limits, isolation };
    let (root, filter) = compiler.root(document);
    if compiler.errors.is_empty() { Ok(Program::new(root, filter)) } else { Err(CompileErrors(compiler.errors)) }
}

struct Compiler {
    errors: Vec<CompileError>,
    /// The limits of script leaves.
    limits: Limits,
    /// How script leaves' runs are isolated.
    isolation: Isolation,
}

impl Compiler {
    fn error(&mut self, field: &str, kind: CompileErrorKind) {
        self.errors.push(CompileError { field: field.to_owned(), kind });
    }

    /// The object at `field`, with unknown keys reported; `None` when it is not an object.
    fn object<'v>(
        &mut self,
        value: &'v Value,
        field: &str,
        allowed: &'static [&'static str],
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(map) = value else {
            self.error(field, CompileErrorKind::NotAnObject { found: Found::of(value) });
            return None;
        };
        for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
            self.error(
                &field_path::member(field, key),
                CompileErrorKind::UnknownKey { allowed, suggestion: closest(key, allowed) },
            );
        }
        Some(map)
    }

    fn root(&mut self, document: &Value) -> (Node, Filter) {
        let mut sections = Vec::new();
        let mut filter = Filter::default();
        if let Some(root) = self.object(document, "", &["payload", "skip", "only"]) {
            match root.get("payload") {
                Some(payload) => sections = self.payload(payload),
                None => self.error("payload", CompileErrorKind::Missing),
            }
            filter = super::filter::compile(root, &mut self.errors);
        }
        (Node::Object(vec![("payload".to_owned(), Node::Object(sections))]), filter)
    }

    fn payload(&mut self, payload: &Value) -> Vec<(String, Node)> {
        let Some(payload) = self.object(payload, "payload", &PAYLOAD_KEYS) else { return Vec::new() };
        let target = match payload.get("target") {
            Some(target) => self.target(target),
            None => {
                self.error("payload.target.usersById", CompileErrorKind::Missing);
                Node::Object(Vec::new())
            }
        };
        let mut sections = vec![("target".to_owned(), target)];
        for key in ["detail", "notificationDetail", "metadata"] {
            let field = format!("payload.{key}");
            let fields = match payload.get(key) {
                Some(section) => self.section(section, &field, key == "detail"),
                None => Vec::new(),
            };
            sections.push((key.to_owned(), Node::Object(fields)));
        }
        sections
    }

    fn target(&mut self, target: &Value) -> Node {
        const FIELD: &str = USER_IDS;
        let Some(target) = self.object(target, "payload.target", &["usersById"]) else {
            return Node::Object(Vec::new());
        };
        let leaves = match target.get("usersById") {
            None => {
                self.error(FIELD, CompileErrorKind::Missing);
                Vec::new()
            }
            Some(Value::Array(items)) if items.is_empty() => {
                self.error(FIELD, CompileErrorKind::NoLeaves);
                Vec::new()
            }
            Some(Value::Array(items)) => {
                items.iter().enumerate().map(|(i, item)| self.leaf(item, &field_path::index(FIELD, i))).collect()
            }
            Some(leaf) => vec![self.leaf(leaf, FIELD)],
        };
        let ids = Node::Flatten(leaves);
        let ids = match Rule::of(FIELD) {
            Some(rule) => Node::Rule(rule, Box::new(ids)),
            None => ids,
        };
        Node::Object(vec![("usersById".to_owned(), ids)])
    }

    fn section(&mut self, section: &Value, field: &str, keys_required: bool) -> Vec<(String, Node)> {
        let Value::Object(map) = section else {
            self.error(field, CompileErrorKind::NotAnObject { found: Found::of(section) });
            return Vec::new();
        };
        map.iter()
            .map(|(key, value)| {
                let child = field_path::member(field, key);
                if keys_required && key.is_empty() {
                    self.error(&child, CompileErrorKind::EmptyKey);
                }
                (key.clone(), self.leaf(value, &child))
            })
            .collect()
    }

    fn leaf(&mut self, leaf: &Value, field: &str) -> Node {
        match leaf {
            Value::String(s) if s.starts_with('$') => self.path(s, field, CompileErrorKind::BarePath),
            Value::Array(_) => {
                self.error(field, CompileErrorKind::NotALeaf { found: Found::of(leaf) });
                Node::Const(Value::Null)
            }
            Value::Object(map) => self.leaf_object(map, field),
            constant => Node::Const(constant.clone()),
        }
    }

    fn path(&mut self, source: &str, field: &str, kind: fn(PathError) -> CompileErrorKind) -> Node {
        match CompiledPath::parse(source) {
            Ok(path) => Node::Path(path),
            Err(error) => {
                self.error(field, kind(error));
                Node::Const(Value::Null)
            }
        }
    }

    fn leaf_object(&mut self, map: &Map<String, Value>, field: &str) -> Node {
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        match keys.as_slice() {
            ["const"] => Node::Const(map["const"].clone()),
            ["template"] => match &map["template"] {
                Value::String(text) => match Template::parse(text) {
                    Ok(template) => Node::Template(template),
                    Err(error) => {
                        self.error(field, CompileErrorKind::Template(error));
                        Node::Const(Value::Null)
                    }
                },
                other => {
                    self.error(field, CompileErrorKind::TemplateNotAString { found: Found::of(other) });
                    Node::Const(Value::Null)
                }
            },
            ["script"] => match &map["script"] {
                Value::String(expression) => super::script::leaf(expression, self.limits, self.isolation)
                    .unwrap_or_else(|kind| {
                        self.error(field, kind);
                        Node::Const(Value::Null)
                    }),
                other => {
                    self.error(field, CompileErrorKind::ScriptNotAString { found: Found::of(other) });
                    Node::Const(Value::Null)
                }
            },
            ["path"] | ["path", "default"] | ["default", "path"] => {
                let path = match &map["path"] {
                    Value::String(s) if s.starts_with('$') => self.path(s, field, CompileErrorKind::Path),
                    other => {
                        self.error(field, CompileErrorKind::PathNotAString { found: Found::of(other) });
                        Node::Const(Value::Null)
                    }
                };
                match map.get("default") {
                    Some(default) => Node::Coalesce(vec![path, Node::Const(default.clone())]),
                    None => path,
                }
            }
            _ => {
                self.error(
                    field,
                    CompileErrorKind::BadLeafObject { keys: keys.iter().map(|k| (*k).to_owned()).collect() },
                );
                Node::Const(Value::Null)
            }
        }
    }
}

/// The allowed key closest to `key` by edit distance, when it is close enough to be a typo.
fn closest(key: &str, allowed: &'static [&'static str]) -> Option<&'static str> {
    allowed
        .iter()
        .map(|candidate| (edit_distance(&key.to_lowercase(), &candidate.to_lowercase()), *candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 2).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::super::Input;
    use super::*;
    use serde_json::json;

    fn run(mapping: Value, body: Value) -> Result<Value, Vec<String>> {
        let program = compile_document(&mapping, Limits::default(), Isolation::Warm)
            .map_err(|e| e.0.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        program
            .run(&Input::from_body(body))
            .map(|mapped| mapped.event().expect("an event"))
            .map_err(|e| e.0.iter().map(ToString::to_string).collect())
    }

    fn compile_errors(mapping: Value) -> Vec<String> {
        compile_document(&mapping, Limits::default(), Isolation::Warm)
            .unwrap_err()
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn maps_every_leaf_form() {
        let out = run(
            json!({"payload": {
                "target": {"usersById": ["$.user.id", {"path": "$.owner", "default": 7}, "$.user.id"]},
                "detail": {
                    "name": {"template": "{$.user.first} {$.user.last}"},
                    "missing": "$.nope",
                    "defaulted": {"path": "$.nope", "default": "n/a"},
                    "kept": {"path": "$.user.first", "default": "n/a"},
                    "literal": {"const": "$5 off"},
                    "source": "crm",
                    "count": 3,
                    "none": null,
                    "tags": "$.tags[*]"
                },
                "notificationDetail": {"user": "$.user"},
                "metadata": {"tagCount": "$.tags.length"}
            }}),
            json!({"user": {"id": 42, "first": "Ada", "last": "Lovelace"}, "tags": ["a", "b"]}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"payload": {
                "target": {"usersById": ["42", "7"]},
                "detail": {"name": "Ada Lovelace", "defaulted": "n/a", "kept": "Ada", "literal": "$5 off", "source": "crm", "count": 3, "none": null, "tags": ["a", "b"]},
                "notificationDetail": {"user": {"id": 42, "first": "Ada", "last": "Lovelace"}},
                "metadata": {}
            }})
        );
    }

    #[test]
    fn user_ids_are_flattened_and_deduplicated() {
        let out = run(
            json!({"payload": {"target": {"usersById": ["$.ids", "$.items[*].owner", {"const": ["x", 5]}]}}}),
            json!({"ids": [1, "u2"], "items": [{"owner": "u2"}, {"owner": "u3"}]}),
        )
        .unwrap();
        assert_eq!(out["payload"]["target"]["usersById"], json!(["1", "u2", "u3", "x", "5"]));
    }

    #[test]
    fn a_mapping_that_finds_no_user_says_which_paths_selected_nothing() {
        assert_eq!(
            run(json!({"payload": {"target": {"usersById": ["$.a", "$.b", "$.c"]}}}), json!({"c": []})).unwrap_err(),
            ["payload.target.usersById: no user ids: $.a, $.b selected nothing; $.c selected an empty array"]
        );
    }

    #[test]
    fn run_errors_include_schema_errors() {
        assert_eq!(
            run(
                json!({"payload": {"target": {"usersById": "$.id"}, "detail": {"address": "$.address"}}}),
                json!({"id": 4.5, "address": {"city": "Paris"}})
            )
            .unwrap_err(),
            [
                "payload.target.usersById[0]: expected a non-empty string, found number 4.5",
                "payload.detail.address: expected a scalar or an array of scalars, found object",
            ]
        );
    }

    #[test]
    fn compile_errors_name_the_field() {
        assert_eq!(
            compile_errors(json!({"payload": {
                "target": {"usersById": ["$.ok", "$.a.[b]", ["x"]]},
                "detials": {},
                "detail": {"a": {"path": 3}, "b": {"const": 1, "path": "$.x"}, "c": {"template": "{$.x"}, "": 1},
                "metadata": []
            }})),
            [
                "payload.detials: unknown key; expected one of target, detail, notificationDetail, metadata (did you mean detail?)",
                "payload.target.usersById[1]: invalid JSONPath at column 5: expected wildcard selector or a letter (a literal text starting with $ is written {\"const\": \"...\"})",
                "payload.target.usersById[2]: expected a LEAF (a \"$...\" JSONPath, a constant, or an object with const, path or template), found array; write a constant array as {\"const\": [...]}",
                "payload.detail.a: path: expected a JSONPath string starting with $, found number 3",
                "payload.detail.b: expected a LEAF object {\"const\": ANY}, {\"path\": \"$...\", \"default\": ANY} or {\"template\": \"...\"}, found keys const, path",
                "payload.detail.c: template column 1: '{' is never closed (write '{{' for a literal brace)",
                "payload.detail['']: expected a non-empty key",
                "payload.metadata: expected an object, found array",
            ]
        );
    }

    #[test]
    fn the_document_must_have_payload_and_user_ids() {
        assert_eq!(
            compile_errors(json!({"paylod": {}})),
            ["paylod: unknown key; expected one of payload, skip, only (did you mean payload?)", "payload: missing"]
        );
        assert_eq!(compile_errors(json!({"payload": {"detail": {}}})), ["payload.target.usersById: missing"]);
        assert_eq!(
            compile_errors(json!({"payload": {"target": {"usersById": []}}})),
            ["payload.target.usersById: expected a LEAF or a non-empty array of LEAFs"]
        );
        assert_eq!(compile_errors(json!([])), ["expected an object, found array"]);
    }

    #[test]
    fn json_syntax_errors_have_line_and_column() {
        let errors = compile("{\n \"payload\": }", Limits::default(), Isolation::Warm).unwrap_err();
        assert_eq!(errors.to_string(), "2:13: invalid JSON: expected value");
    }

    #[test]
    fn programs_record_the_paths_they_read() {
        let program = compile_document(
            &json!({"payload": {
                "target": {"usersById": ["$.a", {"path": "$.b", "default": 1}]},
                "detail": {"t": {"template": "{$.c} {$.a}"}}
            }}),
            Limits::default(),
            Isolation::Warm,
        )
        .unwrap();
        assert_eq!(program.reads(), ["$.a", "$.b", "$.c"]);
    }

    #[test]
    fn script_leaves_give_values_and_null_or_undefined_leaves_the_field_out() {
        let program = compile_document(
            &json!({"payload": {
                "target": {"usersById": [{"script": "payload.ids.map(String)"}, "$.owner"]},
                "detail": {
                    "sum": {"script": "payload.a + payload.b"},
                    "line": {"script": "function (payload, request) {\n  return request.method + ' ' + payload.kind;\n}"},
                    "arrow": {"script": "(p) => p.kind.toUpperCase()"},
                    "undefined": {"script": "payload.missing"},
                    "null": {"script": "null"},
                    "kept": {"const": null}
                }
            }}),
            Limits::default(),
            Isolation::Warm,
        )
        .unwrap();
        let body = json!({"ids": [1, 2], "owner": "o", "a": 2, "b": 3, "kind": "ping", "unread": {"x": 1}});
        assert_eq!(
            program.run(&Input::from_body(body.clone())).unwrap().event().unwrap(),
            json!({"payload": {
                "target": {"usersById": ["1", "2", "o"]},
                "detail": {"sum": 5, "line": "POST ping", "arrow": "PING", "kept": null},
                "notificationDetail": {}, "metadata": {}
            }})
        );
        // A script leaf may read anything: its reads are those of a run, and bodies are parsed whole.
        assert_eq!(program.reads(), ["$.owner"]);
        assert_eq!(program.reads_on(&Input::from_body(body)), ["$['ids']", "$.owner", "$['a']", "$['b']", "$['kind']"]);
        assert_eq!(program.parse_body(br#"{"owner": "o", "deep": [1]}"#).unwrap(), json!({"owner": "o", "deep": [1]}));
    }

    #[test]
    fn a_script_leaf_that_gives_no_id_is_named_like_a_path() {
        assert_eq!(
            run(json!({"payload": {"target": {"usersById": [{"script": "payload.ids"}, "$.x"]}}}), json!({"ids": []}))
                .unwrap_err(),
            ["payload.target.usersById: no user ids: $.x selected nothing; a constant selected an empty array"]
        );
    }

    #[test]
    fn script_leaf_errors_name_the_field_and_the_position_in_the_leaf() {
        let errors = compile_document(
            &json!({"payload": {"target": {"usersById": "$.id"}, "detail": {"a": {"script": "payload.a +"}, "b": {"script": 3}}}}),
            Limits::default(),
            Isolation::Warm,
        )
        .unwrap_err();
        assert_eq!(errors.0[0].path(), "payload.detail.a");
        assert_eq!(errors.0[0].position(), Some((1, 12)));
        assert!(errors.0[0].to_string().starts_with("payload.detail.a: syntax error: "), "{}", errors.0[0]);
        assert!(
            errors.0[0].to_string().contains("--> script:1:12\n1 | payload.a +\n  |            ^"),
            "{}",
            errors.0[0]
        );
        assert_eq!(
            errors.0[1].to_string(),
            "payload.detail.b: script: expected a JavaScript expression as a string, found number 3"
        );

        let program = compile_document(
            &json!({"payload": {"target": {"usersById": "$.id"}, "detail": {
                "t": {"script": "function (payload) {\n  if (payload.id) {\n    throw new Error('no ' + payload.id);\n  }\n}"}
            }}}),
            Limits { time: std::time::Duration::from_millis(500), ..Limits::default() },
            Isolation::Warm,
        )
        .unwrap();
        let errors = program.run(&Input::from_body(json!({"id": "u1"}))).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].field(), "payload.detail.t");
        assert_eq!(errors.0[0].position(), Some((3, 11)));
        assert_eq!(
            errors.to_string(),
            "payload.detail.t: uncaught exception: Error: no u1 (script:3:11)\n    at <anonymous> (script:3:11)"
        );
    }
}
