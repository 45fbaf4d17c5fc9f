//! The `hookmap serve` server: hyper 1 on tokio, two listeners.
//!
//! - the **ingest** listener (default `0.0.0.0:8080`): `POST|PUT /hooks/{token}` ([`ingest`]) and `/healthz`;
//! - the **admin** listener (default `127.0.0.1:8081`): the JSON API under `/api/…` with a bearer
//!   token ([`admin`]), `/healthz`, `/metrics` and the setup screen at `/` ([`web`]).
//!
//! The server is a front end of the [`Hub`]: it parses HTTP, calls the hub and writes the
//! answer. [`start`] opens the store and the hub, binds both listeners and starts the flow
//! [`crate::flow::Dispatcher`]; [`Running::shutdown`] stops accepting, lets in-flight
//! requests finish (each has awaited its commit), stops the dispatcher and joins the writer.

pub mod admin;
pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzz_ingest;
pub mod http;
pub mod ingest;
pub mod response;
pub mod web;

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};

use crate::config::ConfigError;
pub use crate::config::{Config, DeliveryConfig};
use crate::hub::{Hub, HubError};
use crate::store::{Postgres, PostgresOptions, Sqlite, Storage, StoreError, StoreOptions, WriterThread};

use error::ApiError;

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    /// The configuration is invalid.
    Config(ConfigError),
    /// The data directory or the admin token file could not be used.
    DataDir(String),
    /// The database could not be opened.
    Store(StoreError),
    /// The stored triggers could not be loaded.
    Hub(HubError),
    /// A listener could not be bound.
    Bind(SocketAddr, std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "configuration: {e}"),
            StartError::DataDir(e) => write!(f, "data directory: {e}"),
            StartError::Store(e) => write!(f, "store: {e}"),
            StartError::Hub(e) => write!(f, "triggers: {e}"),
            StartError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<ConfigError> for StartError {
    fn from(error: ConfigError) -> StartError {
        StartError::Config(error)
    }
}

/// What every handler shares: the hub and the front end's own limits.
pub struct State {
    /// The configuration.
    pub config: Config,
    /// The domain.
    pub hub: Arc<Hub>,
    admin_token_hash: [u8; 32],
    /// Bounds the ingest requests being mapped and committed.
    in_flight: Semaphore,
    /// Bytes of ingest bodies being read, one permit a byte (`maxInFlight × maxBodyBytes`).
    body_budget: Semaphore,
}

/// The ingest requests mapped and committed at once: `maxInFlight`, at least one.
fn in_flight_slots(config: &Config) -> usize {
    config.max_in_flight.max(1)
}

/// The bytes of ingest bodies held at once: `maxInFlight × maxBodyBytes`.
fn body_budget_bytes(config: &Config) -> usize {
    in_flight_slots(config).saturating_mul(config.max_body_bytes.max(1)).min(Semaphore::MAX_PERMITS)
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl State {
    /// Opens what the handlers share, without listeners or the flow dispatcher: creates the
    /// data directory if needed, opens (and migrates) the database (the PostgreSQL database
    /// `database` names, else SQLite in the data directory) and opens the hub, which loads and
    /// prepares every stored trigger. `base_url` is where senders reach
    /// the ingest listener (trigger URLs, schemes that sign `[url]`); `admin_token` is what
    /// the admin API accepts.
    ///
    /// [`start`] uses it. The writer thread stops once the state and every other handle on
    /// its store are dropped; [`WriterThread::join`] waits for that.
    pub async fn open(config: Config, base_url: &str, admin_token: &str) -> Result<(State, WriterThread), StartError> {
        let (hub, writer) = open_hub(&config, base_url).await?;
        let state = State {
            in_flight: Semaphore::new(in_flight_slots(&config)),
            body_budget: Semaphore::new(body_budget_bytes(&config)),
            config,
            hub: Arc::new(hub),
            admin_token_hash: token_hash(admin_token),
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

    /// What the ingest front end holds: body bytes of the budget, and slots taken.
    fn ingest_gauges(&self) -> crate::metrics::IngestGauges {
        let held = |total: usize, semaphore: &Semaphore| total.saturating_sub(semaphore.available_permits()) as u64;
        crate::metrics::IngestGauges {
            body_bytes: held(body_budget_bytes(&self.config), &self.body_budget),
            in_flight: held(in_flight_slots(&self.config), &self.in_flight),
        }
    }

    /// A slot to map and commit one ingest request whose body is read (503 when all
    /// `maxInFlight` are taken). Taken after the body, so a slow sender holds none.
    fn in_flight_slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        self.in_flight
            .try_acquire()
            .map_err(|_| ApiError::new(error::ErrorKind::Unavailable, "too many requests in progress; retry later"))
    }
}

/// Opens the engine (the PostgreSQL database `database` names, else SQLite in the data
/// directory, created if needed) and the hub over it.
async fn open_hub(config: &Config, base_url: &str) -> Result<(Hub, WriterThread), StartError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| StartError::DataDir(format!("{}: {e}", config.data_dir.display())))?;
    let writes = StoreOptions { queue_capacity: config.queue_capacity, batch_max: config.batch_max };
    let (store, writer): (Arc<dyn Storage>, WriterThread) = match &config.database {
        Some(url) => {
            // A node holds an event while it waits for a delivery slot (at most one attempt's
            // time: it reads no more than `concurrency` events), during its attempt, and while
            // it records it.
            let lease_ms = config.delivery.timeout_ms.saturating_mul(2).saturating_add(LEASE_MARGIN_MS);
            let options = PostgresOptions { writes, lease_ms, ..PostgresOptions::default() };
            let (store, writer) = Postgres::connect(url, options).await.map_err(StartError::Store)?;
            (Arc::new(store), writer)
        }
        None => {
            let (store, writer) =
                Sqlite::open(&config.data_dir.join("hookmap.db"), writes).map_err(StartError::Store)?;
            (Arc::new(store), writer)
        }
    };
    let hub = Hub::open(store, config.cache_capacity, base_url).await.map_err(StartError::Hub)?;
    Ok((hub, writer))
}

/// What a delivery lease adds to twice the attempt timeout: time to record the attempt.
const LEASE_MARGIN_MS: u64 = 5_000;

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
    let dispatcher = crate::flow::Dispatcher::new(Arc::clone(&state.hub), state.config.delivery.clone());
    let follower = state
        .hub
        .store
        .shared_changes()
        .map(|changes| tokio::spawn(Arc::clone(&state.hub).follow_changes(changes, stopped.clone())));
    let dispatcher = tokio::spawn(dispatcher.run(stopped));
    tracing::info!(%ingest_addr, %admin_addr, triggers = state.hub.registry.len(), "hookmap serving");
    let done = tokio::spawn(async move {
        let _ = ingest.await;
        let _ = admin.await;
        let _ = dispatcher.await;
        if let Some(follower) = follower {
            let _ = follower.await;
        }
        drop(state);
        // Every handle on the store is gone once the tasks above ended: the writer drains its
        // queue (SQLite's checkpoints) and stops.
        writer.stopped().await;
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
            let gauges = state.hub.gauges(state.ingest_gauges()).await;
            http::text_response(StatusCode::OK, "text/plain; version=0.0.4", state.hub.metrics.render(&gauges))
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
}
