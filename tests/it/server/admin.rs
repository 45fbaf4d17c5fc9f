//! The admin API's surface: authentication, routing, errors, OpenAPI, health and metrics.

use serde_json::json;

use hookmap::server::admin::ROUTES;

use super::*;

async fn every_route_needs_the_admin_token_and_exists(engine: Engine) {
    let server = start_server_on(engine).await;
    let t = server.create(trigger("routes")).await;
    let id = t["id"].as_str().unwrap();
    for (method, pattern) in ROUTES {
        let path = pattern.replace("{id}", id).replace("{eid}", "evt_none").replace("{hid}", "hld_none");
        let anonymous = send(server.admin, method, &path, &[], Vec::new()).await;
        assert_eq!((anonymous.status, anonymous.code()), (401, "unauthorized".to_owned()), "{method} {path}");
        let wrong = send(server.admin, method, &path, &[("authorization", "Bearer nope")], Vec::new()).await;
        assert_eq!(wrong.status, 401, "{method} {path}");
        // With the token the route is routed: whatever it answers, it is not "no such route".
        if *method != "DELETE" {
            let answer = server.api(method, &path, Some(json!({}))).await;
            assert!(
                !["route_not_found", "method_not_allowed"].contains(&answer.code().as_str()),
                "{method} {path}: {}",
                String::from_utf8_lossy(&answer.body)
            );
        }
    }
    let doc = server.api_ok("GET", "/api/openapi.json", None, 200).await;
    for (method, pattern) in ROUTES {
        assert!(doc["paths"][*pattern][method.to_ascii_lowercase()].is_object(), "{method} {pattern}");
    }
    server.stop().await;
}

async fn errors_have_one_shape_with_code_message_and_path(engine: Engine) {
    let server = start_server_on(engine).await;
    let missing = server.api("GET", "/api/nothing", None).await;
    assert_eq!((missing.status, missing.code()), (404, "route_not_found".to_owned()));
    let method = server.api("PUT", "/api/triggers", None).await;
    assert_eq!((method.status, method.code()), (405, "method_not_allowed".to_owned()));
    assert_eq!(method.headers["allow"], "GET, POST");
    let unnamed = server.api("POST", "/api/triggers", Some(json!({"mapping": mapping()}))).await;
    assert_eq!(unnamed.status, 422);
    assert_eq!(unnamed.json()["error"]["path"], "name");
    let unknown = server.api("POST", "/api/triggers", Some(json!({"name": "x", "colour": "red"}))).await;
    assert_eq!((unknown.status, unknown.json()["error"]["path"].clone()), (422, json!("colour")));
    let https = server
        .api(
            "POST",
            "/api/triggers",
            Some(json!({"name": "x", "flow": {"target": {"kind": "webhook", "url": "https://x"}}})),
        )
        .await;
    assert_eq!((https.status, https.json()["error"]["path"].clone()), (422, json!("flow.target.url")));
    let not_json = send(
        server.admin,
        "POST",
        "/api/triggers",
        &[("authorization", &format!("Bearer {ADMIN_TOKEN}"))],
        b"{name".to_vec(),
    )
    .await;
    assert_eq!((not_json.status, not_json.code()), (400, "bad_request".to_owned()));
    let none = server.api("GET", "/api/triggers/trg_none", None).await;
    assert_eq!(none.json(), json!({"error": {"code": "not_found", "message": "no trigger trg_none"}}));
    let list = server.api_ok("GET", "/api/triggers", None, 200).await;
    assert_eq!(list["triggers"], json!([]));
    server.stop().await;
}

async fn health_and_metrics(engine: Engine) {
    let server = start_server_on(engine).await;
    for addr in [server.ingest, server.admin] {
        let health = send(addr, "GET", "/healthz", &[], Vec::new()).await;
        assert_eq!((health.status, health.json()), (200, json!({"status": "ok"})));
    }
    let t = server.create(trigger("metrics")).await;
    let id = t["id"].as_str().unwrap();
    server.hook(t["token"].as_str().unwrap(), &sample()).await;
    server.hook("unknown-token", &sample()).await;
    let text = server.metrics().await;
    for line in [
        format!("hookmap_requests_total{{trigger=\"{id}\",outcome=\"accepted\"}} 1"),
        "hookmap_requests_total{trigger=\"unknown\",outcome=\"not_found\"} 1".to_owned(),
        "hookmap_mapping_duration_seconds_count 1".to_owned(),
        "hookmap_outbox_depth 1".to_owned(),
        "hookmap_triggers 1".to_owned(),
        "hookmap_ingest_body_bytes 0".to_owned(),
        "hookmap_ingest_in_flight 0".to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    // A new mapping replaces the old compiled program in the cache (one entry, not two).
    assert!(text.lines().any(|l| l == "hookmap_mapping_cache_entries 1"), "{text}");
    let other = json!({"source": {"payload": {"target": {"usersById": "$.id"}}}});
    server.api_ok("PUT", &format!("/api/triggers/{id}/mapping"), Some(other), 200).await;
    let text = server.metrics().await;
    assert!(text.lines().any(|l| l == "hookmap_mapping_cache_entries 1"), "{text}");
    // The ingest listener does not expose metrics.
    assert_eq!(send(server.ingest, "GET", "/metrics", &[], Vec::new()).await.status, 404);
    server.stop().await;
}

on_both_engines!(
    every_route_needs_the_admin_token_and_exists,
    errors_have_one_shape_with_code_message_and_path,
    health_and_metrics,
);
