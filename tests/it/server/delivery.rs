//! Delivery to the flow: a real receiver, retries with backoff, dead events, and the
//! outbox of flows without a webhook (read and acknowledge).

use serde_json::json;

use super::*;

async fn webhook_trigger(server: &TestServer, receiver: &Receiver) -> (String, String) {
    let mut body = trigger("flow");
    body["flow"] =
        json!({"id": "flow_1", "target": {"kind": "webhook", "url": format!("http://{}/in", receiver.addr)}});
    let t = server.create(body).await;
    (t["id"].as_str().unwrap().to_owned(), t["token"].as_str().unwrap().to_owned())
}

async fn delivery_state(server: &TestServer, event_id: &str, wanted: &str) -> Value {
    eventually(&format!("event {event_id} to be {wanted}"), || async {
        let event = server.api_ok("GET", &format!("/api/events/{event_id}"), None, 200).await;
        (event["delivery"]["state"] == wanted).then_some(event)
    })
    .await
}

async fn events_are_posted_to_the_flow_with_their_headers(engine: Engine) {
    let server = start_server_on(engine).await;
    let receiver = Receiver::start(Vec::new()).await;
    let (id, token) = webhook_trigger(&server, &receiver).await;
    let a = server.hook(&token, &json!({"user": "u_5", "amount": 5, "id": "d1"})).await;
    let event_id = a.json()["eventId"].as_str().unwrap().to_owned();
    let event = delivery_state(&server, &event_id, "delivered").await;
    assert_eq!(event["delivery"]["attempts"], 1);
    assert_eq!(event["attempts"][0]["status"], 200);
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (headers, payload) = &received[0];
    assert_eq!(headers["hookmap-event-id"], event_id.as_str());
    assert_eq!(headers["hookmap-mode"], "test");
    assert_eq!(headers["hookmap-trigger-id"], id.as_str());
    assert_eq!(payload["payload"]["target"]["usersById"], json!(["u_5"]));
    server.stop().await;
}

async fn failed_deliveries_are_retried_then_declared_dead(engine: Engine) {
    let server = start_server_on(engine).await; // max 3 attempts, 20 ms base delay
    // Two failures then success.
    let receiver = Receiver::start(vec![500, 503]).await;
    let (id, token) = webhook_trigger(&server, &receiver).await;
    server.action(&id, "activate", "live").await;
    let a = server.hook(&token, &sample()).await;
    let event_id = a.json()["eventId"].as_str().unwrap().to_owned();
    let event = delivery_state(&server, &event_id, "delivered").await;
    let statuses: Vec<Value> = event["attempts"].as_array().unwrap().iter().map(|a| a["status"].clone()).collect();
    assert_eq!(statuses, [json!(500), json!(503), json!(200)]);
    assert_eq!(event["attempts"][0]["error"], "the flow answered 500");
    assert_eq!(receiver.count(), 3);

    // Always failing: dead after 3 attempts, no more.
    let failing = Receiver::start(vec![500; 10]).await;
    let url = format!("http://{}/in", failing.addr);
    server
        .api_ok(
            "PATCH",
            &format!("/api/triggers/{id}"),
            Some(json!({"flow": {"target": {"kind": "webhook", "url": url}}})),
            200,
        )
        .await;
    let a = server.hook(&token, &sample()).await;
    let event_id = a.json()["eventId"].as_str().unwrap().to_owned();
    let event = delivery_state(&server, &event_id, "dead").await;
    assert_eq!(event["delivery"]["attempts"], 3);
    assert_eq!(event["delivery"]["lastError"], "the flow answered 500");
    assert_eq!(failing.count(), 3);

    let metrics = send(server.admin, "GET", "/metrics", &[], Vec::new()).await;
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(text.contains("hookmap_delivery_attempts_total{result=\"dead\"} 1"), "{text}");
    assert!(text.contains("hookmap_delivery_attempts_total{result=\"retry\"} 4"), "{text}");
    server.stop().await;
}

async fn without_a_webhook_events_wait_in_the_outbox_until_acknowledged(engine: Engine) {
    let server = start_server_on(engine).await;
    let t = server.create(trigger("outbox")).await;
    let id = t["id"].as_str().unwrap();
    let token = t["token"].as_str().unwrap();
    for n in 0..3 {
        assert_eq!(server.hook(token, &json!({"user": format!("u_{n}"), "amount": n, "id": "x"})).await.status, 202);
    }
    let stored = server.api_ok("GET", &format!("/api/triggers/{id}/events?state=stored"), None, 200).await;
    let events = stored["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    let first = events[0]["id"].as_str().unwrap();
    let acked = server.api_ok("POST", &format!("/api/events/{first}/ack"), None, 200).await;
    assert_eq!(acked["delivery"]["state"], "acked");
    let stored = server.api_ok("GET", &format!("/api/triggers/{id}/events?state=stored"), None, 200).await;
    assert_eq!(stored["events"].as_array().unwrap().len(), 2);
    // Paging with `after`.
    let page = server.api_ok("GET", &format!("/api/triggers/{id}/events?limit=2"), None, 200).await;
    let next = page["next"].as_i64().unwrap();
    let rest = server.api_ok("GET", &format!("/api/triggers/{id}/events?after={next}"), None, 200).await;
    assert_eq!(rest["events"].as_array().unwrap().len(), 1);
    assert_eq!(server.api("POST", "/api/events/evt_missing/ack", None).await.status, 404);
    let bad = server.api("GET", &format!("/api/triggers/{id}/events?state=lost"), None).await;
    assert_eq!(bad.status, 400);
    server.stop().await;
}

async fn removing_the_webhook_moves_pending_events_to_the_outbox(engine: Engine) {
    let mut config = test_config(&engine_dir("to-outbox", engine));
    config.delivery.base_delay_ms = 60_000; // the retry stays far away
    config.delivery.max_delay_ms = 60_000;
    let server = start_with(config).await;
    let failing = Receiver::start(vec![500]).await;
    let (id, token) = webhook_trigger(&server, &failing).await;
    let a = server.hook(&token, &sample()).await;
    let event_id = a.json()["eventId"].as_str().unwrap().to_owned();
    let event = eventually("a first failed attempt", || async {
        let event = server.api_ok("GET", &format!("/api/events/{event_id}"), None, 200).await;
        (event["delivery"]["attempts"] == 1).then_some(event)
    })
    .await;
    assert_eq!(event["delivery"]["state"], "pending");
    let flow = json!({"flow": {"target": {"kind": "none"}}});
    server.api_ok("PATCH", &format!("/api/triggers/{id}"), Some(flow), 200).await;
    let event = server.api_ok("GET", &format!("/api/events/{event_id}"), None, 200).await;
    assert_eq!(
        (event["delivery"]["state"].clone(), event["delivery"]["nextAttemptAt"].clone()),
        (json!("stored"), Value::Null)
    );
    assert_eq!(
        server.api_ok("POST", &format!("/api/events/{event_id}/ack"), None, 200).await["delivery"]["state"],
        "acked"
    );
    server.stop().await;
}

on_both_engines!(
    events_are_posted_to_the_flow_with_their_headers,
    failed_deliveries_are_retried_then_declared_dead,
    without_a_webhook_events_wait_in_the_outbox_until_acknowledged,
    removing_the_webhook_moves_pending_events_to_the_outbox,
);
