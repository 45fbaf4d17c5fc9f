//! Hostile clients against the ingest listener, over raw TCP: slow bodies, oversized heads,
//! requests without `Host`, a full accept queue, half-closed connections (see `docs/limits.md`).

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ingest::live_trigger;
use super::*;

/// Sends `request` over a fresh connection while reading the answer until the server closes
/// the connection (at most 60 s, a bound for slow machines); the answer as text. The request
/// is written by its own task, so an answer sent while it is still being written is read.
async fn exchange(addr: SocketAddr, request: Vec<u8>) -> String {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let sending = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), reader.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server did not close the connection: {}", String::from_utf8_lossy(&answer));
    sending.abort();
    String::from_utf8_lossy(&answer).into_owned()
}

/// A POST of the usual sample to `/hooks/{token}` with `extra` header lines (each ending
/// in CRLF) after the request line, closing the connection after the answer.
fn post(token: &str, version: &str, extra: &str) -> Vec<u8> {
    let body = serde_json::to_vec(&sample()).unwrap();
    let head = format!(
        "POST /hooks/{token} HTTP/{version}\r\n{extra}content-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    [head.into_bytes(), body].concat()
}

/// A request head that declares a 100000-byte body and asks for `100 Continue`.
fn slow_head(token: &str) -> String {
    format!(
        "POST /hooks/{token} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nexpect: 100-continue\r\ncontent-length: 100000\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_senders_do_not_hold_the_in_flight_slots() {
    let mut config = test_config(&temp_dir("slow-senders"));
    config.max_in_flight = 4;
    // Longer than the test: the slow senders are still sending when it ends.
    config.body_timeout_ms = 600_000;
    let server = start_with(config).await;
    let (id, token) = live_trigger(&server, json!({})).await;
    // Twice `maxInFlight` senders, each in the middle of its body.
    let mut slow = Vec::new();
    for _ in 0..8 {
        let mut stream = TcpStream::connect(server.ingest).await.unwrap();
        stream.write_all(slow_head(&token).as_bytes()).await.unwrap();
        // `100 Continue` comes once the handler reads the body.
        let mut interim = [0u8; 25];
        stream.read_exact(&mut interim).await.unwrap();
        assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
        stream.write_all(b"{\"user\": ").await.unwrap();
        slow.push(stream);
    }
    for _ in 0..6 {
        let answer = server.hook(&token, &sample()).await;
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
        for stream in &mut slow {
            stream.write_all(b" ").await.unwrap();
        }
    }
    // The slow senders are still connected, unanswered.
    for stream in &slow {
        let mut byte = [0u8; 1];
        let read = stream.try_read(&mut byte);
        assert!(matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock), "{read:?}");
    }
    assert_eq!(server.events(&id).await.len(), 6);
    drop(slow);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_not_received_in_time_is_answered_408_and_the_connection_closed() {
    let mut config = test_config(&temp_dir("body-timeout"));
    config.body_timeout_ms = 1000;
    let server = start_with(config).await;
    let (id, token) = live_trigger(&server, json!({})).await;
    let stream = TcpStream::connect(server.ingest).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = slow_head(&token).replace("expect: 100-continue\r\n", "");
    writer.write_all(head.as_bytes()).await.unwrap();
    // 10 bytes a second, until the server stops reading.
    let sending = tokio::spawn(async move {
        while writer.write_all(b" ").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), reader.read_to_end(&mut answer)).await;
    sending.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(read.is_ok(), "the connection is still open: {answer}");
    assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
    assert!(answer.contains("connection: close\r\n"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert!(server.events(&id).await.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heads_over_64_kib_are_answered_431() {
    let server = start_server().await;
    let (id, token) = live_trigger(&server, json!({})).await;
    let padded = |bytes: usize| post(&token, "1.1", &format!("host: x\r\nx-pad: {}\r\n", "a".repeat(bytes)));
    let answer = exchange(server.ingest, padded(60 * 1024)).await;
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    for bytes in [66 * 1024, 200 * 1024] {
        let answer = exchange(server.ingest, padded(bytes)).await;
        assert!(answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{bytes}: {answer}");
    }
    // More than 100 header lines, however short, are refused alike.
    let many: String = (0..101).map(|i| format!("x-{i}: {i}\r\n")).collect();
    let answer = exchange(server.ingest, post(&token, "1.1", &format!("host: x\r\n{many}"))).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert_eq!(server.events(&id).await.len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_1_requests_need_one_valid_host() {
    let server = start_server().await;
    let (id, token) = live_trigger(&server, json!({})).await;
    for (version, hosts) in [("1.1", ""), ("1.1", "host: a.test\r\nhost: b.test\r\n"), ("1.1", "host: u@a.test\r\n")] {
        let answer = exchange(server.ingest, post(&token, version, hosts)).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{hosts:?}: {answer}");
        assert!(answer.contains(r#""code":"bad_request""#), "{answer}");
    }
    // HTTP/1.0 may omit it.
    let answer = exchange(server.ingest, post(&token, "1.0", "")).await;
    assert!(answer.starts_with("HTTP/1.0 202"), "{answer}");
    assert_eq!(server.events(&id).await.len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_max_connections_wait_in_the_configured_backlog() {
    let mut config = test_config(&temp_dir("backlog"));
    config.max_connections = 1;
    config.listen_backlog = 300;
    // The one accepted connection stays open, sending nothing, for the whole test.
    config.header_timeout_ms = 600_000;
    let server = start_with(config).await;
    let (_, token) = live_trigger(&server, json!({})).await;
    // More than the 128 of the kernel's default backlog: with it, connection 130 would wait
    // for a SYN retry that never succeeds.
    let mut waiting = Vec::new();
    for i in 0..200 {
        let connect = tokio::time::timeout(Duration::from_secs(20), TcpStream::connect(server.ingest)).await;
        let stream = connect.unwrap_or_else(|_| panic!("connection {i} was not queued")).expect("connect");
        waiting.push(stream);
    }
    drop(waiting);
    eventually("the server to accept again", || async {
        (server.hook(&token, &sample()).await.status == 202).then_some(())
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_gets_its_answer() {
    let server = start_server().await;
    let (id, token) = live_trigger(&server, json!({})).await;
    let mut stream = TcpStream::connect(server.ingest).await.unwrap();
    let request = post(&token, "1.1", "host: x\r\n");
    let request = String::from_utf8(request).unwrap().replace("connection: close\r\n", "");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(read.is_ok(), "no answer, connection still open: {answer}");
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    let events = server.events(&id).await;
    assert_eq!(events.len(), 1);
    assert!(answer.contains(events[0]["id"].as_str().unwrap()), "{answer}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_urls_name_loopback_when_listening_on_every_address() {
    let mut config = test_config(&temp_dir("public-url"));
    config.ingest_addr = "0.0.0.0:0".parse().unwrap();
    let server = start_with(config).await;
    let t = server.create(trigger("anywhere")).await;
    let port = server.ingest.port();
    let token = t["token"].as_str().unwrap();
    assert_eq!(t["url"], format!("http://127.0.0.1:{port}/hooks/{token}"));
    // The URL works.
    let loopback = SocketAddr::from(([127, 0, 0, 1], port));
    let body = serde_json::to_vec(&sample()).unwrap();
    let answer =
        send(loopback, "POST", &format!("/hooks/{token}"), &[("content-type", "application/json")], body).await;
    assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
    server.stop().await;
}
