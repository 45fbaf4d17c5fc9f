//! Replays every fuzz seed (written by `fuzz/seeds.py` from the repository's data into a
//! temporary folder) and regression input (`fuzz/regressions/<target>/`) through the same
//! functions the fuzz targets call, so a regression fails `cargo test` on the stable toolchain.

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
    ("ingest", hookmap::server::fuzz_ingest::ingest),
];

fn files(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Writes the seed corpora into `out` with `fuzz/seeds.py`.
fn write_seeds(fuzz: &Path, out: &Path) {
    let status = std::process::Command::new("python3").arg(fuzz.join("seeds.py")).arg(out).status();
    match status {
        Ok(status) => assert!(status.success(), "fuzz/seeds.py failed: {status}"),
        Err(e) => panic!("python3 runs fuzz/seeds.py, which writes the seeds: {e} (install python3)"),
    }
}

#[test]
fn every_seed_and_regression_input_passes_its_target() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let seeds = tempfile::tempdir().expect("a temporary folder");
    write_seeds(&fuzz, seeds.path());
    let mut failures = Vec::new();
    for (name, target) in TARGETS {
        let corpus = files(&seeds.path().join(name));
        assert!(!corpus.is_empty(), "fuzz/seeds.py wrote no seeds for {name}");
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
