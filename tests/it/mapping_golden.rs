//! Golden mapping cases: each folder under `tests/golden/` holds a realistic
//! provider `sample.json`, a structured `mapping.json`, and either `expected.json`
//! (the exact output, key order included) or `expected-errors.txt` (every error,
//! one per line). `SOURCE.md` cites the documentation the payload was built from.

use std::path::Path;

use hookmap::mapping::{Input, Mapped, Mapping, compile};
use serde_json::Value;

use crate::golden::case_dirs;

fn run_case(case: &Path) -> Result<(), String> {
    let read = |name: &str| std::fs::read_to_string(case.join(name)).map_err(|e| format!("{name}: {e}"));
    let mapping = Mapping::Structured {
        source: read("mapping.json")?,
        limits: Default::default(),
        isolation: Default::default(),
    };
    let sample: Value = serde_json::from_str(&read("sample.json")?).map_err(|e| format!("sample.json: {e}"))?;
    let outcome = compile(&mapping)
        .map_err(|errors| errors.to_string())
        .and_then(|program| program.run(&Input::from_body(sample)).map_err(|errors| errors.to_string()))
        .map(|mapped| match mapped {
            Mapped::Event(document) => document,
            Mapped::Skipped(skip) => skip.to_json(),
        });
    match (outcome, read("expected.json"), read("expected-errors.txt")) {
        (Ok(actual), Ok(expected), _) => {
            let expected: Value = serde_json::from_str(&expected).map_err(|e| format!("expected.json: {e}"))?;
            let (actual, expected) = (actual.to_string(), expected.to_string());
            if actual == expected { Ok(()) } else { Err(format!("expected {expected}\n  actual {actual}")) }
        }
        (Err(actual), _, Ok(expected)) => {
            if actual.trim_end() == expected.trim_end() {
                Ok(())
            } else {
                Err(format!("expected errors:\n{expected}\nactual errors:\n{actual}"))
            }
        }
        (Ok(actual), _, _) => Err(format!("expected errors, got {actual}")),
        (Err(actual), _, _) => Err(format!("expected output, got errors:\n{actual}")),
    }
}

#[test]
fn golden_mapping_cases() {
    let cases = case_dirs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden"));
    assert!(cases.len() >= 20, "expected at least 20 golden cases, found {}", cases.len());
    let failures: Vec<String> =
        cases.iter().filter_map(|case| run_case(case).err().map(|why| format!("{}: {why}", case.display()))).collect();
    assert!(failures.is_empty(), "{} of {} cases fail:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}
