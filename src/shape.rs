//! The shape check: is a request body shaped like the trigger's sample?
//!
//! A [`Shape`] is a list of checks, each a JSONPath with the JSON types the sample has
//! there. A body matches when, for every check, the path selects something in the body
//! (unless the check is optional) and every node it selects has one of those types.
//!
//! - `referenced` (the default): one check per JSONPath the mapping reads that selects
//!   something in the sample ([`crate::mapping::Program::reads_on`] the sample: a structured
//!   mapping's paths; for a script, the payload properties it read while mapping the sample).
//!   Paths that select nothing in the sample are not checked.
//! - In both modes a path through any array element (`[*]`) is optional, since arrays may be
//!   empty; the other paths are required.
//! - `sample`: one check per property of the sample ([`crate::sample::properties`]).
//! - `off`: no check.
//!
//! `null` is a type like any other: a body with `null` where the sample has a string does
//! not match (the sample should show `null` if the sender sends it).

use serde_json::Value;

use crate::mapping::path::CompiledPath;
use crate::problem::Problem;
use crate::sample::{JsonType, SampleError};

/// One check of a [`Shape`].
#[derive(Debug)]
struct Check {
    path: CompiledPath,
    types: Vec<JsonType>,
    required: bool,
}

/// What a body must look like; built once per trigger configuration.
#[derive(Debug, Default)]
pub struct Shape {
    checks: Vec<Check>,
}

fn types_of(nodes: &[&Value]) -> Vec<JsonType> {
    let mut types = Vec::new();
    for node in nodes {
        let t = JsonType::of(node);
        if !types.contains(&t) {
            types.push(t);
        }
    }
    types
}

fn names(types: &[JsonType]) -> String {
    types.iter().map(|t| t.name()).collect::<Vec<_>>().join(" or ")
}

impl Shape {
    /// The `referenced` shape: the paths in `reads` that select something in `sample`.
    pub fn referenced(sample: &Value, reads: &[String]) -> Shape {
        let mut checks = Vec::new();
        for read in reads {
            let Ok(path) = CompiledPath::parse(read) else { continue };
            let Ok(nodes) = path.select(sample) else { continue };
            if !nodes.is_empty() {
                let types = types_of(&nodes);
                checks.push(Check { path, types, required: !read.contains("[*]") });
            }
        }
        Shape { checks }
    }

    /// The `sample` shape: every property of `sample`.
    pub fn of_sample(sample: &Value) -> Result<Shape, SampleError> {
        let mut checks = Vec::new();
        for property in crate::sample::properties(sample)? {
            let Ok(path) = CompiledPath::parse(&property.path) else { continue };
            let required = !property.path.contains("[*]");
            checks.push(Check { path, types: property.types, required });
        }
        Ok(Shape { checks })
    }

    /// How many paths are checked.
    pub fn len(&self) -> usize {
        self.checks.len()
    }

    /// Whether nothing is checked.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    /// Checks `body`: `Ok`, or every mismatch with its path.
    pub fn check(&self, body: &Value) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        for check in &self.checks {
            let source = check.path.source();
            let nodes = match check.path.select(body) {
                Ok(nodes) => nodes,
                Err(e) => {
                    problems.push(Problem::new(source, format!("could not be evaluated: {}", e.0)));
                    continue;
                }
            };
            if nodes.is_empty() {
                if check.required {
                    problems
                        .push(Problem::new(source, format!("missing (the sample has {} here)", names(&check.types))));
                }
                continue;
            }
            let found = types_of(&nodes);
            let unexpected: Vec<JsonType> = found.into_iter().filter(|t| !check.types.contains(t)).collect();
            if !unexpected.is_empty() {
                problems.push(Problem::new(
                    source,
                    format!("expected {}, found {}", names(&check.types), names(&unexpected)),
                ));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reads(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn referenced_checks_only_what_the_mapping_reads_and_the_sample_has() {
        let sample = json!({"id": "evt_1", "data": {"amount": 5, "user": "u1"}, "extra": true});
        let shape = Shape::referenced(&sample, &reads(&["$.data.user", "$.data.amount", "$.not.in.sample"]));
        assert_eq!(shape.len(), 2);
        assert_eq!(shape.check(&json!({"data": {"amount": 7, "user": "u2"}})), Ok(()));
        let problems = shape.check(&json!({"data": {"amount": "7"}})).unwrap_err();
        assert_eq!(
            problems,
            vec![
                Problem::new("$.data.user", "missing (the sample has string here)"),
                Problem::new("$.data.amount", "expected number, found string"),
            ]
        );
    }

    #[test]
    fn sample_mode_requires_every_property_but_not_array_elements() {
        let sample = json!({"a": 1, "items": [{"id": "x"}], "n": null});
        let shape = Shape::of_sample(&sample).unwrap();
        assert_eq!(shape.check(&json!({"a": 2, "items": [], "n": null})), Ok(()));
        assert_eq!(shape.check(&json!({"a": 2, "items": [{"id": "y"}], "n": null, "more": 1})), Ok(()));
        let problems = shape.check(&json!({"a": 2, "items": [{"id": 3}]})).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["$.items[*].id", "$.n"]);
    }

    #[test]
    fn referenced_paths_through_array_elements_are_optional() {
        let sample = json!({"items": [{"id": "x"}]});
        let shape = Shape::referenced(&sample, &reads(&["$['items']", "$['items'][*]['id']"]));
        assert_eq!(shape.check(&json!({"items": []})), Ok(()));
        let problems = shape.check(&json!({"items": "none"})).unwrap_err();
        assert_eq!(problems, vec![Problem::new("$['items']", "expected array, found string")]);
        let problems = shape.check(&json!({"items": [{"id": 1}]})).unwrap_err();
        assert_eq!(problems[0].path, "$['items'][*]['id']");
    }

    #[test]
    fn null_is_a_type_of_its_own() {
        let shape = Shape::referenced(&json!({"a": "x"}), &reads(&["$.a"]));
        assert!(shape.check(&json!({"a": null})).is_err());
    }
}
