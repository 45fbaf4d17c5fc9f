//! Every answer of `POST|PUT /hooks/{token}`.

use std::time::{SystemTime, UNIX_EPOCH};

use hookmap::security::{SignedRequest, presets};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

const SECRET: &str = "whsec_test";

/// A Stripe signature header for `body`, signed now.
fn stripe_header(body: &[u8], secret: &str) -> String {
    let scheme = presets::get("stripe").unwrap().scheme().unwrap();
    let key = scheme.decode_secret(secret).unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let partial = format!("t={now}");
    let headers = [("stripe-signature", partial.as_bytes())];
    let signature = scheme.expected_signature(&SignedRequest::new(body, &headers), &key).unwrap();
    format!("t={now},v1={signature}")
}

pub(super) async fn live_trigger(server: &TestServer, extra: Value) -> (String, String) {
    let mut body = trigger("ingest");
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let t = server.create(body).await;
    let id = t["id"].as_str().unwrap().to_owned();
    server.action(&id, "activate", "live").await;
    (id, t["token"].as_str().unwrap().to_owned())
}

async fn accepted_requests_become_events_with_the_mapped_payload(engine: Engine) {
    let server = start_server_on(engine).await;
    let (id, token) = live_trigger(&server, json!({})).await;
    let body = json!({"id": "evt_9", "user": "u_9", "amount": 12, "ignored": {"deep": [1, 2]}});
    let a = server.hook(&token, &body).await;
    assert_eq!(a.status, 202);
    let event_id = a.json()["eventId"].as_str().unwrap().to_owned();
    // PUT and +json types are accepted too.
    let put = send(
        server.ingest,
        "PUT",
        &format!("/hooks/{token}"),
        &[("content-type", "application/cloudevents+json")],
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(put.status, 202);
    let event = server.api_ok("GET", &format!("/api/events/{event_id}"), None, 200).await;
    assert_eq!(event["triggerId"], id.as_str());
    assert_eq!((event["mode"].clone(), event["test"].clone()), (json!("live"), json!(false)));
    assert_eq!(
        event["payload"],
        json!({"payload": {"target": {"usersById": ["u_9"]}, "detail": {"amount": 12}, "notificationDetail": {}, "metadata": {"id": "evt_9"}}})
    );
    assert_eq!(event["delivery"]["state"], "stored");
    assert_eq!(server.events(&id).await.len(), 2);
    server.stop().await;
}

async fn script_mappings_run_in_the_sandbox_with_the_request(engine: Engine) {
    let server = start_server_on(engine).await;
    let source = "function map(p, r) {\n  if (!p.user) throw new Error('no user');\n  \
                  return {payload: {target: {usersById: [p.user]}, detail: {via: r.headers['x-via'], amount: p.amount}}};\n}";
    let mapping = json!({"kind": "script", "source": source, "limits": {"timeMs": 200, "memoryMb": 32}});
    let (id, token) = live_trigger(&server, json!({"mapping": mapping})).await;
    let body = serde_json::to_vec(&json!({"id": "e1", "user": "u_5", "amount": 3})).unwrap();
    let a = server.hook_raw(&token, "application/json", &[("x-via", "crm")], body).await;
    if a.status != 202 {
        let message = a.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
        let hid = message.rsplit(' ').next().unwrap_or_default();
        panic!("{}", server.api_ok("GET", &format!("/api/held/{hid}"), None, 200).await);
    }
    let event =
        server.api_ok("GET", &format!("/api/events/{}", a.json()["eventId"].as_str().unwrap()), None, 200).await;
    assert_eq!(
        event["payload"],
        json!({"payload": {"target": {"usersById": ["u_5"]}, "detail": {"via": "crm", "amount": 3}, "notificationDetail": {}, "metadata": {}}})
    );
    // A script that throws holds the request with the thrown message (422).
    let body = serde_json::to_vec(&json!({"id": "e2", "user": "", "amount": 1})).unwrap();
    let refused = server.hook_raw(&token, "application/json", &[], body).await;
    assert_eq!(refused.status, 422);
    let held = server.api_ok("GET", &format!("/api/triggers/{id}/held"), None, 200).await;
    assert!(held.to_string().contains("no user"), "{held}");
    // The script's error is at `script`, line 2, column 22 of the source, in the 422 answer, the
    // held request and the preview.
    let error = refused.json()["error"].clone();
    assert_eq!(
        (&error["path"], &error["line"], &error["column"]),
        (&json!("script"), &json!(2), &json!(22)),
        "{error}"
    );
    let hid = error["message"].as_str().unwrap_or_default().rsplit(' ').next().unwrap_or_default().to_owned();
    let held = server.api_ok("GET", &format!("/api/held/{hid}"), None, 200).await;
    let problem = &held["errors"][0];
    assert_eq!(
        (&problem["path"], &problem["line"], &problem["column"]),
        (&json!("script"), &json!(2), &json!(22)),
        "{held}"
    );
    assert!(problem["message"].as_str().is_some_and(|m| m.contains("(script:2:22)")), "{held}");
    let preview =
        server.api_ok("POST", &format!("/api/triggers/{id}/preview"), Some(json!({"body": {"user": ""}})), 200).await;
    assert_eq!(preview["errors"][0]["path"], "script", "{preview}");
    assert_eq!((&preview["errors"][0]["line"], &preview["errors"][0]["column"]), (&json!(2), &json!(22)), "{preview}");
    // A script that does not compile, previewed: its position too.
    let broken = json!({"kind": "script", "source": "function map(p) {\n  return {payload: {target: {usersById: [p.user]}}};\n"});
    let preview = server
        .api_ok(
            "POST",
            &format!("/api/triggers/{id}/preview"),
            Some(json!({"body": {"user": "u"}, "mapping": broken})),
            200,
        )
        .await;
    let problem = &preview["errors"][0];
    assert_eq!(
        (&problem["path"], &problem["line"], &problem["column"]),
        (&json!("script"), &json!(2), &json!(53)),
        "{preview}"
    );
    assert!(problem["message"].as_str().is_some_and(|m| m.contains("unexpected end of script")), "{preview}");
    server.stop().await;
}

async fn too_deep_bodies_are_refused_with_the_nesting_limit(engine: Engine) {
    let server = start_server_on(engine).await;
    let (id, token) = live_trigger(&server, json!({"shapeCheck": "off"})).await;
    let deep = format!("{{\"user\": {}1{}}}", "[".repeat(200), "]".repeat(200));
    let refused = server.hook_raw(&token, "application/json", &[], deep.clone().into_bytes()).await;
    assert_eq!(refused.status, 400);
    let message = refused.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("nested deeper than 127 levels"), "{message}");
    // The preview reads its body from the admin request's JSON: the same limit, the same words.
    let auth = format!("Bearer {}", super::ADMIN_TOKEN);
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let request = format!("{{\"body\": {deep}}}").into_bytes();
    let answer = super::send(server.admin, "POST", &format!("/api/triggers/{id}/preview"), &headers, request).await;
    let message = answer.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("nested deeper than 127 levels"), "{}: {message}", answer.status);
    server.stop().await;
}

