//! The RFC 9535 compliance suite run through the path compiler that mappings use.

use hookmap::mapping::path::CompiledPath;
use serde_json::Value;

/// Cases passing today; the test fails if fewer pass. Raise it when the count rises.
const MIN_PASSING: usize = 696;

/// The cases known to fail (by name), with the reason; they are jsonpath-rust's
/// behaviour, listed in docs/mappings.md. Any other failing case fails the test.
const KNOWN_FAILURES: [(&str, &str); 7] = [
    ("filter, nested", "a filter inside a filter's existence test selects nothing"),
    ("functions, count, result must be compared", TYPING),
    ("functions, length, result must be compared", TYPING),
    ("functions, length, non-singular query arg", TYPING),
    ("functions, length, non-singular query arg, multiple index selectors", TYPING),
    ("functions, length, non-singular query arg, multiple name selectors", TYPING),
    ("functions, value, result must be compared", TYPING),
];
const TYPING: &str = "function expressions are not type-checked (RFC 9535 2.4.3), so ill-typed queries are accepted";

#[derive(serde::Deserialize)]
struct Suite {
    tests: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    selector: String,
    #[serde(default)]
    document: Value,
    #[serde(default)]
    result: Option<Vec<Value>>,
    #[serde(default)]
    results: Option<Vec<Vec<Value>>>,
    #[serde(default)]
    invalid_selector: bool,
}

/// Why a case failed, or `None` when it passed.
fn failure(case: &Case) -> Option<String> {
    let compiled = CompiledPath::parse(&case.selector);
    if case.invalid_selector {
        return compiled.is_ok().then(|| "accepted an invalid selector".to_owned());
    }
    let path = match compiled {
        Ok(path) => path,
        Err(error) => return Some(format!("rejected a valid selector: {error}")),
    };
    let got: Vec<Value> = match path.select(&case.document) {
        Ok(nodes) => nodes.into_iter().cloned().collect(),
        Err(error) => return Some(format!("evaluation failed: {}", error.0)),
    };
    let expected: Vec<&Vec<Value>> = case.result.iter().chain(case.results.iter().flatten()).collect();
    (!expected.contains(&&got)).then(|| format!("selected {}", Value::Array(got)))
}

#[test]
fn compliance_suite() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/jsonpath-cts.json"))
        .expect("the suite is in the repository");
    let suite: Suite = serde_json::from_str(&text).expect("the suite is JSON");
    let failures: Vec<(&Case, String)> =
        suite.tests.iter().filter_map(|case| failure(case).map(|why| (case, why))).collect();
    let passing = suite.tests.len() - failures.len();
    println!("JSONPath compliance: {passing} of {} cases pass", suite.tests.len());
    let unexpected: Vec<String> = failures
        .iter()
        .filter(|(case, _)| !KNOWN_FAILURES.iter().any(|(name, _)| *name == case.name))
        .map(|(case, why)| format!("{} ({}): {why}", case.name, case.selector))
        .collect();
    assert!(unexpected.is_empty(), "unexpected failures:\n{}", unexpected.join("\n"));
    let fixed: Vec<&str> = KNOWN_FAILURES
        .iter()
        .filter(|(name, _)| !failures.iter().any(|(case, _)| case.name == *name))
        .map(|(name, _)| *name)
        .collect();
    assert!(fixed.is_empty(), "these known failures pass now; remove them and raise MIN_PASSING: {fixed:?}");
    assert!(passing >= MIN_PASSING, "{passing} cases pass, fewer than {MIN_PASSING}");
}
