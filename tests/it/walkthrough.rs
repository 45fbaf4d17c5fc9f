//! The README's five-minute walkthrough, run as written against the real binary, so the
//! README cannot drift from what hookmap does.
//!
//! The section is the one headed `## Five-minute walkthrough`. Its first `sh` block must be
//! `cargo run --release -- serve`: the test starts the built `hookmap serve` in its place, on
//! free loopback ports with a fresh data directory (`hookmap-data` in a temporary working
//! folder). Every later `sh` block runs, in order, in one `bash` with `set -euo pipefail`,
//! in that folder, with the binary's folder first on `PATH`. The README's addresses
//! (`127.0.0.1:8080`, `127.0.0.1:8081`) are replaced by the real ones in the commands, and
//! the real ones by the README's in the output. A ```` ```text ```` block right after an
//! `sh` block is what that block prints (`…` stands for any text within a line); an `sh`
//! block without one must print nothing. The walkthrough needs `bash`, `curl` and `openssl`:
//! when one is missing the test fails and says so.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The heading of the README section this test runs.
const SECTION: &str = "## Five-minute walkthrough";

/// The command the README gives for starting the server; the test starts the binary instead.
const SERVE: &str = "cargo run --release -- serve";

/// The addresses the README uses (the defaults of `hookmap serve`).
const README_INGEST: &str = "127.0.0.1:8080";
const README_ADMIN: &str = "127.0.0.1:8081";
const README_INGEST_LISTEN: &str = "0.0.0.0:8080";

/// Printed between two blocks' outputs, to split them.
const SEPARATOR: &str = "\u{1e}walkthrough-block\u{1e}";

/// One `sh` block of the walkthrough and the output shown after it.
#[derive(Debug)]
struct Step {
    script: String,
    expected: String,
}

/// The `sh` blocks of the walkthrough section, each with the `text` block that follows it
/// (empty when none does).
fn steps(readme: &str) -> Vec<Step> {
    let start = readme.find(SECTION).unwrap_or_else(|| panic!("README.md has no section {SECTION:?}"));
    let rest = &readme[start + SECTION.len()..];
    let section = rest.find("\n## ").map_or(rest, |end| &rest[..end]);
    let mut steps: Vec<Step> = Vec::new();
    let mut lines = section.lines();
    let mut last_was_sh = false;
    while let Some(line) = lines.next() {
        let Some(language) = line.strip_prefix("```") else {
            if !line.trim().is_empty() {
                last_was_sh = false;
            }
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
        let body = body.join("\n") + "\n";
        match language {
            "sh" => {
                steps.push(Step { script: body, expected: String::new() });
                last_was_sh = true;
            }
            "text" if last_was_sh => {
                steps.last_mut().expect("an sh block came first").expected = body;
                last_was_sh = false;
            }
            other => panic!("the walkthrough has a ```{other} block that is not the output of an sh block"),
        }
    }
    steps
}

/// Whether `actual` matches `expected`, line by line, `…` in `expected` matching any text.
fn matches(expected: &str, actual: &str) -> bool {
    let (expected, actual): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    expected.len() == actual.len() && expected.iter().zip(&actual).all(|(e, a)| line_matches(e, a))
}

fn line_matches(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split('…').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return expected == actual;
    }
    let Some(mut rest) = actual.strip_prefix(first) else { return false };
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Fails with a clear message when a tool the walkthrough uses is missing.
fn require_tools() {
    for tool in ["bash", "curl", "openssl"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(found, "the README walkthrough needs `{tool}`, which is not installed (e.g. `apt-get install {tool}`)");
    }
}

/// The `hookmap serve` process, killed when dropped.
struct Server {
    child: Child,
    ingest: String,
    admin: String,
    first_lines: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on free loopback ports with its data in `work/hookmap-data`, and reads
/// what it prints up to its addresses and the setup screen's.
fn serve(work: &Path) -> Server {
    let mut child = crate::hookmap_command()
        .args(["serve", "--ingest-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir", "hookmap-data"])
        .current_dir(work)
        .env_remove("HOOKMAP_ADMIN_TOKEN")
        .env("HOOKMAP_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn hookmap serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    // From here a panic kills the process (Drop).
    let mut server = Server { child, ingest: String::new(), admin: String::new(), first_lines: String::new() };
    loop {
        let mut line = String::new();
        let read = stdout.read_line(&mut line).expect("read the server's output");
        assert!(read > 0, "hookmap serve ended before printing its addresses:\n{}", server.first_lines);
        server.first_lines.push_str(&line);
        // "ingest: http://A  admin: http://B"
        if let Some(rest) = line.strip_prefix("ingest: http://") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            assert_eq!(words.len(), 3, "unexpected address line {line:?}");
            server.ingest = words[0].to_owned();
            server.admin = words[2].trim_start_matches("http://").to_owned();
            // The next line names the setup screen's address.
            let mut setup = String::new();
            stdout.read_line(&mut setup).expect("read the server's output");
            server.first_lines.push_str(&setup);
            return server;
        }
    }
}

/// A fresh, empty working folder.
fn work_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hookmap-it-walkthrough-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the working folder");
    dir
}

/// `PATH` with the folder of the binary under test first.
fn path_with_binary() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_hookmap")).parent().expect("the binary's folder").to_owned();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).expect("a valid PATH")
}