async fn form_bodies_are_mapped_as_objects(engine: Engine) {
    let server = start_server_on(engine).await;
    let t = server
        .create(json!({"name": "form", "mapping": mapping(), "sample": {"user": "u_1", "amount": "5", "id": "x"}}))
        .await;
    let token = t["token"].as_str().unwrap();
    let a =
        server.hook_raw(token, "application/x-www-form-urlencoded", &[], b"user=u+7&amount=5&id=%41".to_vec()).await;
    assert_eq!(a.status, 202, "{}", String::from_utf8_lossy(&a.body));
    let event =
        server.api_ok("GET", &format!("/api/events/{}", a.json()["eventId"].as_str().unwrap()), None, 200).await;
    assert_eq!(event["payload"]["payload"]["target"]["usersById"], json!(["u 7"]));
    assert_eq!(event["payload"]["payload"]["metadata"]["id"], "A");
    server.stop().await;
}

async fn refusals_answer_the_right_status_and_never_echo_the_body(engine: Engine) {
    let server = start_server_on(engine).await;
    let (id, token) = live_trigger(&server, json!({"shapeCheck": "off"})).await;

    // 404: unknown token; 405: other methods; unknown paths are 404 too.
    let unknown = server.hook("AAAAAAAAAAAAAAAAAAAAAA", &sample()).await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found".to_owned()));
    let get = send(server.ingest, "GET", &format!("/hooks/{token}"), &[], Vec::new()).await;
    assert_eq!((get.status, get.code()), (405, "method_not_allowed".to_owned()));
    assert_eq!(get.headers["allow"], "POST, PUT");
    assert_eq!(send(server.ingest, "POST", "/elsewhere", &[], Vec::new()).await.status, 404);

    // 400: malformed JSON; the answer does not contain the body.
    let secret_text = "SENSITIVE-0123";
    let bad =
        server.hook_raw(&token, "application/json", &[], format!("{{\"user\": \"{secret_text}\",").into_bytes()).await;
    assert_eq!((bad.status, bad.code()), (400, "bad_request".to_owned()));
    assert!(!String::from_utf8_lossy(&bad.body).contains(secret_text));

    // 415: other content types.
    let text = server.hook_raw(&token, "text/plain", &[], b"hello".to_vec()).await;
    assert_eq!((text.status, text.code()), (415, "unsupported_media_type".to_owned()));

    // 413: over the limit (1 MiB by default), declared or not.
    let big = vec![b' '; 1024 * 1024 + 1];
    let too_big = server.hook_raw(&token, "application/json", &[], big).await;
    assert_eq!((too_big.status, too_big.code()), (413, "payload_too_large".to_owned()));
    let chunked = chunked_post(server.ingest, &format!("/hooks/{token}"), 7 * 1024 * 1024).await;
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    assert!(chunked.contains("payload_too_large"), "{chunked}");

    // 422: the mapping fails; the request is held with every error and its path.
    let failed = server.hook(&token, &json!({"user": 4.5, "amount": {"x": secret_text}})).await;
    assert_eq!((failed.status, failed.code()), (422, "mapping_failed".to_owned()));
    assert!(!String::from_utf8_lossy(&failed.body).contains(secret_text));
    assert_eq!(failed.json()["error"]["path"], "payload.target.usersById[0]");
    let held = server.api_ok("GET", &format!("/api/triggers/{id}/held"), None, 200).await;
    let held = &held["held"][0];
    assert_eq!(held["reason"], "mapping");
    let paths: Vec<&str> = held["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["payload.target.usersById[0]", "payload.detail.amount"]);
    assert_eq!(held["body"]["amount"]["x"], secret_text);
    assert!(server.events(&id).await.is_empty());
    server.stop().await;
}

async fn signatures_and_allow_lists_guard_the_url(engine: Engine) {
    let server = start_server_on(engine).await;
    let security = json!({"signature": {"preset": "stripe"}, "secrets": [SECRET]});
    let (id, token) = live_trigger(&server, json!({"security": security})).await;
    let body = serde_json::to_vec(&sample()).unwrap();

    let unsigned = server.hook_raw(&token, "application/json", &[], body.clone()).await;
    assert_eq!((unsigned.status, unsigned.code()), (401, "unauthorized".to_owned()));
    let wrong = stripe_header(&body, "whsec_other");
    let a = server.hook_raw(&token, "application/json", &[("stripe-signature", &wrong)], body.clone()).await;
    assert_eq!(a.status, 401);
    let good = stripe_header(&body, SECRET);
    let a = server.hook_raw(&token, "application/json", &[("stripe-signature", &good)], body.clone()).await;
    assert_eq!(a.status, 202, "{}", String::from_utf8_lossy(&a.body));
    // The signature covers the raw bytes: a re-serialised body fails.
    let mut spaced = body.clone();
    spaced.push(b' ');
    assert_eq!(server.hook_raw(&token, "application/json", &[("stripe-signature", &good)], spaced).await.status, 401);

    // 403: the peer (127.0.0.1) is outside the allow-list; a forwarded address from an
    // untrusted peer does not help.
    let security = json!({"allow": ["10.0.0.0/8"], "signature": {"preset": "stripe"}, "secrets": [SECRET]});
    let t = server.api_ok("PUT", &format!("/api/triggers/{id}/security"), Some(security), 200).await;
    assert_eq!(t["security"]["secretCount"], 1);
    assert!(!String::from_utf8_lossy(&serde_json::to_vec(&t).unwrap()).contains(SECRET));
    let a = server
        .hook_raw(
            &token,
            "application/json",
            &[("stripe-signature", &good), ("x-forwarded-for", "10.1.2.3")],
            body.clone(),
        )
        .await;
    assert_eq!((a.status, a.code()), (403, "forbidden".to_owned()));
    // Behind a trusted proxy (the loopback peer), the forwarded client is checked.
    let security = json!({"allow": ["10.0.0.0/8"], "trustedProxies": ["127.0.0.1"], "signature": {"preset": "stripe"}, "secrets": [SECRET]});
    server.api_ok("PUT", &format!("/api/triggers/{id}/security"), Some(security), 200).await;
    let a = server
        .hook_raw(
            &token,
            "application/json",
            &[("stripe-signature", &good), ("x-forwarded-for", "10.1.2.3")],
            body.clone(),
        )
        .await;
    assert_eq!(a.status, 202);

    // Invalid security settings are 422 naming the field.
    let bad = server.api("PUT", &format!("/api/triggers/{id}/security"), Some(json!({"allow": ["10.0.0.1/33"]}))).await;
    assert_eq!((bad.status, bad.json()["error"]["path"].clone()), (422, json!("security.allow[0]")));
    let bad = server
        .api(
            "PUT",
            &format!("/api/triggers/{id}/security"),
            Some(json!({"signature": {"preset": "nope"}, "secrets": ["s"]})),
        )
        .await;
    assert_eq!((bad.status, bad.json()["error"]["path"].clone()), (422, json!("security.signature.preset")));
    let bad = server
        .api(
            "PUT",
            &format!("/api/triggers/{id}/security"),
            Some(json!({"signature": {"preset": "stripe"}, "secrets": []})),
        )
        .await;
    assert_eq!((bad.status, bad.json()["error"]["path"].clone()), (422, json!("security.secrets")));
    // Secrets are write-only: settings sent without `secrets` keep the stored ones.
    let kept = json!({"signature": {"preset": "stripe"}});
    let t = server.api_ok("PUT", &format!("/api/triggers/{id}/security"), Some(kept), 200).await;
    assert_eq!((t["security"]["allow"].clone(), t["security"]["secretCount"].clone()), (json!([]), json!(1)));
    let a = server.hook_raw(&token, "application/json", &[("stripe-signature", &good)], body.clone()).await;
    assert_eq!(a.status, 202);
    server.stop().await;
}

async fn a_rate_limit_answers_429_beyond_its_burst(engine: Engine) {
    let server = start_server_on(engine).await;
    let (_, token) = live_trigger(&server, json!({"rateLimit": {"perSecond": 0.001, "burst": 2}})).await;
    assert_eq!(server.hook(&token, &sample()).await.status, 202);
    assert_eq!(server.hook(&token, &sample()).await.status, 202);
    let limited = server.hook(&token, &sample()).await;
    assert_eq!((limited.status, limited.code()), (429, "rate_limited".to_owned()));
    server.stop().await;
}

async fn a_rate_limit_bucket_survives_changes_that_keep_the_limit(engine: Engine) {
    let server = start_server_on(engine).await;
    let (id, token) = live_trigger(&server, json!({"rateLimit": {"perSecond": 0.01, "burst": 1}})).await;
    assert_eq!(server.hook(&token, &sample()).await.status, 202);
    assert_eq!(server.hook(&token, &sample()).await.status, 429);
    let path = format!("/api/triggers/{id}");
    server.api_ok("PATCH", &path, Some(json!({"name": "renamed"})), 200).await;
    assert_eq!(server.hook(&token, &sample()).await.status, 429, "after a rename");
    server.api_ok("PUT", &format!("{path}/sample"), Some(sample()), 200).await;
    assert_eq!(server.hook(&token, &sample()).await.status, 429, "after a new sample");
    server.api_ok("PUT", &format!("{path}/mapping"), Some(mapping()), 200).await;
    assert_eq!(server.hook(&token, &sample()).await.status, 429, "after a new mapping");
    // A new limit starts with a full bucket.
    server.api_ok("PATCH", &path, Some(json!({"rateLimit": {"perSecond": 0.01, "burst": 2}})), 200).await;
    assert_eq!(server.hook(&token, &sample()).await.status, 202);
    assert_eq!(server.hook(&token, &sample()).await.status, 202);
    assert_eq!(server.hook(&token, &sample()).await.status, 429);
    server.stop().await;
}

async fn a_full_server_answers_503(engine: Engine) {
    // Bodies being read share `maxInFlight × maxBodyBytes` = 100 bytes: a sender that has sent
    // 90 bytes of its body leaves too little for another. `/metrics` shows the bytes held.
    let mut config = test_config(&engine_dir("busy", engine));
    config.max_in_flight = 1;
    config.max_body_bytes = 100;
    // Longer than the test: the slow body is never refused for its time.
    config.body_timeout_ms = 600_000;
    let server = start_with(config).await;
    let (_, token) = live_trigger(&server, json!({})).await;
    let head = format!(
        "POST /hooks/{token} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nexpect: 100-continue\r\ncontent-length: 100\r\n\r\n"
    );
    let mut slow = tokio::net::TcpStream::connect(server.ingest).await.unwrap();
    slow.write_all(head.as_bytes()).await.unwrap();
    // `100 Continue` comes once the handler reads the body.
    let mut interim = [0u8; 25];
    slow.read_exact(&mut interim).await.unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    slow.write_all(&[b' '; 90]).await.unwrap();
    eventually("the 90 bytes to be held", || async {
        (server.metric("hookmap_ingest_body_bytes").await == Some(90)).then_some(())
    })
    .await;
    let busy = server.hook(&token, &sample()).await;
    assert_eq!((busy.status, busy.code()), (503, "unavailable".to_owned()), "{}", String::from_utf8_lossy(&busy.body));
    drop(slow);
    eventually("the budget to be free again", || async {
        (server.hook(&token, &sample()).await.status == 202).then_some(())
    })
    .await;
    server.stop().await;
}

/// POSTs `size` bytes of JSON whitespace with chunked transfer encoding (no declared
/// length) over a raw connection; the whole answer as text.
async fn chunked_post(addr: std::net::SocketAddr, path: &str, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..size / chunk.len() {
        stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.unwrap();
        stream.write_all(&chunk).await.unwrap();
        stream.write_all(b"\r\n").await.unwrap();
    }
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn structured_mappings_run_script_leaves_and_name_their_field_in_errors(engine: Engine) {
    let server = start_server_on(engine).await;
    let source = json!({"payload": {
        "target": {"usersById": "$.user"},
        "detail": {"count": {"script": "payload.items.length"}, "via": {"script": "(p, r) => r.headers['x-via']"}}
    }});
    let mapping = json!({"kind": "structured", "source": source, "limits": {"timeMs": 200}});
    let (id, token) = live_trigger(&server, json!({"mapping": mapping})).await;
    let body = serde_json::to_vec(&json!({"user": "u_5", "items": [1, 2]})).unwrap();
    let accepted = server.hook_raw(&token, "application/json", &[("x-via", "crm")], body).await;
    assert_eq!(accepted.status, 202, "{}", accepted.json());
    let event =
        server.api_ok("GET", &format!("/api/events/{}", accepted.json()["eventId"].as_str().unwrap()), None, 200).await;
    assert_eq!(
        event["payload"],
        json!({"payload": {"target": {"usersById": ["u_5"]}, "detail": {"count": 2, "via": "crm"}, "notificationDetail": {}, "metadata": {}}})
    );
    // A leaf that throws holds the request; the error is at the leaf's field, line 1 of its script.
    let body = serde_json::to_vec(&json!({"user": "u_6"})).unwrap();
    let refused = server.hook_raw(&token, "application/json", &[], body).await;
    assert_eq!(refused.status, 422);
    let error = refused.json()["error"].clone();
    assert_eq!((&error["path"], &error["line"]), (&json!("payload.detail.count"), &json!(1)), "{error}");
    let held = server.api_ok("GET", &format!("/api/triggers/{id}/held"), None, 200).await;
    assert!(held.to_string().contains("payload.detail.count: uncaught exception: TypeError"), "{held}");
    server.stop().await;
}

async fn a_mapping_may_run_every_event_in_a_new_sandbox(engine: Engine) {
    let server = start_server_on(engine).await;
    let source = "let seen = 0;\nfunction map(p) {\n  seen += 1;\n  return {payload: {target: {usersById: [p.user]}, detail: {seen}}};\n}";
    let fresh = json!({"kind": "script", "source": source, "isolation": "fresh"});
    let (id, token) = live_trigger(&server, json!({"mapping": fresh})).await;
    let trigger = server.api_ok("GET", &format!("/api/triggers/{id}"), None, 200).await;
    assert_eq!(trigger["mapping"]["isolation"], "fresh", "{trigger}");
    for user in ["u_1", "u_2", "u_3"] {
        let body = serde_json::to_vec(&json!({"user": user})).unwrap();
        let accepted = server.hook_raw(&token, "application/json", &[], body).await;
        assert_eq!(accepted.status, 202, "{}", accepted.json());
        let event_id = accepted.json()["eventId"].as_str().unwrap().to_owned();
        let event = server.api_ok("GET", &format!("/api/events/{event_id}"), None, 200).await;
        assert_eq!(event["payload"]["payload"]["target"]["usersById"], json!([user]));
        assert_eq!(event["payload"]["payload"]["detail"]["seen"], 1, "{event}");
    }
    // Structured mappings take it too (for their script leaves); the default is warm.
    let structured =
        json!({"kind": "structured", "source": {"payload": {"target": {"usersById": {"script": "payload.user"}}}}});
    let (plain, _) = live_trigger(&server, json!({"mapping": structured})).await;
    let trigger = server.api_ok("GET", &format!("/api/triggers/{plain}"), None, 200).await;
    assert_eq!(trigger["mapping"]["isolation"], "warm", "{trigger}");
    // Anything else is refused at its path.
    let bad = json!({"kind": "script", "source": source, "isolation": "cold"});
    let refused = server.api("PUT", &format!("/api/triggers/{id}/mapping"), Some(bad)).await;
    assert_eq!((refused.status, refused.json()["error"]["path"].clone()), (422, json!("mapping.isolation")));
    assert!(refused.json()["error"]["message"].as_str().is_some_and(|m| m.contains("fresh")), "{}", refused.json());
    server.stop().await;
}

on_both_engines!(
    accepted_requests_become_events_with_the_mapped_payload,
    script_mappings_run_in_the_sandbox_with_the_request,
    a_mapping_may_run_every_event_in_a_new_sandbox,
    too_deep_bodies_are_refused_with_the_nesting_limit,
    form_bodies_are_mapped_as_objects,
    refusals_answer_the_right_status_and_never_echo_the_body,
    signatures_and_allow_lists_guard_the_url,
    a_rate_limit_answers_429_beyond_its_burst,
    a_rate_limit_bucket_survives_changes_that_keep_the_limit,
    a_full_server_answers_503,
    structured_mappings_run_script_leaves_and_name_their_field_in_errors,
);
