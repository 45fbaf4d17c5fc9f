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
        let output = Command::new(env!("CARGO_BIN_EXE_hookmap"))
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
