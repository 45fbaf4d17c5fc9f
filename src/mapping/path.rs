//! JSONPath expressions compiled once, evaluated many times.
//!
//! Singular paths made of member names and indexes (`$.data.object.id`,
//! `$['x-key'][0]`) take a direct-lookup fast path; every other RFC 9535 query
//! (wildcards, slices, filters, descendants) is parsed by jsonpath-rust at compile
//! time and evaluated by it at run time. jsonpath-rust applies a segment of several
//! selectors (`[*]['a','b']`, `..['a','b']`) selector by selector over all nodes; RFC 9535
//! orders the results node by node, so such queries are evaluated here one segment
//! (and one node) at a time.

use std::fmt;

use jsonpath_rust::parser::model::{JpQuery, Segment};
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
    /// A query with a segment of several selectors, evaluated stage by stage, each
    /// stage applied to one node at a time.
    Staged(Vec<Stage>),
}

#[derive(Debug, Clone)]
enum Stage {
    /// One segment, applied by jsonpath-rust to each node as if it were the root.
    Segment(JpQuery),
    /// Each node and all its descendants, in document order.
    Descendants,
}

/// One step of a singular path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// An object member, by name.
    Member(String),
    /// An array element, by index (negative counts from the end).
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
            None => plan_query(source, parse_json_path(source).map_err(path_error)?),
        };
        Ok(CompiledPath { source: source.into(), plan })
    }

    /// Parses `source` for jsonpath-rust's evaluator alone, without the direct and
    /// staged plans: the reference the fast paths are tested against.
    pub fn parse_general(source: &str) -> Result<CompiledPath, PathError> {
        Ok(CompiledPath { source: source.into(), plan: Plan::Query(parse_json_path(source).map_err(path_error)?) })
    }

    /// The path as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The steps of a singular path of member names and indexes (`$.a['b'][0]`), or
    /// `None` for any other query.
    pub fn steps(&self) -> Option<&[Step]> {
        match &self.plan {
            Plan::Direct(steps) => Some(steps),
            Plan::Query(_) | Plan::Staged(_) => None,
        }
    }

    /// The nodes this path selects in `document`, in document order.
    pub fn select<'a>(&self, document: &'a Value) -> Result<Vec<&'a Value>, EvalError> {
        match &self.plan {
            Plan::Direct(steps) => Ok(lookup(steps, document).into_iter().collect()),
            Plan::Query(query) => run_query(query, document),
            Plan::Staged(stages) => {
                let mut nodes = vec![document];
                for stage in stages {
                    let mut next = Vec::new();
                    for node in nodes {
                        match stage {
                            Stage::Segment(query) => next.extend(run_query(query, node)?),
                            Stage::Descendants => push_descendants(node, &mut next),
                        }
                    }
                    nodes = next;
                }
                Ok(nodes)
            }
        }
    }
}

fn run_query<'a>(query: &JpQuery, document: &'a Value) -> Result<Vec<&'a Value>, EvalError> {
    js_path_process(query, document)
        .map(|nodes| nodes.into_iter().map(|node| node.val).collect())
        .map_err(|e| EvalError(e.to_string()))
}

/// `node` and every node below it, in document order.
fn push_descendants<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(node);
    match node {
        Value::Array(items) => items.iter().for_each(|item| push_descendants(item, out)),
        Value::Object(map) => map.values().for_each(|value| push_descendants(value, out)),
        _ => {}
    }
}

/// How to evaluate a parsed query: staged when it has a segment of several selectors
/// (and no `$` inside it, which would need the real root in every stage).
fn plan_query(source: &str, query: JpQuery) -> Plan {
    let several = |segment: &Segment| match segment {
        Segment::Selectors(selectors) => selectors.len() > 1,
        Segment::Descendant(inner) => matches!(&**inner, Segment::Selectors(s) if s.len() > 1),
        Segment::Selector(_) => false,
    };
    if !query.segments.iter().any(several) || refers_to_root(source) {
        return Plan::Query(query);
    }
    let single = |segment: Segment| Stage::Segment(JpQuery::new(vec![segment]));
    let mut stages = Vec::new();
    for segment in query.segments {
        match segment {
            Segment::Descendant(inner) => {
                stages.push(Stage::Descendants);
                stages.push(single(*inner));
            }
            other => stages.push(single(other)),
        }
    }
    Plan::Staged(stages)
}

/// Whether the query mentions `$` after its start, outside string literals.
fn refers_to_root(source: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in source.chars().skip(1) {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') => return true,
            (None, _) => {}
        }
    }
    false
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
    fn several_selectors_are_applied_node_by_node() {
        let doc = json!([{"n": "a", "v": 1}, {"n": "b", "v": 2}]);
        assert_eq!(select("$[*]['n','v']", &doc), [json!("a"), json!(1), json!("b"), json!(2)]);
        assert_eq!(select("$..['n','v']", &doc), [json!("a"), json!(1), json!("b"), json!(2)]);
        assert_eq!(select("$[?@.v > 1]['v','n']", &doc), [json!(2), json!("b")]);
        // With $ inside, the query needs the real root: jsonpath-rust evaluates it whole.
        assert!(matches!(CompiledPath::parse("$[?@.v == $[0].v]['n','v']").unwrap().plan, Plan::Query(_)));
        assert!(matches!(CompiledPath::parse("$[*]['$','v']").unwrap().plan, Plan::Staged(_)));
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
