//! Replays every fuzz corpus and regression input (`fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`) through the same functions the fuzz targets call, so
//! a regression fails `cargo test` on the stable toolchain.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 7] = [
    ("jsonpath", hookmap::fuzzing::jsonpath),
    ("structured_mapping", hookmap::fuzzing::structured_mapping),
    ("properties", hookmap::fuzzing::properties),
    ("signature", hookmap::fuzzing::signature),
    ("allowlist", hookmap::fuzzing::allowlist),
    ("script", hookmap::fuzzing::script),
    ("ingest", hookmap::fuzzing::ingest),
];

fn files(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn every_corpus_and_regression_input_passes_its_target() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut failures = Vec::new();
    for (name, target) in TARGETS {
        let corpus = files(&fuzz.join("corpus").join(name));
        assert!(!corpus.is_empty(), "the {name} corpus has no seeds (run fuzz/seeds.py)");
        for file in corpus.iter().chain(&files(&fuzz.join("regressions").join(name))) {
            let data = std::fs::read(file).expect("corpus files are readable");
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target(&data))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
                failures.push(format!("{}: {}", file.display(), message.unwrap_or_default()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