#[test]
fn the_readme_walkthrough_works_as_written() {
    require_tools();
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README.md");
    let steps = steps(&readme);
    assert!(steps.len() >= 8, "expected the walkthrough's steps, found {}", steps.len());
    assert_eq!(steps[0].script.trim(), SERVE, "the walkthrough starts with the server");

    let work = work_dir();
    let server = serve(&work);
    // The longer address first, so that one port that starts another is not replaced inside it.
    let mut real = [(server.ingest.clone(), README_INGEST_LISTEN), (server.admin.clone(), README_ADMIN)];
    real.sort_by_key(|(address, _)| std::cmp::Reverse(address.len()));
    let to_readme =
        |text: &str| real.iter().fold(text.to_owned(), |text, (address, shown)| text.replace(address, shown));
    let started = to_readme(&server.first_lines);
    assert!(
        matches(&steps[0].expected, &started),
        "the server printed\n{started}\nthe README shows\n{}",
        steps[0].expected
    );

    let mut script = String::from("set -euo pipefail\n");
    for step in &steps[1..] {
        let commands = step.script.replace(README_INGEST, &server.ingest).replace(README_ADMIN, &server.admin);
        script.push_str(&commands);
        script.push_str(&format!("printf '\\n{SEPARATOR}\\n'\n"));
    }
    let output = Command::new("bash")
        .args(["-c", &script])
        .current_dir(&work)
        .env("PATH", path_with_binary())
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    let stdout = to_readme(&String::from_utf8_lossy(&output.stdout));
    let outputs: Vec<&str> = stdout.split(&format!("\n{SEPARATOR}\n")).collect();
    let mut failures = Vec::new();
    for (n, step) in steps[1..].iter().enumerate() {
        let Some(actual) = outputs.get(n).filter(|_| n + 1 < outputs.len()) else {
            failures.push(format!(
                "block {} did not finish (bash exited with {}); stderr:\n{}\nthe block:\n{}",
                n + 2,
                output.status,
                String::from_utf8_lossy(&output.stderr),
                step.script
            ));
            break;
        };
        if !matches(&step.expected, actual) {
            failures.push(format!(
                "block {}:\n{}printed\n{actual}\nthe README shows\n{}",
                n + 2,
                step.script,
                step.expected
            ));
        }
    }
    drop(server);
    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&work);
    }
    assert!(
        failures.is_empty(),
        "the README walkthrough drifted (working folder {}):\n\n{}",
        work.display(),
        failures.join("\n\n")
    );
}

#[test]
fn wildcards_match_any_text_within_a_line() {
    assert!(matches("{\"eventId\":\"evt_…\",\"mode\":\"test\"}\n", "{\"eventId\":\"evt_01ab\",\"mode\":\"test\"}\n"));
    assert!(matches("a…b…c\n", "aXbYbc"));
    assert!(!matches("a…b\n", "a\nb\n"));
    assert!(!matches("abc\n", "abd\n"));
    assert!(!matches("a…\n", "ba\n"));
    assert!(matches("", ""));
    assert!(!matches("", "unexpected\n"));
}

#[test]
fn blocks_pair_commands_with_their_output() {
    let readme = "x\n## Five-minute walkthrough\n\n```sh\necho a\n```\n\n```text\na\n```\n\ntext\n\n```sh\ntrue\n```\n## Next\n```sh\nno\n```\n";
    let steps = steps(readme);
    assert_eq!(steps.len(), 2);
    assert_eq!((steps[0].script.as_str(), steps[0].expected.as_str()), ("echo a\n", "a\n"));
    assert_eq!((steps[1].script.as_str(), steps[1].expected.as_str()), ("true\n", ""));
}
