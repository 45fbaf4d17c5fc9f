//! A structured mapping's filter: the top-level `skip` and `only` rules that say "not this
//! one" before anything is mapped.
//!
//! ```json
//! {"skip": [{"when": "$[?@.type == 'ping']", "reason": "GitHub ping"}],
//!  "only": "$[?@.data.object.customer]",
//!  "payload": {…}}
//! ```
//! Each rule is a JSONPath run on a one-element array holding the body, so that a filter
//! at the root tests the body itself (`@` is the body) and `$[0].x` reaches inside it. A
//! `skip` rule skips when its path selects something; `only` skips when it selects nothing.
//! Cost: a filtered program copies the body once per run to build that array.

use serde_json::{Map, Value};

use super::Skip;
use super::error::{CompileError, CompileErrorKind, MapError};
use super::path::{CompiledPath, Step};
use crate::field_path;
use crate::schema::Found;

/// One compiled rule.
#[derive(Debug)]
struct Rule {
    path: CompiledPath,
    reason: Option<String>,
}

/// The `skip` and `only` rules of a structured mapping.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    skip: Vec<Rule>,
    only: Option<Rule>,
}

impl Filter {
    /// Whether the filter has no rule.
    pub(crate) fn is_empty(&self) -> bool {
        self.skip.is_empty() && self.only.is_none()
    }

    /// The skip the rules decide for `body`, if any: the first `skip` rule that selects
    /// something, else `only` when it selects nothing. A path that fails to run is an error.
    pub(crate) fn check(&self, body: &Value) -> Result<Option<Skip>, MapError> {
        if self.is_empty() {
            return Ok(None);
        }
        let wrapped = Value::Array(vec![body.clone()]);
        let selects = |rule: &Rule, field: &str| {
            rule.path.select(&wrapped).map(|nodes| !nodes.is_empty()).map_err(|error| MapError::Query {
                field: field.to_owned(),
                path: rule.path.source().to_owned(),
                message: error.0,
            })
        };
        for (index, rule) in self.skip.iter().enumerate() {
            if selects(rule, &field_path::index("skip", index))? {
                let reason = rule.reason.clone().unwrap_or_else(|| format!("skip when {}", rule.path.source()));
                return Ok(Some(Skip { reason: Some(reason) }));
            }
        }
        if let Some(rule) = &self.only
            && !selects(rule, "only")?
        {
            let reason = rule.reason.clone().unwrap_or_else(|| format!("only {} selected nothing", rule.path.source()));
            return Ok(Some(Skip { reason: Some(reason) }));
        }
        Ok(None)
    }
}

/// Compiles the `skip` and `only` keys of a structured mapping's root, reporting every
/// error with its field.
pub(crate) fn compile(root: &Map<String, Value>, errors: &mut Vec<CompileError>) -> Filter {
    let mut filter = Filter::default();
    match root.get("skip") {
        None => {}
        Some(Value::Array(rules)) if rules.is_empty() => {
            errors.push(CompileError { field: "skip".into(), kind: CompileErrorKind::NoRules });
        }
        Some(Value::Array(rules)) => {
            for (index, rule) in rules.iter().enumerate() {
                if let Some(rule) = compile_rule(rule, &field_path::index("skip", index), errors) {
                    filter.skip.push(rule);
                }
            }
        }
        Some(rule) => filter.skip.extend(compile_rule(rule, "skip", errors)),
    }
    if let Some(rule) = root.get("only") {
        filter.only = compile_rule(rule, "only", errors);
    }
    filter
}

/// A rule: `"$..."`, or `{"when": "$...", "reason": "..."}`.
fn compile_rule(rule: &Value, field: &str, errors: &mut Vec<CompileError>) -> Option<Rule> {
    let mut error = |field: String, kind| errors.push(CompileError { field, kind });
    let (when, reason) = match rule {
        Value::String(_) => (rule, None),
        Value::Object(map) => {
            const KEYS: &[&str] = &["when", "reason"];
            for key in map.keys().filter(|k| !KEYS.contains(&k.as_str())) {
                error(field_path::member(field, key), CompileErrorKind::UnknownKey { allowed: KEYS, suggestion: None });
            }
            let reason = match map.get("reason") {
                None => None,
                Some(Value::String(text)) if !text.trim().is_empty() => Some(text.clone()),
                Some(other) => {
                    error(
                        field_path::member(field, "reason"),
                        CompileErrorKind::NotAReason { found: Found::of(other) },
                    );
                    None
                }
            };
            match map.get("when") {
                Some(when) => (when, reason),
                None => {
                    error(field_path::member(field, "when"), CompileErrorKind::Missing);
                    return None;
                }
            }
        }
        other => {
            error(field.to_owned(), CompileErrorKind::NotARule { found: Found::of(other) });
            return None;
        }
    };
    let when_field = if rule.is_object() { field_path::member(field, "when") } else { field.to_owned() };
    let source = match when {
        Value::String(source) if source.starts_with('$') => source,
        other => {
            error(when_field, CompileErrorKind::PathNotAString { found: Found::of(other) });
            return None;
        }
    };
    match CompiledPath::parse(source) {
        Err(e) => {
            error(when_field, CompileErrorKind::Path(e));
            None
        }
        Ok(path) if starts_with_member(&path) => {
            error(when_field, CompileErrorKind::FilterOnMember { path: source.clone() });
            None
        }
        Ok(path) => Some(Rule { path, reason }),
    }
}

