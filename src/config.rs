//! The configuration of `hookmap serve` (a JSON file, every key optional; flags override
//! it), with every default in the doc comment of its field. `docs/server.md` lists the keys;
//! `docs/limits.md` explains the listeners' limits and timeouts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a configuration file could not be used: the file, and what is wrong in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Delivery settings of the flow dispatcher.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Attempts before an event is declared dead. Default 8.
    pub max_attempts: u32,
    /// Delay before the first retry, in ms (doubled each retry, with jitter). Default 1000.
    pub base_delay_ms: u64,
    /// The longest delay between two attempts, in ms. Default 300000 (5 minutes).
    pub max_delay_ms: u64,
    /// Time allowed for one attempt (connect, send, answer), in ms. Default 10000.
    pub timeout_ms: u64,
    /// Deliveries in progress at once. Default 16.
    pub concurrency: usize,
}

impl Default for DeliveryConfig {
    fn default() -> DeliveryConfig {
        DeliveryConfig {
            max_attempts: 8,
            base_delay_ms: 1000,
            max_delay_ms: 300_000,
            timeout_ms: 10_000,
            concurrency: 16,
        }
    }
}

/// The server's configuration (the JSON config file; every key optional).
///
/// `docs/limits.md` explains every limit and timeout of the listeners.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Config {
    /// Where the database and the admin token live. Default `./hookmap-data`.
    pub data_dir: PathBuf,
    /// The PostgreSQL database several nodes share (`postgres://user@host:port/db`); flag
    /// `--database`, else `HOOKMAP_DATABASE_URL`. Default none: SQLite, `hookmap.db` in the
    /// data directory.
    pub database: Option<String>,
    /// The ingest listener's address. Default `0.0.0.0:8080`.
    pub ingest_addr: SocketAddr,
    /// The admin listener's address. Default `127.0.0.1:8081`.
    pub admin_addr: SocketAddr,
    /// The base URL senders use (for trigger URLs and schemes that sign `[url]`). Default
    /// `http://{ingest address}`, with an unspecified address (`0.0.0.0`, `::`) replaced by
    /// loopback, which only this machine can reach.
    pub public_url: Option<String>,
    /// The admin token. Default `HOOKMAP_ADMIN_TOKEN`, else the one stored in the data
    /// directory, else a new one.
    pub admin_token: Option<String>,
    /// The largest accepted ingest body, in bytes; larger ones are refused with 413.
    /// Default 1048576 (1 MiB).
    pub max_body_bytes: usize,
    /// Ingest requests mapped and committed at once, once their bodies are read; more are
    /// refused with 503. Bodies being read share a budget of `maxInFlight × maxBodyBytes`
    /// bytes (503 when it is spent). Default 1024.
    pub max_in_flight: usize,
    /// Open connections per listener; beyond it, new connections wait in the listen
    /// backlog. Default 10000.
    pub max_connections: usize,
    /// The listen backlog of each listener: connections the kernel completes and queues
    /// until the server accepts them (the kernel caps it: `net.core.somaxconn` on Linux).
    /// Default 1024.
    pub listen_backlog: u32,
    /// The largest request head (request line and headers), in bytes; a larger one is
    /// answered 431 and the connection closed. Default 65536 (64 KiB).
    pub max_header_bytes: usize,
    /// Time a client has to send a complete request head, in ms, counted from when the
    /// server waits for one (on a new or a kept-alive connection); past it the connection
    /// is closed without an answer. Default 30000.
    pub header_timeout_ms: u64,
    /// Time a client has to send a whole request body, in ms, counted from the end of its
    /// head; past it the answer is 408 and the connection is closed. Default 10000.
    pub body_timeout_ms: u64,
    /// Writes waiting for the writer; more are refused with 503. Default 4096.
    pub queue_capacity: usize,
    /// The most writes committed in one transaction. Default 512.
    pub batch_max: usize,
    /// Compiled mappings kept in memory (LRU). Default 1024.
    pub cache_capacity: usize,
    /// The longest `?wait=` of a sample long-poll, in seconds. Default 60.
    pub max_wait_seconds: u64,
    /// Delivery to flows.
    pub delivery: DeliveryConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            data_dir: PathBuf::from("./hookmap-data"),
            database: None,
            ingest_addr: SocketAddr::from(([0, 0, 0, 0], 8080)),
            admin_addr: SocketAddr::from(([127, 0, 0, 1], 8081)),
            public_url: None,
            admin_token: None,
            max_body_bytes: 1024 * 1024,
            max_in_flight: 1024,
            max_connections: 10_000,
            listen_backlog: 1024,
            max_header_bytes: 64 * 1024,
            header_timeout_ms: 30_000,
            body_timeout_ms: 10_000,
            queue_capacity: 4096,
            batch_max: 512,
            cache_capacity: 1024,
            max_wait_seconds: 60,
            delivery: DeliveryConfig::default(),
        }
    }
}

impl Config {
    /// Reads a JSON config file (unknown keys are errors).
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        let value = crate::document::parse(&bytes).map_err(|e| ConfigError(format!("{}:{e}", path.display())))?;
        serde_json::from_value(value).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_files_are_strict_json_with_defaults() {
        let dir = std::env::temp_dir().join(format!("hookmap-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hookmap.json");
        std::fs::write(&path, r#"{"ingestAddr": "127.0.0.1:9000", "delivery": {"maxAttempts": 3}}"#).unwrap();
        let config = Config::from_file(&path).unwrap();
        assert_eq!(config.ingest_addr, SocketAddr::from(([127, 0, 0, 1], 9000)));
        assert_eq!((config.delivery.max_attempts, config.delivery.base_delay_ms), (3, 1000));
        assert_eq!(config.max_body_bytes, 1024 * 1024);
        assert_eq!(config.database, None, "SQLite unless a database is named");
        std::fs::write(&path, r#"{"database": "postgres://hookmap@db:5432/hookmap"}"#).unwrap();
        let config = Config::from_file(&path).unwrap();
        assert_eq!(config.database.as_deref(), Some("postgres://hookmap@db:5432/hookmap"));
        std::fs::write(&path, r#"{"ingestAdr": "127.0.0.1:9000"}"#).unwrap();
        let error = Config::from_file(&path).unwrap_err().to_string();
        assert!(error.contains("unknown field `ingestAdr`"), "{error}");
        std::fs::write(&path, "{").unwrap();
        assert!(Config::from_file(&path).is_err());
    }
}
