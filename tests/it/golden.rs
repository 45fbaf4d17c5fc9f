//! Helpers for golden files: find the case folders, compare actual output with the
//! expected file, or rewrite it when `HOOKMAP_BLESS=1`.

use std::path::{Path, PathBuf};

/// The case folders directly under `root`, sorted by name.
pub fn case_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Compares `actual` with the file at `expected` (or writes it when blessing); on a
/// difference, says what differs.
pub fn check_or_bless(expected: &Path, actual: &[u8]) -> Result<(), String> {
    if std::env::var_os("HOOKMAP_BLESS").is_some() {
        std::fs::write(expected, actual).map_err(|e| format!("{}: cannot write: {e}", expected.display()))?;
        return Ok(());
    }
    let wanted = std::fs::read(expected).unwrap_or_default();
    if wanted == actual {
        return Ok(());
    }
    Err(format!(
        "{} differs\n--- expected\n{}\n--- actual\n{}",
        expected.display(),
        String::from_utf8_lossy(&wanted),
        String::from_utf8_lossy(actual)
    ))
}
