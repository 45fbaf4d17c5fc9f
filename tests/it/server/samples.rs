//! Samples (set, capture, long-poll), properties, preview, the test event, and held
//! requests (list, show, replay, drop).

use serde_json::json;

use super::*;

async fn a_captured_request_becomes_the_sample_and_a_long_poll_sees_it(engine: Engine) {
    let server = std::sync::Arc::new(start_server_on(engine).await);
    let t = server.create(json!({"name": "capture", "mapping": mapping()})).await;
    let id = t["id"].as_str().unwrap().to_owned();
    let token = t["token"].as_str().unwrap().to_owned();
    let armed = server.api_ok("POST", &format!("/api/triggers/{id}/sample/capture"), None, 202).await;
    assert_eq!(armed["capturing"], true);

    // A long-poll waits for the capture.
    let poller = {
        let server = std::sync::Arc::clone(&server);
        let id = id.clone();
        tokio::spawn(
            async move { server.api_ok("GET", &format!("/api/triggers/{id}/sample?wait=30"), None, 200).await },
        )
    };
    // No signature needed while capturing, and no event is made.
    let security = json!({"signature": {"preset": "github"}, "secrets": ["s"]});
    server.api_ok("PUT", &format!("/api/triggers/{id}/security"), Some(security), 200).await;
    let body = json!({"user": "u_c", "amount": 3, "id": "cap", "nested": {"list": [1, "two"]}});
    let captured = server.hook(&token, &body).await;
    assert_eq!((captured.status, captured.json()), (202, json!({"captured": true})));
    let polled = poller.await.unwrap();
    assert_eq!(polled, json!({"sample": body, "capturing": false}));
    assert!(server.events(&id).await.is_empty());
    // Capture is one-shot: the next request is processed (and here refused: unsigned).
    assert_eq!(server.hook(&token, &body).await.status, 401);

    // The properties of the captured sample.
    let props = server.api_ok("GET", &format!("/api/triggers/{id}/properties"), None, 200).await;
    let paths: Vec<&str> =
        props["properties"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["$.user", "$.amount", "$.id", "$.nested", "$.nested.list", "$.nested.list[*]"]);
    assert_eq!(props["properties"][5]["types"], json!(["number", "string"]));

    // A GET without wait answers at once.
    let now = server.api_ok("GET", &format!("/api/triggers/{id}/sample"), None, 200).await;
    assert_eq!(now["sample"], body);
    let server = std::sync::Arc::into_inner(server).expect("one owner");
    server.stop().await;
}

async fn preview_and_test_run_the_sample_through_a_mapping(engine: Engine) {
    let server = start_server_on(engine).await;
    let t = server.create(json!({"name": "preview"})).await;
    let id = t["id"].as_str().unwrap().to_owned();
    // No sample, no mapping: 409s that say what is missing.
    assert_eq!(server.api("GET", &format!("/api/triggers/{id}/properties"), None).await.status, 409);
    assert_eq!(server.api("POST", &format!("/api/triggers/{id}/test"), None).await.status, 409);
    server.api_ok("PUT", &format!("/api/triggers/{id}/sample"), Some(sample()), 200).await;

    // Preview with a given mapping: the output, the properties and the paths read.
    let preview =
        server.api_ok("POST", &format!("/api/triggers/{id}/preview"), Some(json!({"mapping": mapping()})), 200).await;
    assert_eq!(preview["output"]["payload"]["target"]["usersById"], json!(["u_1"]));
    assert_eq!(preview["errors"], json!([]));
    assert_eq!(preview["reads"], json!(["$.user", "$.amount", "$.id"]));
    assert_eq!(preview["properties"].as_array().unwrap().len(), 3);
    // ... of a given body: every error with its path, and the shape mismatches.
    let preview = server
        .api_ok(
            "POST",
            &format!("/api/triggers/{id}/preview"),
            Some(json!({"mapping": mapping(), "body": {"user": ["a", 5.5]}})),
            200,
        )
        .await;
    assert_eq!(preview["output"], Value::Null);
    assert_eq!(preview["errors"][0]["path"], "payload.target.usersById[1]");
    let shape: Vec<&str> = preview["shape"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap()).collect();
    assert_eq!(shape, ["$.user", "$.amount", "$.id"]);
    // ... of a mapping that does not compile: the compile errors.
    let broken = json!({"source": {"payload": {"target": {"usersById": "$.["}}}});
    let preview =
        server.api_ok("POST", &format!("/api/triggers/{id}/preview"), Some(json!({"mapping": broken})), 200).await;
    assert_eq!(preview["errors"][0]["path"], "payload.target.usersById");

    // Saving a mapping that does not compile is a 422 naming the field; so is a script
    // with a syntax error, with its line and column.
    let bad = server.api("PUT", &format!("/api/triggers/{id}/mapping"), Some(broken)).await;
    assert_eq!((bad.status, bad.code()), (422, "validation".to_owned()));
    assert_eq!(bad.json()["error"]["path"], "mapping.source.payload.target.usersById");
    let script = json!({"kind": "script", "source": "function map(p) {\n  return {;\n}", "limits": {"timeMs": 20}});
    let bad = server.api("PUT", &format!("/api/triggers/{id}/mapping"), Some(script)).await;
    assert_eq!(bad.status, 422);
    let message = bad.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("2:"), "{message}");

    // Save, then the test endpoint makes a test event from the sample.
    let saved = server.api_ok("PUT", &format!("/api/triggers/{id}/mapping"), Some(mapping()), 200).await;
    assert_eq!(saved["mapping"]["limits"], json!({"timeMs": 50, "memoryMb": 32}));
    let test = server.api_ok("POST", &format!("/api/triggers/{id}/test"), None, 202).await;
    assert_eq!(test["mode"], "test");
    let events = server.events(&id).await;
    assert_eq!((events.len(), events[0]["test"].clone()), (1, json!(true)));
    assert_eq!(events[0]["id"], test["eventId"]);
    server.stop().await;
}

