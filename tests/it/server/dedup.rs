//! A trigger's `dedup`: a repeat of a key within the window answers 202 with the first
//! event's id and `"duplicate": true` and makes no event, across restarts and under
//! concurrent identical requests.

use std::sync::Arc;

use serde_json::json;

use super::ingest::live_trigger;
use super::*;

async fn a_repeated_body_key_answers_the_first_event_and_a_missing_key_is_a_new_event(engine: Engine) {
    let server = start_server_on(engine).await;
    let dedup = json!({"dedup": {"key": "$.id", "windowSeconds": 3600}, "shapeCheck": "off"});
    let (id, token) = live_trigger(&server, dedup).await;
    let first = server.hook(&token, &sample()).await;
    assert_eq!(first.status, 202);
    let event_id = first.json()["eventId"].as_str().unwrap().to_owned();
    let again = server.hook(&token, &json!({"id": "evt_1", "user": "u_2", "amount": 7})).await;
    assert_eq!((again.status, again.json()), (202, json!({"eventId": event_id, "duplicate": true})));
    assert_eq!(
        server.hook(&token, &json!({"id": "evt_2", "user": "u_1", "amount": 1})).await.json()["duplicate"],
        Value::Null
    );
    // Without the key, every request is a new event.
    let keyless = json!({"user": "u_1", "amount": 1});
    for _ in 0..2 {
        assert!(server.hook(&token, &keyless).await.json()["eventId"].is_string());
    }
    assert_eq!(server.events(&id).await.len(), 4);

    let metrics = server.metrics().await;
    assert!(
        metrics.contains(&format!("hookmap_requests_total{{trigger=\"{id}\",outcome=\"duplicate\"}} 1")),
        "{metrics}"
    );
    let activity = server.api_ok("GET", &format!("/api/triggers/{id}/activity"), None, 200).await;
    assert_eq!(activity["duplicates"], 1);
    assert_eq!(activity["recent"][0]["outcome"], "duplicate");
    assert_eq!(activity["recent"][0]["eventId"], event_id.as_str());
    server.stop().await;
}

async fn a_header_key_set_with_patch_deduplicates_and_null_turns_it_off(engine: Engine) {
    let server = start_server_on(engine).await;
    let (id, token) = live_trigger(&server, json!({})).await;
    let dedup = json!({"dedup": {"key": "header:X-GitHub-Delivery"}});
    let patched = server.api_ok("PATCH", &format!("/api/triggers/{id}"), Some(dedup), 200).await;
    assert_eq!(patched["dedup"], json!({"key": "header:X-GitHub-Delivery", "windowSeconds": 86400}));
    let body = serde_json::to_vec(&sample()).unwrap();
    let post = async |delivery: &str| {
        server.hook_raw(&token, "application/json", &[("x-github-delivery", delivery)], body.clone()).await.json()
    };
    let first = post("72d3162e-cc78-11e3-81ab-4c9367dc0958").await;
    let again = post("72d3162e-cc78-11e3-81ab-4c9367dc0958").await;
    assert_eq!((again["eventId"].clone(), again["duplicate"].clone()), (first["eventId"].clone(), json!(true)));
    assert_eq!(post("another").await["duplicate"], Value::Null);
    assert_eq!(server.events(&id).await.len(), 2);
    let off = server.api_ok("PATCH", &format!("/api/triggers/{id}"), Some(json!({"dedup": null})), 200).await;
    assert_eq!(off["dedup"], Value::Null);
    assert_eq!(post("another").await["duplicate"], Value::Null);
    assert_eq!(server.events(&id).await.len(), 3);
    server.stop().await;
}

async fn dedup_settings_are_validated_with_the_field(engine: Engine) {
    let server = start_server_on(engine).await;
    for (dedup, path, message) in [
        (json!({"key": "id"}), "dedup.key", "expected a JSONPath on the body"),
        (json!({"key": "$.a.[b]"}), "dedup.key", "invalid JSONPath at column 5"),
        (json!({"key": "header:"}), "dedup.key", "is not a valid header name"),
        (json!({"windowSeconds": 60}), "dedup.key", "missing"),
        (json!({"key": "$.id", "windowSeconds": 0}), "dedup.windowSeconds", "from 1 to 31536000"),
        (json!({"key": "$.id", "windowSeconds": "1d"}), "dedup.windowSeconds", "whole number of seconds"),
        (json!({"key": "$.id", "window": 1}), "dedup.window", "unknown field"),
        (json!("$.id"), "dedup", "expected a JSON object"),
    ] {
        let answer = server.api("POST", "/api/triggers", Some(json!({"name": "d", "dedup": dedup}))).await;
        assert_eq!(answer.status, 422, "{dedup}");
        let error = &answer.json()["error"];
        assert_eq!(error["path"], path, "{dedup}: {error}");
        assert!(error["message"].as_str().unwrap().contains(message), "{dedup}: {error}");
    }
    server.stop().await;
}

async fn identical_requests_at_the_same_instant_make_exactly_one_event(engine: Engine) {
    let server = start_server_on(engine).await;
    let (id, token) = live_trigger(&server, json!({"dedup": {"key": "$.id"}})).await;
    const CLIENTS: usize = 24;
    let start = Arc::new(tokio::sync::Barrier::new(CLIENTS));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (start, ingest, path) = (Arc::clone(&start), server.ingest, format!("/hooks/{token}"));
        let body = serde_json::to_vec(&sample()).unwrap();
        clients.push(tokio::spawn(async move {
            start.wait().await;
            send(ingest, "POST", &path, &[("content-type", "application/json")], body).await
        }));
    }
    let mut answers = Vec::new();
    for client in clients {
        let answer = client.await.unwrap();
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
        answers.push(answer.json());
    }
    let events = server.events(&id).await;
    assert_eq!(events.len(), 1, "one event for {CLIENTS} identical requests");
    assert!(answers.iter().all(|a| a["eventId"] == events[0]["id"]), "{answers:?}");
    assert_eq!(answers.iter().filter(|a| a["duplicate"] != true).count(), 1, "{answers:?}");
    server.stop().await;
}

async fn keys_survive_a_restart(engine: Engine) {
    let server = start_server_on(engine).await;
    let (id, token) = live_trigger(&server, json!({"dedup": {"key": "$.id"}})).await;
    let first = server.hook(&token, &sample()).await.json();
    let dir = server.stop().await;
    let server = start_with(test_config(&dir)).await;
    let again = server.hook(&token, &sample()).await.json();
    assert_eq!(again, json!({"eventId": first["eventId"], "duplicate": true}));
    assert_eq!(server.events(&id).await.len(), 1);
    server.stop().await;
}

on_both_engines!(
    a_repeated_body_key_answers_the_first_event_and_a_missing_key_is_a_new_event,
    a_header_key_set_with_patch_deduplicates_and_null_turns_it_off,
    dedup_settings_are_validated_with_the_field,
    identical_requests_at_the_same_instant_make_exactly_one_event,
    keys_survive_a_restart,
);