/// Whether the path's first step is a member name: on the one-element array a rule runs
/// on, it can select nothing.
fn starts_with_member(path: &CompiledPath) -> bool {
    let source = path.source();
    matches!(path.steps(), Some([Step::Member(_), ..]))
        || (source.starts_with("$.") && !source.starts_with("$.."))
        || source.starts_with("$['")
        || source.starts_with("$[\"")
}

#[cfg(test)]
mod tests {
    use super::super::{Input, Isolation, Limits, Mapped, structured::compile_document};
    use super::*;
    use serde_json::json;

    const PAYLOAD: &str = r#"{"target": {"usersById": "$.user"}}"#;

    fn run(filter: Value, body: Value) -> Result<Mapped, String> {
        let mut mapping = filter;
        mapping["payload"] = serde_json::from_str(PAYLOAD).unwrap();
        let program = compile_document(&mapping, Limits::default(), Isolation::Warm).map_err(|e| e.to_string())?;
        program.run(&Input::from_body(body)).map_err(|e| e.to_string())
    }

    fn skipped(reason: &str) -> Result<Mapped, String> {
        Ok(Mapped::Skipped(Skip { reason: Some(reason.to_owned()) }))
    }

    #[test]
    fn a_skip_rule_that_selects_the_body_skips_it() {
        let filter = json!({"skip": {"when": "$[?@.type == 'ping']", "reason": "GitHub ping"}});
        assert_eq!(run(filter.clone(), json!({"type": "ping"})), skipped("GitHub ping"));
        let mapped = run(filter, json!({"type": "push", "user": "u1"})).unwrap();
        assert!(matches!(mapped, Mapped::Event(_)), "{mapped:?}");
    }

    #[test]
    fn rules_are_tried_in_order_and_only_skips_when_it_selects_nothing() {
        let filter = json!({
            "skip": ["$[?@.zen]", {"when": "$[0].events[?@.kind == 'processed']", "reason": "processed"}],
            "only": "$[?@.user]"
        });
        assert_eq!(run(filter.clone(), json!({"zen": "hi", "user": "u"})), skipped("skip when $[?@.zen]"));
        assert_eq!(run(filter.clone(), json!({"events": [{"kind": "processed"}]})), skipped("processed"));
        assert_eq!(run(filter.clone(), json!({"events": []})), skipped("only $[?@.user] selected nothing"));
        assert!(matches!(run(filter, json!({"user": "u"})), Ok(Mapped::Event(_))));
    }

    #[test]
    fn filter_compile_errors_name_the_field_and_the_column() {
        let mut mapping = json!({
            "skip": [{"when": "$[?@.type =="}, {"reason": "r", "wehn": "$"}, 3, {"when": "$.zen", "reason": ""}],
            "only": {"when": 1}
        });
        mapping["payload"] = serde_json::from_str(PAYLOAD).unwrap();
        let errors: Vec<String> = compile_document(&mapping, Limits::default(), Isolation::Warm)
            .unwrap_err()
            .0
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(errors.len(), 7, "{errors:#?}");
        assert!(errors[0].starts_with("skip[0].when: invalid JSONPath at column"), "{}", errors[0]);
        assert_eq!(errors[1], "skip[1].wehn: unknown key; expected one of when, reason");
        assert_eq!(errors[2], "skip[1].when: missing");
        assert_eq!(
            errors[3],
            "skip[2]: expected a rule: a JSONPath \"$...\" or {\"when\": \"$...\", \"reason\": \"...\"}, found number 3"
        );
        assert_eq!(errors[4], "skip[3].reason: expected a non-empty string, found string \"\"");
        assert_eq!(
            errors[5],
            "skip[3].when: $.zen selects a member of the array [body] the rule runs on, so it selects nothing; \
             test the body with a filter ($[?@.zen]) or reach into it with $[0]"
        );
        assert_eq!(errors[6], "only.when: path: expected a JSONPath string starting with $, found number 1");
    }
}
