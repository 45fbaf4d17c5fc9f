//! Two nodes on one PostgreSQL database: every node accepts, configuration made through one
//! reaches the other, a capture armed on one takes a request sent to the other, a dedup key
//! makes one event across nodes, and each event is delivered once.

use std::sync::Arc;

use serde_json::json;

use super::ingest::live_trigger;
use super::*;

/// Two servers on one fresh database, each with a data directory of its own.
async fn two_nodes() -> (TestServer, TestServer) {
    let database = pg::fresh_database();
    let node = |name: &str| {
        let mut config = test_config(&temp_dir(name));
        config.database = Some(database.clone());
        config
    };
    let a = start_with(node("node-a")).await;
    let b = start_with(node("node-b")).await;
    (a, b)
}

/// Waits until `node` knows the trigger at `token` (its answer is no longer 404).
async fn known_on(node: &TestServer, token: &str, body: &Value) -> Answer {
    eventually("the other node to know the trigger", || async {
        let answer = node.hook(token, body).await;
        (answer.status != 404).then_some(answer)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_trigger_created_on_a_takes_requests_on_b_and_each_event_is_delivered_once() {
    let (a, b) = two_nodes().await;
    let receiver = Receiver::start(Vec::new()).await;
    let mut body = trigger("two nodes");
    body["flow"] =
        json!({"id": "flow_1", "target": {"kind": "webhook", "url": format!("http://{}/in", receiver.addr)}});
    let t = a.create(body).await;
    let (id, token) = (t["id"].as_str().unwrap().to_owned(), t["token"].as_str().unwrap().to_owned());
    let first = known_on(&b, &token, &json!({"user": "u_0", "amount": 0, "id": "n0"})).await;
    assert_eq!(first.status, 202);
    for n in 1..20 {
        let node = if n % 2 == 0 { &a } else { &b };
        let answer = node.hook(&token, &json!({"user": format!("u_{n}"), "amount": n, "id": format!("n{n}")})).await;
        assert_eq!(answer.status, 202);
    }
    let events = eventually("every event delivered", || async {
        let events = a.events(&id).await;
        events.iter().all(|e| e["delivery"]["state"] == "delivered").then_some(events)
    })
    .await;
    assert_eq!(events.len(), 20);
    for event in &events {
        assert_eq!(event["delivery"]["attempts"], 1, "{event}");
    }
    assert_eq!(receiver.count(), 20, "each event posted once");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_auto_pause_on_b_holds_requests_on_a_is_recorded_once_and_a_reactivation_on_a_reaches_b() {
    let (a, b) = two_nodes().await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let (id, token) = live_trigger(&a, json!({})).await;
    assert_eq!(known_on(&b, &token, &sample()).await.status, 202);
    // Bodies not shaped like the sample reach both nodes at once: one pause, every request held.
    let mut tasks = Vec::new();
    for n in 0..6 {
        let node = Arc::clone(if n % 2 == 0 { &a } else { &b });
        let token = token.clone();
        tasks.push(tokio::spawn(async move { node.hook(&token, &json!({"other": n})).await.status }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 409);
    }
    let held = eventually("the pause to reach node A", || async {
        let answer = a.hook(&token, &sample()).await;
        (answer.status == 409).then_some(answer)
    })
    .await;
    assert_eq!(held.code(), "paused");
    let history = a.api_ok("GET", &format!("/api/triggers/{id}/history"), None, 200).await;
    let pauses = history.to_string().matches("paused: a body was not shaped like the sample").count();
    assert_eq!(pauses, 1, "{history}");
    a.action(&id, "reactivate", "live").await;
    eventually("the reactivation to reach node B", || async {
        (b.hook(&token, &sample()).await.status == 202).then_some(())
    })
    .await;
    Arc::into_inner(a).expect("one owner").stop().await;
    Arc::into_inner(b).expect("one owner").stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mapping_changed_and_a_token_rotated_on_a_take_effect_on_b() {
    let (a, b) = two_nodes().await;
    let (id, token) = live_trigger(&a, json!({})).await;
    assert_eq!(known_on(&b, &token, &sample()).await.status, 202);
    let renamed = json!({"kind": "structured", "source": {"payload": {
        "target": {"usersById": "$.user"},
        "detail": {"total": "$.amount"}
    }}});
    a.api_ok("PUT", &format!("/api/triggers/{id}/mapping"), Some(renamed), 200).await;
    let rotated = a.api_ok("POST", &format!("/api/triggers/{id}/rotate-token"), None, 200).await;
    let new = rotated["token"].as_str().unwrap().to_owned();
    let accepted = eventually("node B to take the new token", || async {
        let answer = b.hook(&new, &sample()).await;
        (answer.status == 202).then_some(answer)
    })
    .await;
    assert_eq!(b.hook(&token, &sample()).await.status, 404, "the old token is retired on B");
    let event_id = accepted.json()["eventId"].as_str().unwrap().to_owned();
    let event = b.api_ok("GET", &format!("/api/events/{event_id}"), None, 200).await;
    assert_eq!(event["payload"]["payload"]["detail"], json!({"total": 42}), "B maps with A's new mapping");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_capture_armed_on_a_takes_the_request_sent_to_b() {
    let (a, b) = two_nodes().await;
    let a = Arc::new(a);
    let t = a.create(json!({"name": "capture", "mapping": mapping()})).await;
    let (id, token) = (t["id"].as_str().unwrap().to_owned(), t["token"].as_str().unwrap().to_owned());
    // B knows the trigger (without a sample, its request is held: no mapping to check it against yet).
    known_on(&b, &token, &sample()).await;
    a.api_ok("POST", &format!("/api/triggers/{id}/sample/capture"), None, 202).await;
    let poller = {
        let a = Arc::clone(&a);
        let id = id.clone();
        tokio::spawn(async move { a.api_ok("GET", &format!("/api/triggers/{id}/sample?wait=30"), None, 200).await })
    };
    let body = json!({"user": "u_c", "amount": 3, "id": "cap"});
    let captured = eventually("node B to capture", || async {
        let answer = b.hook(&token, &body).await;
        (answer.json() == json!({"captured": true})).then_some(answer)
    })
    .await;
    assert_eq!(captured.status, 202);
    assert_eq!(poller.await.unwrap(), json!({"sample": body, "capturing": false}));
    Arc::into_inner(a).expect("one owner").stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_requests_to_both_nodes_at_once_make_one_event() {
    let (a, b) = two_nodes().await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let dedup = json!({"dedup": {"key": "$.id", "windowSeconds": 3600}, "shapeCheck": "off"});
    let (id, token) = live_trigger(&a, dedup).await;
    known_on(&b, &token, &json!({"user": "u", "amount": 0, "id": "warm-up"})).await;
    let mut tasks = Vec::new();
    for key in 0..20 {
        for node in [&a, &b, &a, &b] {
            let node = Arc::clone(node);
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let answer = node.hook(&token, &json!({"user": "u", "amount": key, "id": format!("k{key}")})).await;
                assert_eq!(answer.status, 202);
                answer.json()["eventId"].as_str().unwrap().to_owned()
            }));
        }
    }
    let mut answered = Vec::new();
    for task in tasks {
        answered.push(task.await.unwrap());
    }
    // Every request of a key names the same event, and there is one event per key.
    for requests in answered.chunks(4) {
        assert!(requests.iter().all(|id| id == &requests[0]), "{requests:?}");
    }
    assert_eq!(a.events(&id).await.len(), 21);
    Arc::into_inner(a).expect("one owner").stop().await;
    Arc::into_inner(b).expect("one owner").stop().await;
}
