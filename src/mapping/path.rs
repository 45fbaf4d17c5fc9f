//! JSONPath expressions compiled once, evaluated many times.
//!
//! Singular paths made of member names and indexes (`$.data.object.id`,
//! `$['x-key'][0]`) take a direct-lookup fast path; every other RFC 9535 query
//! (wildcards, slices, filters, descendants) is parsed by jsonpath-rust at compile
//! time and evaluated by it at run time.

use std::fmt;

use jsonpath_rust::parser::model::JpQuery;
use jsonpath_rust::parser::parse_json_path;
use jsonpath_rust::query::js_path_process;
use serde_json::Value;

/// A JSONPath, parsed once.
#[derive(Debug, Clone)]
pub struct CompiledPath {
    source: Box<str>,
    plan: Plan,
}

#[derive(Debug, Clone)]
enum Plan {
    /// A singular query of member names and indexes, looked up directly.
    Direct(Vec<Step>),
    /// Any other query, evaluated by jsonpath-rust.
    Query(JpQuery),
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Member(String),
    Index(i64),
}

/// Why a JSONPath did not compile.
#[derive(Debug, Clone, PartialEq)]
pub struct PathError {
    /// The 1-based column in the path text where the problem is, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "invalid JSONPath at column {column}: {}", self.message),
            None => write!(f, "invalid JSONPath: {}", self.message),
        }
    }
}

impl std::error::Error for PathError {}

/// A JSONPath evaluation that failed at run time (rare: jsonpath-rust reports a
/// query that produced a value instead of nodes).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError(pub String);

impl CompiledPath {
    /// Parses `source`, which must be an RFC 9535 query starting with `$`.
    pub fn parse(source: &str) -> Result<CompiledPath, PathError> {
        let plan = match direct_steps(source) {
            Some(steps) => Plan::Direct(steps),
            None => Plan::Query(parse_json_path(source).map_err(path_error)?),
        };
        Ok(CompiledPath { source: source.into(), plan })
    }

    /// The path as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The nodes this path selects in `document`, in document order.
    pub fn select<'a>(&self, document: &'a Value) -> Result<Vec<&'a Value>, EvalError> {
        match &self.plan {
            Plan::Direct(steps) => Ok(lookup(steps, document).into_iter().collect()),
            Plan::Query(query) => js_path_process(query, document)
                .map(|nodes| nodes.into_iter().map(|node| node.val).collect())
                .map_err(|e| EvalError(e.to_string())),
        }
    }
}

fn lookup<'a>(steps: &[Step], document: &'a Value) -> Option<&'a Value> {
    steps.iter().try_fold(document, |value, step| match (step, value) {
        (Step::Member(name), Value::Object(map)) => map.get(name),
        (Step::Index(i), Value::Array(items)) => {
            let i = if *i < 0 { i.checked_add(i64::try_from(items.len()).ok()?)? } else { *i };
            items.get(usize::try_from(i).ok()?)
        }
        _ => None,
    })
}

fn path_error(error: jsonpath_rust::parser::errors::JsonPathError) -> PathError {
    use jsonpath_rust::parser::errors::JsonPathError as E;
    match error {
        E::PestError(pest_error) => {
            let column = match pest_error.line_col {
                pest::error::LineColLocation::Pos((_, column)) => column,
                pest::error::LineColLocation::Span((_, column), _) => column,
            };
            let message =
                pest_error.renamed_rules(|rule| rule_name(&format!("{rule:?}"))).variant.message().into_owned();
            PathError { column: Some(column), message }
        }
        other => PathError { column: None, message: other.to_string() },
    }
}

/// A grammar rule's name as a reader says it: `member_name_shorthand` → `member name shorthand`.
fn rule_name(rule: &str) -> String {
    match rule {
        "ALPHA" => "a letter".to_owned(),
        "DIGIT" => "a digit".to_owned(),
        "EOI" => "the end of the path".to_owned(),
        other => other.replace('_', " ").to_lowercase(),
    }
}

