//! Requests a mapping skips on purpose: 202 `{"skipped": true, "reason"}`, no event, counted
//! in `/metrics` and listed in the trigger's activity; the preview, the test card and a
//! replay say so too.

use serde_json::json;

use super::ingest::live_trigger;
use super::*;

/// The usual mapping with a `skip` rule for GitHub pings and an `only` rule for a user.
fn filtered_mapping() -> Value {
    json!({"kind": "structured", "source": {
        "skip": {"when": "$[?@.zen]", "reason": "GitHub ping"},
        "only": {"when": "$[?@.user]", "reason": "no user"},
        "payload": {"target": {"usersById": "$.user"}, "detail": {"amount": "$.amount"}, "metadata": {"id": "$.id"}}
    }})
}

async fn a_structured_skip_rule_answers_202_skipped_and_makes_no_event(engine: Engine) {
    let server = start_server_on(engine).await;
    let (id, token) = live_trigger(&server, json!({"mapping": filtered_mapping()})).await;
    // A ping is shaped nothing like the sample: it is skipped, not held, and the trigger stays live.
    let ping = server.hook(&token, &json!({"zen": "Design for failure.", "hook_id": 1})).await;
    assert_eq!((ping.status, ping.json()), (202, json!({"skipped": true, "reason": "GitHub ping"})));
    let orphan = server.hook(&token, &json!({"id": "evt_2", "amount": 1})).await;
    assert_eq!((orphan.status, orphan.json()), (202, json!({"skipped": true, "reason": "no user"})));
    let event = server.hook(&token, &json!({"id": "evt_3", "user": "u_3", "amount": 3})).await;
    assert_eq!(event.status, 202);
    assert!(event.json()["eventId"].is_string());
    assert_eq!(server.events(&id).await.len(), 1, "skipped requests make no event");
    let trigger = server.api_ok("GET", &format!("/api/triggers/{id}"), None, 200).await;
    assert_eq!(trigger["status"], "live");
    let held = server.api_ok("GET", &format!("/api/triggers/{id}/held"), None, 200).await;
    assert_eq!(held["held"], json!([]));

    let metrics = server.metrics().await;
    assert!(
        metrics.contains(&format!("hookmap_requests_total{{trigger=\"{id}\",outcome=\"skipped\"}} 2")),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("hookmap_requests_total{{trigger=\"{id}\",outcome=\"accepted\"}} 1")),
        "{metrics}"
    );
    let activity = server.api_ok("GET", &format!("/api/triggers/{id}/activity"), None, 200).await;
    assert_eq!((activity["skipped"].clone(), activity["duplicates"].clone()), (json!(2), json!(0)));
    let reasons: Vec<&Value> = activity["recent"].as_array().unwrap().iter().map(|e| &e["reason"]).collect();
    assert_eq!(reasons, [&json!("no user"), &json!("GitHub ping")], "newest first");
    assert_eq!(activity["recent"][0]["outcome"], "skipped");
    server.stop().await;
}

async fn the_preview_and_the_test_card_say_skipped_with_the_reason(engine: Engine) {
    let server = start_server_on(engine).await;
    let t = server.create(json!({"name": "ping", "mapping": filtered_mapping(), "sample": {"zen": "hi"}})).await;
    let id = t["id"].as_str().unwrap();
    let preview = server.api_ok("POST", &format!("/api/triggers/{id}/preview"), Some(json!({})), 200).await;
    assert_eq!(preview["skipped"], json!({"reason": "GitHub ping"}));
    assert_eq!((preview["output"].clone(), preview["errors"].clone()), (Value::Null, json!([])));
    let body = json!({"body": sample()});
    let mapped = server.api_ok("POST", &format!("/api/triggers/{id}/preview"), Some(body), 200).await;
    assert_eq!(mapped["skipped"], Value::Null);
    assert_eq!(mapped["output"]["payload"]["target"]["usersById"], json!(["u_1"]));
    let test = server.api_ok("POST", &format!("/api/triggers/{id}/test"), None, 202).await;
    assert_eq!(test, json!({"skipped": true, "reason": "GitHub ping"}));
    assert!(server.events(id).await.is_empty());
    server.stop().await;
}

