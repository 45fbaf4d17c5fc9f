//! The `hookmap serve` server: hyper 1 on tokio, two listeners.
//!
//! - the **ingest** listener (default `0.0.0.0:8080`): `POST|PUT /hooks/{token}` ([`ingest`]) and `/healthz`;
//! - the **admin** listener (default `127.0.0.1:8081`): the JSON API under `/api/…` with a bearer
//!   token ([`admin`]), `/healthz`, `/metrics` and the setup screen at `/` ([`web`]).
//!
//! [`start`] opens the store, loads the triggers, binds both listeners and starts the
//! flow [`crate::flow::Dispatcher`]; [`Running::shutdown`] stops accepting, lets in-flight
//! requests finish (each has awaited its commit), stops the dispatcher and joins the writer.

pub mod activity;
pub mod admin;
pub mod error;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod presets;
pub mod registry;
pub mod web;

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Notify, Semaphore, watch};

use crate::mapping::cache::ProgramCache;
use crate::store::{Store, StoreError, StoreOptions, WriterThread, records};
use crate::trigger::Trigger;

use error::ApiError;
use registry::{Prepared, Registry};

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
    /// The ingest listener's address. Default `0.0.0.0:8080`.
    pub ingest_addr: SocketAddr,
    /// The admin listener's address. Default `127.0.0.1:8081`.
    pub admin_addr: SocketAddr,
    /// The base URL senders use (for trigger URLs and schemes that sign `[url]`). Default
    /// `http://{ingest address}`, with an unspecified address (`0.0.0.0`, `::`) replaced by
    /// loopback (see [`default_public_url`]).
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
    pub fn from_file(path: &Path) -> Result<Config, StartError> {
        let bytes = std::fs::read(path).map_err(|e| StartError::Config(format!("{}: {e}", path.display())))?;
        let value =
            crate::document::parse(&bytes).map_err(|e| StartError::Config(format!("{}:{e}", path.display())))?;
        serde_json::from_value(value).map_err(|e| StartError::Config(format!("{}: {e}", path.display())))
    }
}

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    /// The configuration is invalid.
    Config(String),
    /// The data directory or the admin token file could not be used.
    DataDir(String),
    /// The database could not be opened.
    Store(StoreError),
    /// A listener could not be bound.
    Bind(SocketAddr, std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "configuration: {e}"),
            StartError::DataDir(e) => write!(f, "data directory: {e}"),
            StartError::Store(e) => write!(f, "store: {e}"),
            StartError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// What every handler shares.
pub struct State {
    /// The configuration.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// The triggers.
    pub registry: Registry,
    /// Compiled mappings.
    pub cache: ProgramCache,
    /// Metrics.
    pub metrics: metrics::Metrics,
    /// Requests that made no event (skipped, duplicates), per trigger.
    pub activity: activity::Activity,
    /// The base URL of trigger URLs.
    pub base_url: String,
    admin_token_hash: [u8; 32],
    /// Serialises changes to triggers (read, change, commit, publish).
    edit: tokio::sync::Mutex<()>,
    /// Wakes the flow dispatcher when events are committed.
    pub deliveries: Arc<Notify>,
    /// Wakes sample long-polls when a sample is captured.
    samples: Notify,
    /// Bounds the ingest requests being mapped and committed.
    in_flight: Semaphore,
    /// Bytes of ingest bodies being read, one permit a byte (`maxInFlight × maxBodyBytes`).
    body_budget: Semaphore,
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl State {
    /// Opens what the handlers share, without listeners or the flow dispatcher: creates the
    /// data directory if needed, opens (and migrates) the database in it and loads and
    /// prepares every stored trigger. `base_url` is where senders reach the ingest listener
    /// (trigger URLs, schemes that sign `[url]`); `admin_token` is what the admin API accepts.
    ///
    /// [`start`] uses it; a harness that calls [`ingest::handle`] in-process (the `ingest`
    /// fuzz target) uses it alone. The writer thread stops once the state and every other
    /// handle on its store are dropped; [`WriterThread::join`] waits for that.
    pub async fn open(config: Config, base_url: &str, admin_token: &str) -> Result<(State, WriterThread), StartError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| StartError::DataDir(format!("{}: {e}", config.data_dir.display())))?;
        let options = StoreOptions { queue_capacity: config.queue_capacity, batch_max: config.batch_max };
        let (store, writer) = Store::open(&config.data_dir.join("hookmap.db"), options).map_err(StartError::Store)?;
        let cache = ProgramCache::new(NonZeroUsize::new(config.cache_capacity.max(1)).unwrap_or(NonZeroUsize::MIN));
        let registry = Registry::default();
        let triggers = store.read(records::load_triggers).await.map_err(StartError::Store)?;
        for trigger in triggers {
            let id = trigger.id.clone();
            match Prepared::new(trigger, &cache) {
                Ok(prepared) => {
                    registry.put(prepared);
                }
                Err(e) => return Err(StartError::Store(StoreError::Corrupt(format!("trigger {id}: {}", e.message)))),
            }
        }
        let budget = config.max_in_flight.max(1).saturating_mul(config.max_body_bytes.max(1));
        let state = State {
            in_flight: Semaphore::new(config.max_in_flight.max(1)),
            body_budget: Semaphore::new(budget.min(Semaphore::MAX_PERMITS)),
            config,
            store,
            registry,
            cache,
            metrics: metrics::Metrics::default(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            admin_token_hash: token_hash(admin_token),
            edit: tokio::sync::Mutex::new(()),
            activity: activity::Activity::default(),
            deliveries: Arc::new(Notify::new()),
            samples: Notify::new(),
        };
        Ok((state, writer))
    }