/// The steps of a path made only of `.name`, `['name']` (no escapes) and `[index]`
/// segments, or `None` when the path needs the general evaluator (or is invalid,
/// which the general parser then reports).
fn direct_steps(source: &str) -> Option<Vec<Step>> {
    let mut rest = source.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after_dot) = rest.strip_prefix('.') {
            let end = after_dot.find(['.', '[']).unwrap_or(after_dot.len());
            let name = &after_dot[..end];
            if !crate::field_path::is_identifier(name) {
                return None;
            }
            steps.push(Step::Member(name.to_owned()));
            rest = &after_dot[end..];
        } else if let Some(after_bracket) = rest.strip_prefix('[') {
            let end = after_bracket.find(']')?;
            let inner = &after_bracket[..end];
            steps.push(bracket_step(inner)?);
            rest = &after_bracket[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

fn bracket_step(inner: &str) -> Option<Step> {
    for quote in ['\'', '"'] {
        if let Some(name) = inner.strip_prefix(quote).and_then(|s| s.strip_suffix(quote)) {
            let plain = !name.is_empty() && name.chars().all(|c| c != quote && c != '\\' && c >= ' ' && c != '\u{7f}');
            return plain.then(|| Step::Member(name.to_owned()));
        }
    }
    // RFC 9535 integers: no leading zeros, no "-0", within ±(2^53 - 1); keep it short.
    let digits = inner.strip_prefix('-').unwrap_or(inner);
    let canonical = !digits.is_empty()
        && digits.len() <= 15
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && inner != "-0";
    if canonical { inner.parse().ok().map(Step::Index) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn select(path: &str, document: &Value) -> Vec<Value> {
        CompiledPath::parse(path).unwrap().select(document).unwrap().into_iter().cloned().collect()
    }

    #[test]
    fn simple_paths_take_the_direct_plan() {
        for path in ["$", "$.a.b_c", "$['x-key'][0]", "$[-1]", "$[\"a b\"].c"] {
            let compiled = CompiledPath::parse(path).unwrap();
            assert!(matches!(compiled.plan, Plan::Direct(_)), "{path}");
        }
        for path in ["$.*", "$[*]", "$..a", "$[0:2]", "$[?@.a]", "$['a','b']", "$[01]", "$['a\\'b']", "$.héllo"] {
            let compiled = CompiledPath::parse(path);
            assert!(!matches!(compiled.map(|c| c.plan), Ok(Plan::Direct(_))), "{path}");
        }
    }

    #[test]
    fn direct_and_general_plans_agree() {
        let doc = json!({"a": {"b": [10, 20, {"c": true}]}, "x-key": [null], "": 1});
        for (path, expected) in [
            ("$.a.b[0]", json!([10])),
            ("$.a.b[-1].c", json!([true])),
            ("$.a.b[-4]", json!([])),
            ("$.a.b[3]", json!([])),
            ("$['x-key'][0]", json!([null])),
            ("$.a.missing", json!([])),
            ("$.a.b.c", json!([])),
        ] {
            assert_eq!(Value::Array(select(path, &doc)), expected, "{path}");
            let general = parse_json_path(path).unwrap();
            let nodes: Vec<Value> =
                js_path_process(&general, &doc).unwrap().into_iter().map(|n| n.val.clone()).collect();
            assert_eq!(Value::Array(nodes), expected, "general {path}");
        }
    }

    #[test]
    fn general_queries_select_in_document_order() {
        let doc = json!({"items": [{"id": 1, "t": "a"}, {"id": 2, "t": "b"}, {"id": 3, "t": "a"}]});
        assert_eq!(select("$.items[*].id", &doc), [json!(1), json!(2), json!(3)]);
        assert_eq!(select("$.items[?@.t == 'a'].id", &doc), [json!(1), json!(3)]);
        assert_eq!(select("$..id", &doc), [json!(1), json!(2), json!(3)]);
        assert_eq!(select("$.items[1:].id", &doc), [json!(2), json!(3)]);
    }

    #[test]
    fn invalid_paths_report_the_column() {
        let error = CompiledPath::parse("$.a.[b]").unwrap_err();
        assert_eq!(error.to_string(), "invalid JSONPath at column 5: expected wildcard selector or a letter");
        let error = CompiledPath::parse("$.items[?@.a ==]").unwrap_err();
        assert!(error.column.is_some(), "{error}");
        assert!(error.to_string().starts_with("invalid JSONPath at column"), "{error}");
        assert!(CompiledPath::parse("a.b").is_err());
    }
}
