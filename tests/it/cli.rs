//! Golden tests of the `hookmap` command line: each folder under `tests/cli/` holds
//! `args` (one argument per line), the files the command reads, and the expected
//! `stdout`, `stderr` and `status`. The command runs in the case's folder, with
//! `stdin` fed from the file of that name when there is one.
//!
//! `HOOKMAP_BLESS=1 cargo test --test it cli` rewrites the expected files from the
//! actual output; review the diff before committing it.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::golden::{case_dirs, check_or_bless};

#[test]
fn cli_golden_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let cases = case_dirs(&root);
    assert!(cases.len() >= 10, "expected the CLI golden cases under {}", root.display());
    let mut failures = Vec::new();
    for case in &cases {
        let args = std::fs::read_to_string(case.join("args")).expect("every case has an args file");
        let stdin = match std::fs::File::open(case.join("stdin")) {
            Ok(file) => Stdio::from(file),
            Err(_) => Stdio::null(),
        };
        let output = crate::hookmap_command()
            .args(args.lines().filter(|l| !l.is_empty()))
            .current_dir(case)
            .stdin(stdin)
            .output()
            .expect("the hookmap binary runs");
        let status = format!("{}\n", output.status.code().map_or("signal".to_owned(), |c| c.to_string()));
        for (file, actual) in [("stdout", output.stdout), ("stderr", output.stderr), ("status", status.into_bytes())] {
            if let Err(diff) = check_or_bless(&case.join(file), &actual) {
                failures.push(diff);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_script_mapping_answers_with_an_empty_module_cache_and_leaves_the_cache_filled() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = || {
        Command::new(env!("CARGO_BIN_EXE_hookmap"))
            .args(["map", "--mapping", "presets/scripts/default.js", "--sample", "presets/scripts/default.sample.json"])
            .current_dir(root)
            .env("HOOKMAP_CACHE_DIR", cache.path())
            .output()
            .expect("the hookmap binary runs")
    };
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("presets/scripts/default.expected.json")).unwrap())
            .unwrap();
    let cold = map();
    let stderr = String::from_utf8_lossy(&cold.stderr);
    assert!(cold.status.success(), "{stderr}");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&cold.stdout).ok(), Some(expected.clone()));
    let notice = format!(
        "hookmap: compiling the script sandbox for this version (about a second; cached in {})",
        cache.path().display()
    );
    assert!(stderr.lines().any(|line| line == notice), "{stderr}");
    let entries = std::fs::read_dir(cache.path())
        .map(|dir| dir.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "cwasm")).count());
    assert_eq!(entries.ok(), Some(1), "one module in the cache after the first command");

    let warm = map();
    assert!(warm.status.success());
    assert_eq!(String::from_utf8_lossy(&warm.stderr), "", "a warm command waits for nothing");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&warm.stdout).ok(), Some(expected));
}
