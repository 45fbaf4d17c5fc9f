//! Every script preset runs on its sample and request and gives its expected output,
//! through the library API and through `hookmap map`; so does every event-type case in
//! `presets/scripts/cases/NAME/EVENT/` (mapped, skipped or refused).

use std::path::{Path, PathBuf};
use std::time::Duration;

use hookmap::mapping::{Input, Limits, Mapped, Mapping, Program, RequestInfo, compile};
use serde_json::Value;

/// Generous limits: the suite runs on shared cores; the presets' own budget is the default 50 ms.
const LIMITS: Limits = Limits { time: Duration::from_millis(1000), memory_bytes: 32 << 20 };

fn request(text: &str) -> RequestInfo {
    let value: Value = serde_json::from_str(text).expect("request fixtures are JSON");
    RequestInfo::from_json(&value, "").expect("request fixtures are request objects")
}

fn program(preset: &hookmap::presets::ScriptPreset) -> Program {
    compile(&Mapping::Script { source: preset.script.to_owned(), limits: LIMITS, isolation: Default::default() })
        .unwrap_or_else(|e| panic!("{}: {e}", preset.name))
}

#[test]
fn every_preset_maps_its_sample_to_its_expected_output() {
    let mut failures = Vec::new();
    for preset in hookmap::presets::list() {
        let program = program(preset);
        let body: Value = serde_json::from_str(preset.sample).expect("samples are JSON");
        let expected: Value = serde_json::from_str(preset.expected).expect("expected outputs are JSON");
        match program.run(&Input { body, request: request(preset.request) }) {
            Ok(Mapped::Event(output)) if output == expected => {}
            Ok(output) => failures.push(format!("{}: expected {expected}\n  actual {output:?}", preset.name)),
            Err(errors) => failures.push(format!("{}: {errors}", preset.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn presets_run_through_the_cli_with_a_request_file() {
    let dir = std::env::temp_dir().join(format!("hookmap-presets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let preset = hookmap::presets::get("github").expect("the github preset");
    for (name, text) in [("github.js", preset.script), ("sample.json", preset.sample), ("request.json", preset.request)]
    {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let output = crate::hookmap_command()
        .args(["map", "--mapping", "github.js", "--sample", "sample.json", "--request", "request.json"])
        .args(["--time-limit-ms", "1000"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let actual: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(actual, serde_json::from_str::<Value>(preset.expected).unwrap());
    std::fs::remove_dir_all(&dir).ok();
}

/// One event type of one provider: `presets/scripts/cases/PRESET/EVENT/`.
struct Case {
    preset: &'static hookmap::presets::ScriptPreset,
    dir: PathBuf,
    body: PathBuf,
    /// `request.json` in the case's folder, else the preset's own request.
    request: String,
    /// The mapped document, `{"skipped": true, "reason": …}` or `{"error": "part of the message"}`.
    expected: Value,
}

impl Case {
    fn name(&self) -> String {
        format!("{}/{}", self.preset.name, self.dir.file_name().unwrap().to_string_lossy())
    }

    fn request_file(&self) -> Option<PathBuf> {
        Some(self.dir.join("request.json")).filter(|path| path.exists())
    }
}

fn cases_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/scripts/cases")
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for preset in hookmap::presets::list() {
        for dir in crate::golden::case_dirs(&cases_root().join(preset.name)) {
            let read = |name: &str| std::fs::read_to_string(dir.join(name));
            let expected = read("expected.json").unwrap_or_else(|e| panic!("{}: expected.json: {e}", dir.display()));
            cases.push(Case {
                preset,
                body: dir.join("body.json"),
                request: read("request.json").unwrap_or_else(|_| preset.request.to_owned()),
                expected: serde_json::from_str(&expected).unwrap_or_else(|e| panic!("{}: {e}", dir.display())),
                dir,
            });
        }
    }
    cases
}

/// What a case's run gave, in the shape of its expected file.
fn outcome(result: Result<Mapped, hookmap::mapping::MapErrors>, expected: &Value) -> Value {
    match result {
        Ok(Mapped::Event(document)) => document,
        Ok(Mapped::Skipped(skip)) => skip.to_json(),
        Err(errors) => {
            let text = errors.to_string();
            match expected.get("error").and_then(Value::as_str) {
                Some(part) if text.contains(part) => expected.clone(),
                _ => serde_json::json!({ "error": text }),
            }
        }
    }
}

#[test]
fn every_event_type_case_gives_its_expected_output() {
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let body: Value = serde_json::from_str(&std::fs::read_to_string(&case.body).unwrap())
            .unwrap_or_else(|e| panic!("{}: body.json: {e}", case.name()));
        let result = program(case.preset).run(&Input { body, request: request(&case.request) });
        let actual = outcome(result, &case.expected);
        if actual != case.expected {
            failures.push(format!("{}: expected {}\n  actual {actual}", case.name(), case.expected));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for preset in hookmap::presets::list().iter().filter(|p| p.name != "default") {
        let of_preset: Vec<&Case> = cases.iter().filter(|c| c.preset.name == preset.name).collect();
        assert!(of_preset.len() >= 3, "{}: {} event-type cases, expected at least 3", preset.name, of_preset.len());
        assert!(cases_root().join(preset.name).join("SOURCE.md").exists(), "{}: no SOURCE.md", preset.name);
    }
    let skips = cases.iter().filter(|c| c.expected.get("skipped").is_some()).count();
    assert!(skips >= 10, "only {skips} skipped cases");
}

/// `hookmap map --mapping preset:NAME` gives the same output as the library, skips included,
/// on one mapped and one skipped case of each provider that has both.
#[test]
fn event_type_cases_run_through_the_cli() {
    let mut failures = Vec::new();
    let mut checked = std::collections::HashSet::new();
    for case in cases() {
        let kind = if case.expected.get("skipped").is_some() { "skipped" } else { "mapped" };
        if case.expected.get("error").is_some() || !checked.insert((case.preset.name, kind)) {
            continue;
        }
        let mut command = crate::hookmap_command();
        command.args(["map", "--mapping", &format!("preset:{}", case.preset.name), "--sample"]).arg(&case.body);
        if let Some(request) = case.request_file() {
            command.arg("--request").arg(request);
        } else {
            let path =
                std::env::temp_dir().join(format!("hookmap-presets-{}-{}.json", std::process::id(), case.preset.name));
            std::fs::write(&path, case.preset.request).unwrap();
            command.arg("--request").arg(path);
        }
        let output = command.args(["--time-limit-ms", "1000"]).output().unwrap();
        if case.request_file().is_none() {
            std::fs::remove_file(std::env::temp_dir().join(format!(
                "hookmap-presets-{}-{}.json",
                std::process::id(),
                case.preset.name
            )))
            .ok();
        }
        if !output.status.success() {
            failures.push(format!("{}: {}", case.name(), String::from_utf8_lossy(&output.stderr)));
            continue;
        }
        match serde_json::from_slice::<Value>(&output.stdout) {
            Ok(actual) if actual == case.expected => {}
            Ok(actual) => failures.push(format!("{}: expected {}\n  actual {actual}", case.name(), case.expected)),
            Err(e) => failures.push(format!("{}: stdout is not JSON: {e}", case.name())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked.len() >= 11, "only {} cases through the CLI", checked.len());
}
