//! The `hookmap serve` server over real HTTP: [`start_server`] runs it in-process on
//! `127.0.0.1:0` (both listeners) with a fresh data directory; the client is hyper's own.
//! [`start_server_on`] runs it on either [`Engine`]; [`on_both_engines!`] makes two tests of
//! one body, on SQLite and on PostgreSQL.

/// Runs each named test body (an `async fn(Engine)` of the module) as two tests, in the
/// modules `on_sqlite` and `on_postgres`.
macro_rules! on_both_engines {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::server::Engine::Sqlite).await
                }
            )+
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::server::Engine::Postgres).await
                }
            )+
        }
    };
}

mod admin;
mod crash;
mod dedup;
mod delivery;
mod engine;
mod hostile;
mod ingest;
mod lifecycle;
mod nodes;
pub mod pg;
mod samples;
mod skip;
mod web;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use hookmap::server::{Config, Running};

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("hookmap-it-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// The storage engine a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite in the data directory.
    Sqlite,
    /// A fresh database on the tests' PostgreSQL.
    Postgres,
}

/// The file of a test data directory that names its PostgreSQL database (absent for SQLite):
/// a server restarted on the directory finds its database again.
const DATABASE_FILE: &str = "test-database-url";

/// A fresh data directory for `engine` (with a fresh database for PostgreSQL).
pub fn engine_dir(name: &str, engine: Engine) -> PathBuf {
    let dir = temp_dir(name);
    if engine == Engine::Postgres {
        std::fs::write(dir.join(DATABASE_FILE), pg::fresh_database()).expect("write the database URL");
    }
    dir
}

/// The configuration of a test server: loopback, ephemeral ports, quick retries; the
/// PostgreSQL database of the directory, if it has one (see [`engine_dir`]).
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        database: std::fs::read_to_string(dir.join(DATABASE_FILE)).ok(),
        ingest_addr: "127.0.0.1:0".parse().unwrap(),
        admin_addr: "127.0.0.1:0".parse().unwrap(),
        admin_token: Some(ADMIN_TOKEN.into()),
        ..Config::default()
    };
    config.delivery.base_delay_ms = 20;
    config.delivery.max_delay_ms = 100;
    config.delivery.max_attempts = 3;
    config.delivery.timeout_ms = 2000;
    config
}

/// A server under test.
pub struct TestServer {
    pub running: Option<Running>,
    pub ingest: SocketAddr,
    pub admin: SocketAddr,
    pub dir: PathBuf,
}

/// A response: status, headers, body.
pub struct Answer {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// The error code of an error answer.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or("").to_owned()
    }
}

/// One HTTP/1.1 exchange over a fresh connection.
pub async fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut request = Request::builder().method(method).uri(path).header("host", addr.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::from(body))).expect("request");
    let response = sender.send_request(request).await.expect("send");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    Answer { status, headers, body }
}

pub async fn start_with(config: Config) -> TestServer {
    let dir = config.data_dir.clone();
    let running = hookmap::server::start(config).await.expect("server starts");
    TestServer { ingest: running.ingest_addr, admin: running.admin_addr, running: Some(running), dir }
}

/// Starts a server on `127.0.0.1:0` with a fresh data directory.
pub async fn start_server() -> TestServer {
    start_with(test_config(&temp_dir("server"))).await
}

/// Starts a server on `127.0.0.1:0` on `engine`, with a fresh data directory (and database).
pub async fn start_server_on(engine: Engine) -> TestServer {
    start_with(test_config(&engine_dir("server", engine))).await
}

impl TestServer {
    /// An admin API call with the admin token; `body` as JSON.
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default();
        send(self.admin, method, path, &[("authorization", &auth), ("content-type", "application/json")], bytes).await
    }

    /// An admin API call that must answer `status`; its JSON.
    pub async fn api_ok(&self, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
        let answer = self.api(method, path, body).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", String::from_utf8_lossy(&answer.body));
        answer.json()
    }

    /// POSTs a JSON body to a trigger URL path (`/hooks/TOKEN`).
    pub async fn hook(&self, token: &str, body: &Value) -> Answer {
        self.hook_raw(token, "application/json", &[], serde_json::to_vec(body).unwrap()).await
    }

    /// POSTs raw bytes with a content type and headers to a trigger URL.
    pub async fn hook_raw(&self, token: &str, content_type: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
        let mut all = vec![("content-type", content_type)];
        all.extend_from_slice(headers);
        send(self.ingest, "POST", &format!("/hooks/{token}"), &all, body).await
    }

    /// The admin listener's `/metrics` text.
    pub async fn metrics(&self) -> String {
        let answer = send(self.admin, "GET", "/metrics", &[], Vec::new()).await;
        assert_eq!(answer.status, 200);
        String::from_utf8(answer.body).unwrap()
    }

    /// The value of the unlabelled metric `name`.
    pub async fn metric(&self, name: &str) -> Option<u64> {
        let text = self.metrics().await;
        let value = text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ').map(str::to_owned));
        value.and_then(|v| v.parse().ok())
    }

    /// Creates a trigger from `body`; its JSON.
    pub async fn create(&self, body: Value) -> Value {
        self.api_ok("POST", "/api/triggers", Some(body), 201).await
    }

    /// Runs a lifecycle action on a trigger and checks its new status.
    pub async fn action(&self, id: &str, action: &str, expected_status: &str) -> Value {
        let t = self.api_ok("POST", &format!("/api/triggers/{id}/{action}"), None, 200).await;
        assert_eq!(t["status"], expected_status, "{action}");
        t
    }

    /// A trigger's events (all states).
    pub async fn events(&self, id: &str) -> Vec<Value> {
        let v = self.api_ok("GET", &format!("/api/triggers/{id}/events?limit=1000"), None, 200).await;
        v["events"].as_array().cloned().unwrap_or_default()
    }

    /// Stops the server gracefully.
    pub async fn stop(mut self) -> PathBuf {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
        self.dir.clone()
    }
}

/// The structured mapping most tests use: user id from `$.user`, `amount` into detail.
pub fn mapping() -> Value {
    json!({"kind": "structured", "source": {"payload": {
        "target": {"usersById": "$.user"},
        "detail": {"amount": "$.amount"},
        "metadata": {"id": "$.id"}
    }}})
}

/// A sample matching [`mapping`].
pub fn sample() -> Value {
    json!({"id": "evt_1", "user": "u_1", "amount": 42})
}

/// A trigger with the usual mapping and sample.
pub fn trigger(name: &str) -> Value {
    json!({"name": name, "mapping": mapping(), "sample": sample()})
}

/// A flow receiver: a tiny hyper server recording what it receives and answering with
/// scripted statuses (then 200).
pub struct Receiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<(hyper::HeaderMap, Value)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start(script: Vec<u16>) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let store = Arc::clone(&received);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let store = Arc::clone(&store);
                let script = Arc::clone(&script);
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let store = Arc::clone(&store);
                    let script = Arc::clone(&script);
                    async move {
                        let headers = req.headers().clone();
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        store.lock().unwrap().push((headers, value));
                        let status = script.lock().unwrap().pop_front().unwrap_or(200);
                        let mut response = Response::new(Full::new(Bytes::new()));
                        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver { addr, received, task }
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

/// Polls `check` every 20 ms until it returns `Some`, for at most 30 s (a bound for slow
/// machines, not a timing assertion).
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..1500 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}
