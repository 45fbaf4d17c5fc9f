//! The setup screen's files on the admin listener (no token needed), and the presets routes
//! it reads; the API next to them still needs the token.

use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setup_screen_is_served_without_the_token_and_the_api_still_needs_it() {
    let server = start_server().await;
    for (path, content_type, marker) in [
        ("/", "text/html; charset=utf-8", "<script type=\"module\" src=\"/app.js\"></script>"),
        ("/index.html", "text/html; charset=utf-8", "<title>hookmap"),
        ("/app.js", "text/javascript; charset=utf-8", "import "),
        ("/setup.js", "text/javascript; charset=utf-8", "export "),
        ("/style.css", "text/css; charset=utf-8", "body"),
    ] {
        let answer = send(server.admin, "GET", path, &[], Vec::new()).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.headers["content-type"], content_type, "{path}");
        assert_eq!(answer.headers["cache-control"], "no-cache", "{path}");
        assert_eq!(answer.headers["x-content-type-options"], "nosniff", "{path}");
        let csp = answer.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self';") && !csp.contains("unsafe"), "{path}: {csp}");
        let text = String::from_utf8(answer.body).unwrap();
        assert!(text.contains(marker), "{path} lacks {marker:?}");
    }
    let post = send(server.admin, "POST", "/app.js", &[], Vec::new()).await;
    assert_eq!((post.status, post.headers["allow"].to_str().unwrap()), (405, "GET"));
    assert_eq!(send(server.admin, "GET", "/nope.js", &[], Vec::new()).await.status, 404);
    // The ingest listener does not serve the page.
    assert_eq!(send(server.ingest, "GET", "/", &[], Vec::new()).await.status, 404);
    let anonymous = send(server.admin, "GET", "/api/triggers", &[], Vec::new()).await;
    assert_eq!((anonymous.status, anonymous.code()), (401, "unauthorized".to_owned()));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presets_are_listed_and_shown() {
    let server = start_server().await;
    let list = server.api_ok("GET", "/api/presets", None, 200).await;
    assert_eq!(list["scripts"][0]["name"], "default");
    assert!(list["scripts"][0]["summary"].as_str().unwrap().starts_with("Default"), "{list}");
    assert!(list["signatures"].as_array().unwrap().contains(&json!({"name": "stripe"})), "{list}");
    let stripe = server.api_ok("GET", "/api/presets/scripts/stripe", None, 200).await;
    assert!(stripe["script"].as_str().unwrap().contains("function map(payload, request)"));
    assert!(stripe["sample"].is_object() && stripe["request"]["headers"].is_object(), "{stripe}");
    let scheme = server.api_ok("GET", "/api/presets/signatures/stripe", None, 200).await;
    assert_eq!(scheme["scheme"]["template"], "[timestamp].[payload]");
    // A trigger takes the scheme as it is shown.
    let security = json!({"signature": {"scheme": scheme["scheme"]}, "secrets": ["whsec_1"]});
    let created = server.api_ok("POST", "/api/triggers", Some(json!({"name": "s", "security": security})), 201).await;
    assert_eq!(created["security"]["secretCount"], 1);
    let missing = server.api("GET", "/api/presets/scripts/nope", None).await;
    assert_eq!((missing.status, missing.json()["error"]["message"].clone()), (404, json!("no script preset nope")));
    let missing = server.api("GET", "/api/presets/signatures/nope", None).await;
    assert_eq!(missing.status, 404);
    server.stop().await;
}
