//! `hookmap serve`: run the ingest server and the admin API until SIGTERM or SIGINT.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use hookmap::server::{self, Config};

/// Arguments of `hookmap serve` (flags override the config file).
#[derive(Args)]
pub struct ServeArgs {
    /// A JSON config file (keys: dataDir, database, ingestAddr, adminAddr, publicUrl, adminToken, maxBodyBytes,
    /// maxInFlight, maxConnections, listenBacklog, maxHeaderBytes, headerTimeoutMs, bodyTimeoutMs,
    /// queueCapacity, batchMax, cacheCapacity, maxWaitSeconds, delivery).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The data directory (database, admin token). Default ./hookmap-data.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A PostgreSQL database several nodes share (postgres://user@host:port/db); also the
    /// `database` config key and HOOKMAP_DATABASE_URL. Default: SQLite in the data directory.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// The ingest listener's address. Default 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR")]
    ingest_addr: Option<SocketAddr>,
    /// The admin listener's address. Default 127.0.0.1:8081.
    #[arg(long, value_name = "ADDR")]
    admin_addr: Option<SocketAddr>,
    /// The base URL senders use to reach the ingest listener. Default http://{ingest address},
    /// with 0.0.0.0 or :: replaced by loopback.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// The largest accepted body, in bytes. Default 1048576.
    #[arg(long, value_name = "BYTES")]
    max_body_bytes: Option<usize>,
}

fn config(args: &ServeArgs) -> Result<Config, server::StartError> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(url) = &args.database {
        config.database = Some(url.clone());
    } else if config.database.is_none()
        && let Ok(url) = std::env::var("HOOKMAP_DATABASE_URL")
        && !url.is_empty()
    {
        config.database = Some(url);
    }
    if let Some(addr) = args.ingest_addr {
        config.ingest_addr = addr;
    }
    if let Some(addr) = args.admin_addr {
        config.admin_addr = addr;
    }
    if let Some(url) = &args.public_url {
        config.public_url = Some(url.clone());
    }
    if let Some(limit) = args.max_body_bytes {
        config.max_body_bytes = limit;
    }
    Ok(config)
}

/// Prints one line of the start-up report on stdout. A reader that has gone (a closed pipe) does
/// not stop the server: the line is dropped, where `println!` would panic.
fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// SIGTERM and SIGINT (Ctrl-C), listened for from the moment it is made: a signal sent as soon
/// as the server has printed its addresses stops it cleanly instead of killing it.
#[cfg(unix)]
struct Termination {
    /// SIGTERM.
    term: tokio::signal::unix::Signal,
    /// SIGINT.
    interrupt: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Termination {
    /// Installs the handlers.
    fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self { term: signal(SignalKind::terminate())?, interrupt: signal(SignalKind::interrupt())? })
    }

    /// Waits for either signal.
    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}

/// Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
struct Termination;

#[cfg(not(unix))]
impl Termination {
    /// Nothing to install before waiting.
    fn listen() -> std::io::Result<Self> {
        Ok(Self)
    }

    /// Waits for Ctrl-C.
    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the server; exit code 0 after a clean shutdown, 2 when it cannot start.
pub fn run(args: &ServeArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOOKMAP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
    let config = match config(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        let termination = match Termination::listen() {
            Ok(termination) => termination,
            Err(e) => {
                eprintln!("error: cannot listen for SIGTERM and SIGINT: {e}");
                return ExitCode::from(2);
            }
        };
        let running = match server::start(config).await {
            Ok(running) => running,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        // A reader of stdout may stop reading once it has the addresses (a supervisor, a test):
        // the server keeps serving (`say`).
        if running.admin_token_generated {
            say(&format!(
                "admin token (printed once; stored in the data directory, mode 0600): {}",
                running.admin_token
            ));
        }
        say(&format!("ingest: http://{}  admin: http://{}", running.ingest_addr, running.admin_addr));
        say(&format!("setup screen: http://{}/", running.admin_addr));
        termination.wait().await;
        tracing::info!("shutting down");
        running.shutdown().await;
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, Command};

    /// Every key of the config file, as serde names them in its "unknown field" error.
    fn config_keys() -> Vec<String> {
        let error = serde_json::from_str::<Config>(r#"{"?": 0}"#).err().map(|e| e.to_string()).unwrap_or_default();
        let expected = error.split("expected one of ").nth(1).unwrap_or_default();
        expected
            .split(", ")
            .map(|key| key.split(" at line").next().unwrap_or(key).trim_matches('`').to_owned())
            .collect()
    }

    #[test]
    fn the_help_lists_every_config_key() {
        let keys = config_keys();
        assert!(keys.len() > 10, "{keys:?}");
        let help = ServeArgs::augment_args(Command::new("serve")).render_long_help().to_string();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for key in keys {
            assert!(help.contains(&key), "`hookmap serve --help` does not list {key}:\n{help}");
        }
    }
}
