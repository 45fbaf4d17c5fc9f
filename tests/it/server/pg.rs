//! The tests' PostgreSQL: one server per run of the test binary, started by
//! `tests/pg/start.sh` (which installs Debian's `postgresql` when it is missing) on first use,
//! and stopped by the script's watchdog once this process has exited. Each test gets a
//! database of its own ([`fresh_database`]).

use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The server: its psql and its URL (of the `postgres` database).
struct Server {
    psql: String,
    url: String,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

fn start() -> Result<Server, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pg/start.sh");
    let output = Command::new("bash")
        .arg(script)
        .arg(std::process::id().to_string())
        .output()
        .map_err(|e| format!("cannot run {script}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines().rev();
    match (output.status.success(), lines.next(), lines.next()) {
        (true, Some(url), Some(psql)) => Ok(Server { psql: psql.to_owned(), url: url.to_owned() }),
        _ => Err(format!(
            "the tests' PostgreSQL did not start ({script}):\n{}\n\
             install PostgreSQL with: apt-get update && apt-get install -y postgresql",
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

fn server() -> &'static Server {
    match SERVER.get_or_init(start) {
        Ok(server) => server,
        Err(e) => panic!("{e}"),
    }
}

/// The URL of a new, empty database on the tests' server.
pub fn fresh_database() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let server = server();
    let name = format!("t_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let output = Command::new(&server.psql)
        .args([server.url.as_str(), "-v", "ON_ERROR_STOP=1", "-qc", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("run psql");
    assert!(output.status.success(), "CREATE DATABASE {name}: {}", String::from_utf8_lossy(&output.stderr));
    let base = server.url.rsplit_once('/').map_or(server.url.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}
