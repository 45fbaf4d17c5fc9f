//! The crash tests: the real `hookmap serve` binary is killed with SIGKILL while clients
//! are sending; after a restart on the same data directory every event that was answered
//! 202 is there exactly once. With two nodes on one PostgreSQL database, the node that
//! survives has every acknowledged event and delivers what the dead one had leased.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::*;

/// A `hookmap serve` process and the addresses it printed.
struct Process {
    child: Child,
    ingest: SocketAddr,
    admin: SocketAddr,
}

fn spawn(dir: &std::path::Path) -> Process {
    spawn_with(dir, &[], &[])
}

/// The `hookmap serve` command on `dir` listening on `ingest` and `admin`, with the tests'
/// admin token, its stdout piped and its stderr dropped.
fn serve_command(dir: &std::path::Path, ingest: &str, admin: &str) -> Command {
    let mut command = crate::hookmap_command();
    command
        .args(["serve", "--ingest-addr", ingest, "--admin-addr", admin, "--data-dir"])
        .arg(dir)
        .env("HOOKMAP_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("HOOKMAP_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// `hookmap serve` on `dir` with more arguments and environment variables.
fn spawn_with(dir: &std::path::Path, more: &[&str], env: &[(&str, &str)]) -> Process {
    let mut child = serve_command(dir, "127.0.0.1:0", "127.0.0.1:0")
        .args(more)
        .envs(env.iter().copied())
        .spawn()
        .expect("spawn hookmap serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the address line");
    // "ingest: http://A  admin: http://B"
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words.len(), 4, "unexpected start line {line:?}");
    let addr = |w: &str| w.trim_start_matches("http://").parse::<SocketAddr>().expect("address");
    Process { ingest: addr(words[1]), admin: addr(words[3]), child }
}

impl Process {
    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default();
        send(self.admin, method, path, &[("authorization", &auth), ("content-type", "application/json")], bytes).await
    }
}

