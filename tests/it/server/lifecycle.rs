//! Every lifecycle transition over the admin API, and what the trigger URL answers in
//! each state.

use serde_json::json;

use super::*;

async fn a_trigger_walks_through_every_state(engine: Engine) {
    let server = start_server_on(engine).await;
    let t = server.create(trigger("orders")).await;
    let id = t["id"].as_str().unwrap().to_owned();
    let token = t["token"].as_str().unwrap().to_owned();
    assert_eq!(t["status"], "test");
    assert_eq!(t["version"], 1);
    assert_eq!(t["url"], format!("http://{}/hooks/{token}", server.ingest));
    assert_eq!(token.len(), 22);

    // test: requests make test events.
    let a = server.hook(&token, &json!({"user": "u_2", "amount": 1, "id": "a"})).await;
    assert_eq!((a.status, a.json()["mode"].clone()), (202, json!("test")));

    // activate → live: live events.
    server.action(&id, "activate", "live").await;
    let a = server.hook(&token, &json!({"user": "u_2", "amount": 2, "id": "b"})).await;
    assert_eq!((a.status, a.json()["mode"].clone()), (202, json!("live")));

    // Illegal transitions are 409 with a typed message.
    let again = server.api("POST", &format!("/api/triggers/{id}/activate"), None).await;
    assert_eq!((again.status, again.code()), (409, "conflict".to_owned()));
    assert_eq!(again.json()["error"]["message"], "cannot activate a trigger that is live");
    assert_eq!(server.api("POST", &format!("/api/triggers/{id}/reactivate"), None).await.status, 409);
    assert_eq!(server.api("POST", &format!("/api/triggers/{id}/enable"), None).await.status, 409);

    // test-mode → test, then back to live.
    server.action(&id, "test-mode", "test").await;
    assert_eq!(server.api("POST", &format!("/api/triggers/{id}/test-mode"), None).await.status, 409);
    server.action(&id, "activate", "live").await;

    // A body not shaped like the sample pauses it, remembering live; the request is held.
    let a = server.hook(&token, &json!({"user": 7, "amount": 2})).await;
    assert_eq!((a.status, a.code()), (409, "paused".to_owned()));
    let t = server.api_ok("GET", &format!("/api/triggers/{id}"), None, 200).await;
    assert_eq!((t["status"].clone(), t["pausedFrom"].clone()), (json!("paused"), json!("live")));
    // While paused every request is held (409), whatever its shape.
    let a = server.hook(&token, &json!({"user": "u_3", "amount": 3, "id": "c"})).await;
    assert_eq!((a.status, a.code()), (409, "paused".to_owned()));
    let held = server.api_ok("GET", &format!("/api/triggers/{id}/held"), None, 200).await;
    let reasons: Vec<&str> = held["held"].as_array().unwrap().iter().map(|h| h["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["shape", "paused"]);
    for action in ["activate", "test-mode", "enable"] {
        let answer = server.api("POST", &format!("/api/triggers/{id}/{action}"), None).await;
        assert_eq!(answer.status, 409, "{action} from paused");
    }

    // reactivate → back to live.
    server.action(&id, "reactivate", "live").await;
    assert_eq!(server.hook(&token, &json!({"user": "u_4", "amount": 4, "id": "d"})).await.status, 202);

    // DELETE only when disabled.
    let delete = server.api("DELETE", &format!("/api/triggers/{id}"), None).await;
    assert_eq!((delete.status, delete.code()), (409, "conflict".to_owned()));
    assert_eq!(delete.json()["error"]["message"], "cannot delete a trigger that is live; disable it first");

    // disable → the URL answers 404 (as an unknown token does).
    server.action(&id, "disable", "disabled").await;
    let a = server.hook(&token, &json!({"user": "u_5", "amount": 5})).await;
    assert_eq!((a.status, a.code()), (404, "not_found".to_owned()));
    assert_eq!(server.api("POST", &format!("/api/triggers/{id}/disable"), None).await.status, 409);
    assert_eq!(server.api("POST", &format!("/api/triggers/{id}/activate"), None).await.status, 409);

    // enable → test.
    server.action(&id, "enable", "test").await;
    assert_eq!(server.hook(&token, &json!({"user": "u_6", "amount": 6, "id": "e"})).await.json()["mode"], "test");

    // A paused test trigger returns to test.
    server.hook(&token, &json!({"amount": "six"})).await;
    let t = server.api_ok("GET", &format!("/api/triggers/{id}"), None, 200).await;
    assert_eq!((t["status"].clone(), t["pausedFrom"].clone()), (json!("paused"), json!("test")));
    server.action(&id, "reactivate", "test").await;

    // Every change bumped the version and is recorded with its time.
    let t = server.api_ok("GET", &format!("/api/triggers/{id}"), None, 200).await;
    let history = server.api_ok("GET", &format!("/api/triggers/{id}/history"), None, 200).await;
    let changes: Vec<&str> =
        history["changes"].as_array().unwrap().iter().map(|c| c["change"].as_str().unwrap()).collect();
    assert_eq!(
        changes,
        [
            "created",
            "activate",
            "test-mode",
            "activate",
            "paused: a body was not shaped like the sample",
            "reactivate",
            "disable",
            "enable",
            "paused: a body was not shaped like the sample",
            "reactivate"
        ]
    );
    assert_eq!(t["version"], changes.len());
    assert!(history["changes"][0]["at"].as_str().unwrap().ends_with('Z'));

    // disable, delete: gone, with its events.
    server.action(&id, "disable", "disabled").await;
    assert_eq!(server.api("DELETE", &format!("/api/triggers/{id}"), None).await.status, 204);
    let gone = server.api("GET", &format!("/api/triggers/{id}"), None).await;
    assert_eq!((gone.status, gone.code()), (404, "not_found".to_owned()));
    assert_eq!(server.hook(&token, &json!({"user": "u"})).await.status, 404);
    assert_eq!(server.api("GET", &format!("/api/triggers/{id}/events"), None).await.status, 404);
    server.stop().await;
}

async fn rotating_the_token_retires_the_old_url(engine: Engine) {
    let server = start_server_on(engine).await;
    let t = server.create(trigger("rotate")).await;
    let id = t["id"].as_str().unwrap();
    let old = t["token"].as_str().unwrap();
    let rotated = server.api_ok("POST", &format!("/api/triggers/{id}/rotate-token"), None, 200).await;
    let new = rotated["token"].as_str().unwrap();
    assert_ne!(old, new);
    assert_eq!(rotated["version"], 2);
    assert_eq!(server.hook(old, &sample()).await.status, 404);
    assert_eq!(server.hook(new, &sample()).await.status, 202);
    server.stop().await;
}

async fn a_restart_keeps_triggers_samples_events_and_held_requests(engine: Engine) {
    let server = start_server_on(engine).await;
    let t = server.create(trigger("durable")).await;
    let id = t["id"].as_str().unwrap().to_owned();
    let token = t["token"].as_str().unwrap().to_owned();
    server.action(&id, "activate", "live").await;
    let accepted = server.hook(&token, &json!({"user": "u_9", "amount": 9, "id": "x"})).await.json();
    // A mapping failure: held with its errors (the shape check is off so the mapping runs).
    server.api_ok("PATCH", &format!("/api/triggers/{id}"), Some(json!({"shapeCheck": "off"})), 200).await;
    let failed = server.hook(&token, &json!({"amount": 1})).await;
    assert_eq!((failed.status, failed.code()), (422, "mapping_failed".to_owned()));
    let dir = server.stop().await;

    let server = start_with(test_config(&dir)).await;
    let t = server.api_ok("GET", &format!("/api/triggers/{id}"), None, 200).await;
    assert_eq!(t["status"], "live");
    assert_eq!(t["shapeCheck"], "off");
    assert_eq!(t["sample"], sample());
    assert_eq!(t["token"], token.as_str());
    let events = server.events(&id).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["id"], accepted["eventId"]);
    let held = server.api_ok("GET", &format!("/api/triggers/{id}/held"), None, 200).await;
    assert_eq!(held["held"].as_array().unwrap().len(), 1);
    assert_eq!(held["held"][0]["reason"], "mapping");
    // The new listener serves the old URL token.
    assert_eq!(server.hook(&token, &json!({"user": "u_1", "amount": 1, "id": "y"})).await.status, 202);
    server.stop().await;
}

async fn a_graceful_shutdown_finishes_the_request_in_progress(engine: Engine) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start_server_on(engine).await;
    let t = server.create(trigger("graceful")).await;
    let id = t["id"].as_str().unwrap().to_owned();
    let token = t["token"].as_str().unwrap().to_owned();
    let body = serde_json::to_vec(&json!({"user": "u_g", "amount": 1, "id": "g"})).unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.ingest).await.unwrap();
    let head = format!(
        "POST /hooks/{token} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nexpect: 100-continue\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // `100 Continue` comes when the handler starts reading the body: the request is in progress.
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).await.unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    let ingest = server.ingest;
    let dir = server.dir.clone();
    let stopping = tokio::spawn(server.stop());
    // Once the listener is closed, the request in progress is still answered.
    eventually("the listener to close", || async {
        tokio::net::TcpStream::connect(ingest).await.is_err().then_some(())
    })
    .await;
    stream.write_all(&body).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    stopping.await.unwrap();
    let server = start_with(test_config(&dir)).await;
    assert_eq!(server.events(&id).await.len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_generates_an_admin_token_stored_owner_only() {
    let dir = temp_dir("token");
    let mut config = test_config(&dir);
    config.admin_token = None;
    let running = hookmap::server::start(config.clone()).await.unwrap();
    let token = running.admin_token.clone();
    if std::env::var("HOOKMAP_ADMIN_TOKEN").is_ok_and(|t| !t.is_empty()) {
        running.shutdown().await;
        return; // the environment decides the token; nothing is generated
    }
    assert!(running.admin_token_generated);
    assert_eq!(token.len(), 43);
    let stored = std::fs::read_to_string(dir.join("admin-token")).unwrap();
    assert_eq!(stored, token);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("admin-token")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let auth = format!("Bearer {token}");
    assert_eq!(
        send(running.admin_addr, "GET", "/api/triggers", &[("authorization", &auth)], Vec::new()).await.status,
        200
    );
    running.shutdown().await;
    // The next start reads it back and does not print it again.
    let running = hookmap::server::start(config).await.unwrap();
    assert_eq!((running.admin_token.as_str(), running.admin_token_generated), (token.as_str(), false));
    running.shutdown().await;
}

on_both_engines!(
    a_trigger_walks_through_every_state,
    rotating_the_token_retires_the_old_url,
    a_restart_keeps_triggers_samples_events_and_held_requests,
    a_graceful_shutdown_finishes_the_request_in_progress,
);