async fn held_requests_are_replayed_with_the_current_mapping(engine: Engine) {
    let server = start_server_on(engine).await;
    let t = server.create(trigger("held")).await;
    let id = t["id"].as_str().unwrap().to_owned();
    let token = t["token"].as_str().unwrap().to_owned();
    server.action(&id, "activate", "live").await;
    // The sender renamed `user` to `customer`: the trigger pauses and holds the request.
    let renamed = json!({"customer": "u_new", "amount": 5, "id": "r1"});
    let a = server.hook(&token, &renamed).await;
    assert_eq!(a.status, 409);
    let held = server.api_ok("GET", &format!("/api/triggers/{id}/held"), None, 200).await;
    let hid = held["held"][0]["id"].as_str().unwrap().to_owned();
    let one = server.api_ok("GET", &format!("/api/held/{hid}"), None, 200).await;
    assert_eq!(one["reason"], "shape");
    assert_eq!(one["body"], renamed);
    assert_eq!(one["errors"][0], json!({"path": "$.user", "message": "missing (the sample has string here)"}));

    // Replaying with the old mapping fails again: 422, still held, with the new errors.
    let again = server.api("POST", &format!("/api/held/{hid}/replay"), None).await;
    assert_eq!((again.status, again.code()), (422, "mapping_failed".to_owned()));
    let one = server.api_ok("GET", &format!("/api/held/{hid}"), None, 200).await;
    assert_eq!(one["reason"], "mapping");

    // Fix the mapping and the sample, replay: a live event (the mode paused from), no longer held.
    let fixed =
        json!({"source": {"payload": {"target": {"usersById": "$.customer"}, "detail": {"amount": "$.amount"}}}});
    server.api_ok("PUT", &format!("/api/triggers/{id}/mapping"), Some(fixed), 200).await;
    server.api_ok("PUT", &format!("/api/triggers/{id}/sample"), Some(renamed.clone()), 200).await;
    let replayed = server.api_ok("POST", &format!("/api/held/{hid}/replay"), None, 202).await;
    assert_eq!(replayed["mode"], "live");
    assert_eq!(server.api("GET", &format!("/api/held/{hid}"), None).await.status, 404);
    let event =
        server.api_ok("GET", &format!("/api/events/{}", replayed["eventId"].as_str().unwrap()), None, 200).await;
    assert_eq!(event["payload"]["payload"]["target"]["usersById"], json!(["u_new"]));
    server.action(&id, "reactivate", "live").await;
    assert_eq!(server.hook(&token, &renamed).await.status, 202);

    // Drop a held request.
    server.hook(&token, &json!({"customer": 1})).await;
    let held = server.api_ok("GET", &format!("/api/triggers/{id}/held"), None, 200).await;
    let hid = held["held"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(server.api("DELETE", &format!("/api/held/{hid}"), None).await.status, 204);
    assert_eq!(server.api("DELETE", &format!("/api/held/{hid}"), None).await.status, 404);
    server.stop().await;
}

async fn the_sample_shape_check_requires_every_property(engine: Engine) {
    let server = start_server_on(engine).await;
    let mut body = trigger("strict");
    body["shapeCheck"] = json!("sample");
    body["sample"] = json!({"user": "u_1", "amount": 42, "id": "e", "extra": {"flag": true}});
    let t = server.create(body).await;
    let token = t["token"].as_str().unwrap();
    let id = t["id"].as_str().unwrap();
    let ok = json!({"user": "u_2", "amount": 1, "id": "f", "extra": {"flag": false}, "more": 1});
    assert_eq!(server.hook(token, &ok).await.status, 202);
    // `extra.flag` is not read by the mapping, but the sample has it.
    let a = server.hook(token, &json!({"user": "u_2", "amount": 1, "id": "f", "extra": {}})).await;
    assert_eq!((a.status, a.json()["error"]["path"].clone()), (409, json!("$.extra.flag")));
    // With the check off, the same body maps.
    server.action(id, "reactivate", "test").await;
    server.api_ok("PATCH", &format!("/api/triggers/{id}"), Some(json!({"shapeCheck": "off"})), 200).await;
    assert_eq!(server.hook(token, &json!({"user": "u_2", "extra": {}})).await.status, 202);
    server.stop().await;
}

async fn a_script_trigger_checks_the_properties_the_script_read_on_the_sample(engine: Engine) {
    let server = start_server_on(engine).await;
    let source = "function map(p) { return {payload: {target: {usersById: p.users.map(u => u.id)}, detail: {n: p.data.amount}}}; }";
    let mut body = trigger("script-shape");
    body["mapping"] = json!({"kind": "script", "source": source});
    body["sample"] =
        json!({"users": [{"id": "u_1", "name": "A"}], "data": {"amount": 3, "currency": "eur"}, "other": 1});
    let t = server.create(body).await;
    let (id, token) = (t["id"].as_str().unwrap(), t["token"].as_str().unwrap());

    let preview = server.api_ok("POST", &format!("/api/triggers/{id}/preview"), None, 200).await;
    assert_eq!(preview["reads"], json!(["$['data']['amount']", "$['users']", "$['users'][*]['id']"]));
    // Properties the script did not read may change; an empty array keeps the shape.
    let fine = json!({"users": [], "data": {"amount": 9}});
    assert_eq!(server.hook(token, &fine).await.status, 422, "no users: the mapping fails, the shape is fine");
    let fine = json!({"users": [{"id": "u_2"}], "data": {"amount": 9}});
    assert_eq!(server.hook(token, &fine).await.status, 202);
    // A read property with another type pauses the trigger and holds the request.
    let a = server.hook(token, &json!({"users": [{"id": "u_2"}], "data": {"amount": "9"}})).await;
    assert_eq!((a.status, a.json()["error"]["path"].clone()), (409, json!("$['data']['amount']")));
    let t = server.api_ok("GET", &format!("/api/triggers/{id}"), None, 200).await;
    assert_eq!(t["status"], "paused");
    let held = server.api_ok("GET", &format!("/api/triggers/{id}/held"), None, 200).await;
    let reasons: Vec<&str> = held["held"].as_array().unwrap().iter().map(|h| h["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["mapping", "shape"]);
    assert_eq!(held["held"][1]["errors"][0]["message"], "expected number, found string");
    server.stop().await;
}

async fn a_replay_shows_the_script_the_request_as_it_came_also_after_a_restart(engine: Engine) {
    let server = start_server_on(engine).await;
    let throws = "function map(p, r) { throw new Error('not yet'); }";
    let mut body = trigger("held-request");
    body["mapping"] = json!({"kind": "script", "source": throws});
    let t = server.create(body).await;
    let (id, token) = (t["id"].as_str().unwrap().to_owned(), t["token"].as_str().unwrap().to_owned());
    let bytes = serde_json::to_vec(&sample()).unwrap();
    let path = format!("/hooks/{token}?src=crm&src=ignored&page=2");
    let headers = [("content-type", "application/json"), ("x-account", "acme"), ("x-tag", "a"), ("x-tag", "b")];
    let a = send(server.ingest, "PUT", &path, &headers, bytes).await;
    assert_eq!(a.status, 422);
    let held = server.api_ok("GET", &format!("/api/triggers/{id}/held"), None, 200).await;
    let hid = held["held"][0]["id"].as_str().unwrap().to_owned();
    let request = &held["held"][0]["request"];
    assert_eq!(request["method"], "PUT");
    assert_eq!(request["headers"]["x-account"], "acme");
    assert_eq!(request["headers"]["x-tag"], "a, b");
    assert_eq!(request["query"], json!({"src": "crm", "page": "2"}));

    // Kept across a restart; the replay gives the script that request.
    let dir = server.stop().await;
    let server = start_with(test_config(&dir)).await;
    let echo = "function map(p, r) { return {payload: {target: {usersById: [p.user]}, detail: \
                {method: r.method, account: r.headers['x-account'], tags: r.headers['x-tag'], src: r.query.src}}}; }";
    let mapping = json!({"kind": "script", "source": echo});
    server.api_ok("PUT", &format!("/api/triggers/{id}/mapping"), Some(mapping), 200).await;
    let replayed = server.api_ok("POST", &format!("/api/held/{hid}/replay"), None, 202).await;
    let event =
        server.api_ok("GET", &format!("/api/events/{}", replayed["eventId"].as_str().unwrap()), None, 200).await;
    assert_eq!(
        event["payload"]["payload"]["detail"],
        json!({"method": "PUT", "account": "acme", "tags": "a, b", "src": "crm"})
    );
    server.stop().await;
}

on_both_engines!(
    a_captured_request_becomes_the_sample_and_a_long_poll_sees_it,
    preview_and_test_run_the_sample_through_a_mapping,
    held_requests_are_replayed_with_the_current_mapping,
    the_sample_shape_check_requires_every_property,
    a_script_trigger_checks_the_properties_the_script_read_on_the_sample,
    a_replay_shows_the_script_the_request_as_it_came_also_after_a_restart,
);