async fn a_script_skips_with_null_or_a_reason_and_a_bad_skip_is_held(engine: Engine) {
    let server = start_server_on(engine).await;
    let source = r#"function map(p) {
        if (p.type === "ping") return null;
        if (p.type === "weird") return {skip: 42};
        if (!p.customer) return {skip: "no customer on " + p.type};
        return {payload: {target: {usersById: [p.customer]}}};
    }"#;
    let mapping = json!({"kind": "script", "source": source});
    let t = server.create(json!({"name": "script", "mapping": mapping})).await;
    let (id, token) = (t["id"].as_str().unwrap(), t["token"].as_str().unwrap());
    let ping = server.hook(token, &json!({"type": "ping"})).await;
    assert_eq!((ping.status, ping.json()), (202, json!({"skipped": true, "reason": null})));
    let product = server.hook(token, &json!({"type": "product.created"})).await;
    assert_eq!(product.json(), json!({"skipped": true, "reason": "no customer on product.created"}));
    let weird = server.hook(token, &json!({"type": "weird"})).await;
    assert_eq!((weird.status, weird.code()), (422, "mapping_failed".to_owned()));
    assert_eq!(weird.json()["error"]["path"], "skip");
    assert_eq!(server.hook(token, &json!({"type": "paid", "customer": "cus_1"})).await.status, 202);
    assert_eq!(server.events(id).await.len(), 1);
    server.stop().await;
}

async fn a_held_request_replayed_with_a_mapping_that_now_skips_is_removed_and_answered_skipped(engine: Engine) {
    let server = start_server_on(engine).await;
    let (id, token) = live_trigger(&server, json!({"shapeCheck": "off"})).await;
    let ping = server.hook(&token, &json!({"zen": "Speak like a human."})).await;
    assert_eq!(ping.status, 422, "without a skip rule a ping has no user");
    let held = server.api_ok("GET", &format!("/api/triggers/{id}/held"), None, 200).await;
    let hid = held["held"][0]["id"].as_str().unwrap().to_owned();
    server.api_ok("PUT", &format!("/api/triggers/{id}/mapping"), Some(filtered_mapping()), 200).await;
    let replayed = server.api_ok("POST", &format!("/api/held/{hid}/replay"), None, 202).await;
    assert_eq!(replayed, json!({"skipped": true, "reason": "GitHub ping"}));
    assert_eq!(server.api("GET", &format!("/api/held/{hid}"), None).await.status, 404);
    assert!(server.events(&id).await.is_empty());
    let activity = server.api_ok("GET", &format!("/api/triggers/{id}/activity"), None, 200).await;
    assert_eq!(activity["skipped"], 1);
    server.stop().await;
}

async fn skip_rules_that_do_not_compile_are_refused_with_the_field_and_column(engine: Engine) {
    let server = start_server_on(engine).await;
    let t = server.create(trigger("rules")).await;
    let id = t["id"].as_str().unwrap();
    let mapping =
        json!({"source": {"skip": {"when": "$[?@.type = 'ping']"}, "payload": {"target": {"usersById": "$.user"}}}});
    let answer = server.api("PUT", &format!("/api/triggers/{id}/mapping"), Some(mapping)).await;
    assert_eq!(answer.status, 422);
    let error = &answer.json()["error"];
    assert_eq!(error["path"], "mapping.source.skip.when");
    assert!(error["message"].as_str().unwrap().contains("skip.when: invalid JSONPath at column"), "{error}");
    let member = json!({"source": {"only": "$.user", "payload": {"target": {"usersById": "$.user"}}}});
    let answer = server.api("PUT", &format!("/api/triggers/{id}/mapping"), Some(member)).await;
    assert_eq!(answer.json()["error"]["path"], "mapping.source.only");
    assert!(answer.json()["error"]["message"].as_str().unwrap().contains("$[?@.user]"));
    server.stop().await;
}

on_both_engines!(
    a_structured_skip_rule_answers_202_skipped_and_makes_no_event,
    the_preview_and_the_test_card_say_skipped_with_the_reason,
    a_script_skips_with_null_or_a_reason_and_a_bad_skip_is_held,
    a_held_request_replayed_with_a_mapping_that_now_skips_is_removed_and_answered_skipped,
    skip_rules_that_do_not_compile_are_refused_with_the_field_and_column,
);