    /// Whether `presented` is the admin token: compares hashes in constant time.
    pub fn admin_token_matches(&self, presented: &str) -> bool {
        let presented = token_hash(presented);
        presented.iter().zip(self.admin_token_hash.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// The limits of an ingest body: `maxBodyBytes`, `bodyTimeoutMs`, and the budget shared by
    /// the bodies being read, so that memory stays bounded while no slot is held.
    fn ingest_body_limits(&self) -> http::BodyLimits<'_> {
        http::BodyLimits {
            max_bytes: self.config.max_body_bytes,
            timeout: Duration::from_millis(self.config.body_timeout_ms),
            budget: Some(&self.body_budget),
        }
    }

    /// A slot to map and commit one ingest request whose body is read (503 when all
    /// `maxInFlight` are taken). Taken after the body, so a slow sender holds none.
    fn in_flight_slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        self.in_flight
            .try_acquire()
            .map_err(|_| ApiError::new(error::ErrorKind::Unavailable, "too many requests in progress; retry later"))
    }

    /// A trigger's URL.
    pub fn trigger_url(&self, trigger: &Trigger) -> String {
        format!("{}/hooks/{}", self.base_url, trigger.token)
    }

    /// Changes trigger `id` with `change` (a name for the change log), then commits the new
    /// version together with `also` (more writes in the same transaction) and publishes it.
    pub async fn mutate<F, A>(
        &self,
        id: &str,
        change: &'static str,
        edit: F,
        also: A,
    ) -> Result<Arc<Prepared>, ApiError>
    where
        F: FnOnce(&mut Trigger) -> Result<(), ApiError>,
        A: FnOnce(&rusqlite::Connection) -> Result<(), StoreError> + Send + 'static,
    {
        let _guard = self.edit.lock().await;
        let current = self.registry.by_id(id).ok_or_else(|| ApiError::not_found("trigger", id))?;
        let mut trigger = current.trigger.clone();
        edit(&mut trigger)?;
        trigger.touch(crate::clock::now_ms());
        let mut prepared = Prepared::new(trigger, &self.cache)?;
        prepared.keep_bucket_of(&current);
        let stored = prepared.trigger.clone();
        self.store
            .write(move |conn| {
                records::update_trigger(conn, &stored, change)?;
                also(conn)
            })
            .await?;
        if let Some(old) = &current.trigger.mapping
            && prepared.trigger.mapping.as_ref() != Some(old)
            && let Ok(mapping) = registry::mapping_of(old)
        {
            self.cache.invalidate(&mapping);
        }
        tracing::info!(trigger = %id, change, version = prepared.trigger.version, status = prepared.trigger.status.name(), "trigger changed");
        Ok(self.registry.put(prepared))
    }

    /// Adds a new trigger.
    pub async fn create(&self, trigger: Trigger) -> Result<Arc<Prepared>, ApiError> {
        let _guard = self.edit.lock().await;
        let prepared = Prepared::new(trigger, &self.cache)?;
        let stored = prepared.trigger.clone();
        self.store.write(move |conn| records::insert_trigger(conn, &stored)).await?;
        tracing::info!(trigger = %prepared.trigger.id, "trigger created");
        Ok(self.registry.put(prepared))
    }