/// One POST that may fail (the server may be gone): the status and body, or None.
async fn try_post(addr: SocketAddr, path: &str, body: Vec<u8>) -> Option<(u16, Value)> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let request = Request::post(path)
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .ok()?;
    let response = sender.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_a_kill_9_exactly_once() {
    let dir = temp_dir("crash");
    let mut process = spawn(&dir);
    let created = process.api("POST", "/api/triggers", Some(trigger("crash"))).await;
    assert_eq!(created.status, 201);
    let t = created.json();
    let id = t["id"].as_str().unwrap().to_owned();
    let token = t["token"].as_str().unwrap().to_owned();
    assert_eq!(process.api("POST", &format!("/api/triggers/{id}/activate"), None).await.status, 200);
    // A held request must survive too.
    let held = try_post(process.ingest, &format!("/hooks/{token}"), b"{\"user\":1}".to_vec()).await;
    assert_eq!(held.map(|(s, _)| s), Some(409));
    assert_eq!(process.api("POST", &format!("/api/triggers/{id}/reactivate"), None).await.status, 200);

    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(&[process.ingest], &token, 4, &acknowledged, &stop);
    // Kill -9 mid-stream, once a good number of events were acknowledged.
    wait_until_acknowledged(&acknowledged, 500).await;
    process.child.kill().expect("SIGKILL");
    let _ = process.child.wait();
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("client task");
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    // 500 within a minute on a quiet machine; a loaded one acknowledges fewer in that time, which
    // is still a sample of events in flight when the process died.
    assert!(acknowledged.len() >= 100, "only {} acknowledged", acknowledged.len());

    // Restart on the same data directory.
    let mut process = spawn(&dir);
    let t = process.api("GET", &format!("/api/triggers/{id}"), None).await.json();
    assert_eq!((t["status"].clone(), t["sample"].clone()), (json!("live"), sample()));
    let held = process.api("GET", &format!("/api/triggers/{id}/held"), None).await.json();
    assert_eq!(held["held"].as_array().unwrap().len(), 1);
    let mut stored: HashMap<String, (usize, String)> = HashMap::new();
    let mut after = 0;
    loop {
        let page =
            process.api("GET", &format!("/api/triggers/{id}/events?limit=1000&after={after}"), None).await.json();
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            break;
        }
        for event in events {
            let marker = event["payload"]["payload"]["metadata"]["id"].as_str().unwrap().to_owned();
            let entry = stored.entry(event["id"].as_str().unwrap().to_owned()).or_insert((0, marker));
            entry.0 += 1;
        }
        after = page["next"].as_i64().unwrap();
    }
    for (event_id, marker) in &acknowledged {
        match stored.get(event_id) {
            Some((1, stored_marker)) => assert_eq!(stored_marker, marker),
            other => panic!("acknowledged event {event_id} ({marker}) after the crash: {other:?}"),
        }
    }
    // No request was stored twice either (a marker is sent once).
    let mut markers: Vec<&String> = stored.values().map(|(_, m)| m).collect();
    let total = markers.len();
    markers.sort();
    markers.dedup();
    assert_eq!(markers.len(), total);
    // Stored but unacknowledged events are possible (committed, then killed before the
    // answer left): at most one per client.
    assert!(total - acknowledged.len() <= 4, "{total} stored, {} acknowledged", acknowledged.len());
    let _ = process.child.kill();
    let _ = process.child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_binary_cleanly_and_keeps_what_was_accepted() {
    let dir = temp_dir("sigterm");
    let mut process = spawn(&dir);
    let t = process.api("POST", "/api/triggers", Some(trigger("sigterm"))).await.json();
    let (id, token) = (t["id"].as_str().unwrap().to_owned(), t["token"].as_str().unwrap().to_owned());
    let accepted = try_post(process.ingest, &format!("/hooks/{token}"), serde_json::to_vec(&sample()).unwrap()).await;
    assert_eq!(accepted.as_ref().map(|(s, _)| *s), Some(202));
    let status = Command::new("kill").args(["-TERM", &process.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || process.child.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "{exit:?}");
    // A clean stop checkpoints the WAL into the database file.
    let wal = std::fs::metadata(dir.join("hookmap.db-wal")).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal, 0);
    let mut process = spawn(&dir);
    let events = process.api("GET", &format!("/api/triggers/{id}/events"), None).await.json();
    assert_eq!(events["events"][0]["id"], accepted.unwrap().1["eventId"]);
    let _ = process.child.kill();
    let _ = process.child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_stdout_reader_is_gone_keeps_serving_and_stops_cleanly() {
    let dir = temp_dir("stdout-gone");
    let free = || std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port");
    let (ingest, admin) = (free(), free());
    let mut child = serve_command(&dir, &ingest.to_string(), &admin.to_string()).spawn().expect("spawn hookmap serve");
    // Nobody reads what the server prints: its start-up report meets a closed pipe.
    drop(child.stdout.take());
    let mut up = false;
    for _ in 0..600 {
        if let Some((200, _)) = try_get(admin, "/healthz").await {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not answer /healthz");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// One GET that may fail (the server may not listen yet): the status and body, or None.
async fn try_get(addr: SocketAddr, path: &str) -> Option<(u16, Value)> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let request = Request::get(path).header("host", addr.to_string()).body(Full::new(Bytes::new())).ok()?;
    let response = sender.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// Waits until `at_least` requests were acknowledged, or 60 s (for slow machines).
async fn wait_until_acknowledged(acknowledged: &Mutex<Vec<(String, String)>>, at_least: usize) {
    for _ in 0..3000 {
        if acknowledged.lock().unwrap().len() >= at_least {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Sends unique requests from several clients (client `n` to `nodes[n % len]`) until `stop`,
/// recording every (event id, marker) answered 202.
fn load(
    nodes: &[SocketAddr],
    token: &str,
    clients: usize,
    acknowledged: &Arc<Mutex<Vec<(String, String)>>>,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..clients)
        .map(|client| {
            let (acknowledged, stop) = (Arc::clone(acknowledged), Arc::clone(stop));
            let (addr, path) = (nodes[client % nodes.len()], format!("/hooks/{token}"));
            tokio::spawn(async move {
                let mut failures = 0;
                for n in 0..100_000 {
                    if stop.load(Ordering::Relaxed) || failures > 20 {
                        break;
                    }
                    let marker = format!("c{client}-{n}");
                    let body = serde_json::to_vec(&json!({"user": "u_1", "amount": n, "id": marker})).unwrap();
                    match try_post(addr, &path, body).await {
                        Some((202, answer)) => {
                            let event_id = answer["eventId"].as_str().expect("eventId").to_owned();
                            acknowledged.lock().unwrap().push((event_id, marker));
                        }
                        Some((status, answer)) => panic!("unexpected {status}: {answer}"),
                        None => failures += 1,
                    }
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_under_load_loses_no_acknowledged_event_and_the_other_delivers_its_leases() {
    let database = super::pg::fresh_database();
    let receiver = Receiver::start(Vec::new()).await;
    // Leases of 2 × 1000 + 5000 ms: the survivor takes the dead node's events within seconds.
    let config_dir = temp_dir("two-nodes-config");
    let config = config_dir.join("hookmap.json");
    let settings = json!({"delivery": {"timeoutMs": 1000, "baseDelayMs": 20, "maxDelayMs": 100}});
    std::fs::write(&config, settings.to_string()).unwrap();
    let config = config.to_str().unwrap();
    // Node A is given the database with --database, node B with HOOKMAP_DATABASE_URL.
    let mut a = spawn_with(&temp_dir("node-a"), &["--database", &database, "--config", config], &[]);
    let mut b = spawn_with(&temp_dir("node-b"), &["--config", config], &[("HOOKMAP_DATABASE_URL", &database)]);
    let mut body = trigger("two nodes");
    body["flow"] =
        json!({"id": "flow_1", "target": {"kind": "webhook", "url": format!("http://{}/in", receiver.addr)}});
    let created = a.api("POST", "/api/triggers", Some(body)).await;
    assert_eq!(created.status, 201);
    let t = created.json();
    let (id, token) = (t["id"].as_str().unwrap().to_owned(), t["token"].as_str().unwrap().to_owned());
    assert_eq!(a.api("POST", &format!("/api/triggers/{id}/activate"), None).await.status, 200);
    eventually("node B to take the trigger's requests", || async {
        let answer = try_post(b.ingest, &format!("/hooks/{token}"), serde_json::to_vec(&sample()).unwrap()).await;
        (answer.map(|(status, _)| status) == Some(202)).then_some(())
    })
    .await;

    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(&[a.ingest, b.ingest], &token, 6, &acknowledged, &stop);
    wait_until_acknowledged(&acknowledged, 300).await;
    a.child.kill().expect("SIGKILL");
    let _ = a.child.wait();
    // The clients of node B go on for a while after the kill.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("client task");
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 100, "only {} acknowledged", acknowledged.len());

    // Every acknowledged event is stored once, and every event is delivered by the survivor
    // (those node A had leased once their leases expire).
    let events = eventually("every event delivered", || async {
        let mut events: HashMap<String, (usize, String, Value)> = HashMap::new();
        let mut after = 0;
        loop {
            let page = b.api("GET", &format!("/api/triggers/{id}/events?limit=1000&after={after}"), None).await.json();
            let listed = page["events"].as_array().unwrap();
            if listed.is_empty() {
                break;
            }
            for event in listed {
                let marker = event["payload"]["payload"]["metadata"]["id"].as_str().unwrap_or("").to_owned();
                let entry = events.entry(event["id"].as_str().unwrap().to_owned()).or_insert((0, marker, Value::Null));
                entry.0 += 1;
                entry.2 = event["delivery"]["state"].clone();
            }
            after = page["next"].as_i64().unwrap();
        }
        events.values().all(|(_, _, state)| state == "delivered").then_some(events)
    })
    .await;
    for (event_id, marker) in &acknowledged {
        match events.get(event_id) {
            Some((1, stored, _)) => assert_eq!(stored, marker),
            other => panic!("acknowledged event {event_id} ({marker}) after the kill: {other:?}"),
        }
    }
    let posted: std::collections::HashSet<String> = receiver
        .received
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(headers, _)| headers.get("hookmap-event-id")?.to_str().ok().map(str::to_owned))
        .collect();
    for (event_id, _) in &acknowledged {
        assert!(posted.contains(event_id), "{event_id} was never posted to the flow");
    }
    let _ = b.child.kill();
    let _ = b.child.wait();
}
