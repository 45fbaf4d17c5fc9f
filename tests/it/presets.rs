//! Every script preset runs on its sample and request and gives its expected output,
//! through the library API and through `hookmap map`.

use std::time::Duration;

use hookmap::mapping::{Input, Limits, Mapping, RequestInfo, compile};
use serde_json::Value;

/// Generous limits: the suite runs on shared cores; the presets' own budget is the default 50 ms.
const LIMITS: Limits = Limits { time: Duration::from_millis(1000), memory_bytes: 32 << 20 };

fn request(text: &str) -> RequestInfo {
    let value: Value = serde_json::from_str(text).expect("request fixtures are JSON");
    RequestInfo::from_json(&value, "").expect("request fixtures are request objects")
}

#[test]
fn every_preset_maps_its_sample_to_its_expected_output() {
    let mut failures = Vec::new();
    for preset in hookmap::presets::list() {
        let program = compile(&Mapping::Script { source: preset.script.to_owned(), limits: LIMITS })
            .unwrap_or_else(|e| panic!("{}: {e}", preset.name));
        let body: Value = serde_json::from_str(preset.sample).expect("samples are JSON");
        let expected: Value = serde_json::from_str(preset.expected).expect("expected outputs are JSON");
        match program.run(&Input { body, request: request(preset.request) }) {
            Ok(output) if output == expected => {}
            Ok(output) => failures.push(format!("{}: expected {expected}\n  actual {output}", preset.name)),
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