    /// Deletes a disabled trigger with its events and held requests.
    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        let _guard = self.edit.lock().await;
        let current = self.registry.by_id(id).ok_or_else(|| ApiError::not_found("trigger", id))?;
        current.trigger.status.can_delete()?;
        let owned = id.to_owned();
        self.store.write(move |conn| records::delete_trigger(conn, &owned)).await?;
        if let Some(spec) = &current.trigger.mapping
            && let Ok(mapping) = registry::mapping_of(spec)
        {
            self.cache.invalidate(&mapping);
        }
        self.registry.remove(id);
        self.activity.forget(id);
        tracing::info!(trigger = %id, "trigger deleted");
        Ok(())
    }

    /// The gauges of `/metrics`.
    async fn gauges(&self) -> metrics::Gauges {
        let outbox_depth = self.store.read(records::outbox_depth).await.unwrap_or(0);
        metrics::Gauges {
            outbox_depth,
            write_queue: self.store.queued(),
            commits: self.store.commit_counts(),
            cache: self.cache.stats(),
            triggers: self.registry.len(),
        }
    }
}

/// A started server.
pub struct Running {
    /// Where the ingest listener listens.
    pub ingest_addr: SocketAddr,
    /// Where the admin listener listens.
    pub admin_addr: SocketAddr,
    /// The admin token.
    pub admin_token: String,
    /// The admin token was generated by this start (print it once).
    pub admin_token_generated: bool,
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, finishes in-flight requests and deliveries, flushes the writer.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.done.await;
    }
}

fn admin_token(config: &Config) -> Result<(String, bool), StartError> {
    if let Some(token) = &config.admin_token {
        return Ok((token.clone(), false));
    }
    if let Ok(token) = std::env::var("HOOKMAP_ADMIN_TOKEN")
        && !token.is_empty()
    {
        return Ok((token, false));
    }
    let path = config.data_dir.join("admin-token");
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => return Ok((token.trim().to_owned(), false)),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(StartError::DataDir(format!("{}: {e}", path.display()))),
    }
    let token = crate::ids::random_base64(32).map_err(|e| StartError::DataDir(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let write = options.open(&path).and_then(|mut file| {
        use std::io::Write;
        file.write_all(token.as_bytes())?;
        file.sync_all()
    });
    write.map_err(|e| StartError::DataDir(format!("{}: {e}", path.display())))?;
    Ok((token, true))
}

/// The base of trigger URLs when `publicUrl` is not set: `http://{ingest address}`, where an
/// unspecified address (`0.0.0.0`, `::`), which no sender can connect to, becomes loopback
/// (`127.0.0.1`, `::1`) with the same port.
pub fn default_public_url(ingest: SocketAddr) -> String {
    let ip = match ingest.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, ingest.port()))
}

/// A listener on `addr` with a listen backlog of `backlog` connections.
fn listen(addr: SocketAddr, backlog: u32) -> Result<TcpListener, StartError> {
    let bind_error = |e| StartError::Bind(addr, e);
    let socket = if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }.map_err(bind_error)?;
    // As `TcpListener::bind` does: a restarted server can bind while old connections linger
    // in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true).map_err(bind_error)?;
    socket.bind(addr).map_err(bind_error)?;
    socket.listen(backlog).map_err(bind_error)
}

/// Starts the server described by `config`.
pub async fn start(config: Config) -> Result<Running, StartError> {
    prepare_sandbox().await;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| StartError::DataDir(format!("{}: {e}", config.data_dir.display())))?;
    let (token, generated) = admin_token(&config)?;
    let ingest_listener = listen(config.ingest_addr, config.listen_backlog)?;
    let admin_listener = listen(config.admin_addr, config.listen_backlog)?;
    let ingest_addr = ingest_listener.local_addr().map_err(|e| StartError::Bind(config.ingest_addr, e))?;
    let admin_addr = admin_listener.local_addr().map_err(|e| StartError::Bind(config.admin_addr, e))?;
    let base_url = match &config.public_url {
        Some(url) => url.clone(),
        None => {
            let url = default_public_url(ingest_addr);
            if ingest_addr.ip().is_unspecified() {
                tracing::warn!(
                    %ingest_addr,
                    public_url = %url,
                    "no publicUrl: trigger URLs use the loopback address, which only this machine can reach; \
                     set publicUrl (or --public-url) to the URL senders use"
                );
            }
            url
        }
    };
    let (state, writer) = State::open(config, &base_url, &token).await?;
    let state = Arc::new(state);
    let (stop, stopped) = watch::channel(false);
    let ingest = tokio::spawn(accept_loop(ingest_listener, Arc::clone(&state), Listener::Ingest, stopped.clone()));
    let admin = tokio::spawn(accept_loop(admin_listener, Arc::clone(&state), Listener::Admin, stopped.clone()));
    let dispatcher = tokio::spawn(crate::flow::Dispatcher::new(Arc::clone(&state)).run(stopped));
    tracing::info!(%ingest_addr, %admin_addr, triggers = state.registry.len(), "hookmap serving");
    let done = tokio::spawn(async move {
        let _ = ingest.await;
        let _ = admin.await;
        let _ = dispatcher.await;
        drop(state);
        // Every handle on the store is gone once the tasks above ended: the writer drains its
        // queue, checkpoints and stops.
        let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        tracing::info!("hookmap stopped");
    });
    Ok(Running { ingest_addr, admin_addr, admin_token: token, admin_token_generated: generated, stop, done })
}

/// Starts the script sandbox before the server reports ready, so no request waits for its module
/// (seconds when the module cache has none for this version). A sandbox that cannot start is
/// logged; structured mappings work without it, and script mappings report its error.
async fn prepare_sandbox() {
    let started = std::time::Instant::now();
    tracing::info!(cache = %crate::runtime::default_cache_dir().display(), "preparing the script sandbox");
    let sandbox = tokio::task::spawn_blocking(|| crate::mapping::script::start_sandbox().map(|s| s.module_source()));
    match sandbox.await {
        Ok(Ok(source)) => {
            tracing::info!(?source, elapsed_ms = started.elapsed().as_millis() as u64, "script sandbox ready")
        }
        Ok(Err(error)) => tracing::error!(%error, "the script sandbox cannot start; script mappings will fail"),
        Err(error) => tracing::error!(%error, "the script sandbox's start-up panicked"),
    }
}

#[derive(Clone, Copy)]
enum Listener {
    Ingest,
    Admin,
}

/// The HTTP/1 settings of a listener's connections (see `docs/limits.md`).
fn connection_builder(config: &Config) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_millis(config.header_timeout_ms))
        // A head over the limit, complete or not, is answered 431 by hyper. The read buffer is
        // bounded by it too (hyper's minimum is 8 KiB), not by hyper's default of about 400 KB.
        .max_header_size(config.max_header_bytes)
        .max_buf_size(config.max_header_bytes.max(MIN_BUFFER_BYTES))
        // A client that shuts down its sending side after its request still gets the answer.
        .half_close(true);
    builder
}

/// The smallest read buffer hyper accepts.
const MIN_BUFFER_BYTES: usize = 8 * 1024;

async fn accept_loop(listener: TcpListener, state: Arc<State>, kind: Listener, mut stop: watch::Receiver<bool>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(state.config.max_connections.max(1)));
    let builder = connection_builder(&state.config);
    loop {
        // At the connection limit, stop accepting until one closes (the listen backlog waits).
        let slot = tokio::select! {
            slot = Arc::clone(&connections).acquire_owned() => slot,
            _ = stop.changed() => break,
        };
        let Ok(slot) = slot else { break };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of descriptors or a reset before accept: back off briefly.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&state);
                let service = service_fn(move |request: Request<Incoming>| {
                    let state = Arc::clone(&state);
                    async move { Ok::<_, Infallible>(route(state, kind, request, peer).await) }
                });
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    drop(slot);
                });
            }
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after 30 s; closing them");
    }
}

async fn route(state: Arc<State>, kind: Listener, request: Request<Incoming>, peer: SocketAddr) -> http::HttpResponse {
    if let Err(e) = http::check_host(&request) {
        return e.into_response();
    }
    let path = request.uri().path();
    if path == "/healthz" {
        return http::json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}));
    }
    match kind {
        Listener::Ingest => ingest::handle(&state, request, peer).await,
        Listener::Admin if path == "/metrics" => {
            let gauges = state.gauges().await;
            http::text_response(StatusCode::OK, "text/plain; version=0.0.4", state.metrics.render(&gauges))
        }
        Listener::Admin if web::is_page(path) => web::serve(request.method(), path),
        Listener::Admin => admin::handle(&state, request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_public_url_is_reachable() {
        let url = |addr: &str| default_public_url(addr.parse().unwrap());
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080");
        assert_eq!(url("10.1.2.3:9000"), "http://10.1.2.3:9000");
        assert_eq!(url("[2001:db8::1]:80"), "http://[2001:db8::1]:80");
    }

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
        std::fs::write(&path, r#"{"ingestAdr": "127.0.0.1:9000"}"#).unwrap();
        let error = Config::from_file(&path).unwrap_err().to_string();
        assert!(error.contains("unknown field `ingestAdr`"), "{error}");
        std::fs::write(&path, "{").unwrap();
        assert!(Config::from_file(&path).is_err());
    }
}
