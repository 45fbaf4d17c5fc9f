//! The admin API: JSON under `/api/…`, every route behind `Authorization: Bearer <token>`.
//! [`ROUTES`] is the route table; each route is answered by the module of its resource:
//! [`triggers`], [`lifecycle`], [`samples`], [`events`], [`held`], [`activity`],
//! [`presets`]. `GET /api/openapi.json` describes them.

pub mod activity;
pub mod events;
pub mod held;
pub mod lifecycle;
pub mod presets;
pub mod samples;
pub mod triggers;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::Value;

use super::State;
use super::error::{ApiError, ErrorKind};
use super::http::{self, HttpResponse};
use crate::hub::body::parse_form;

/// Every admin route: method and path pattern (`{x}` is one path segment).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/openapi.json"),
    ("GET", "/api/triggers"),
    ("POST", "/api/triggers"),
    ("GET", "/api/triggers/{id}"),
    ("PATCH", "/api/triggers/{id}"),
    ("DELETE", "/api/triggers/{id}"),
    ("PUT", "/api/triggers/{id}/mapping"),
    ("PUT", "/api/triggers/{id}/security"),
    ("GET", "/api/triggers/{id}/sample"),
    ("PUT", "/api/triggers/{id}/sample"),
    ("POST", "/api/triggers/{id}/sample/capture"),
    ("POST", "/api/triggers/{id}/preview"),
    ("GET", "/api/triggers/{id}/properties"),
    ("POST", "/api/triggers/{id}/test"),
    ("POST", "/api/triggers/{id}/activate"),
    ("POST", "/api/triggers/{id}/test-mode"),
    ("POST", "/api/triggers/{id}/reactivate"),
    ("POST", "/api/triggers/{id}/disable"),
    ("POST", "/api/triggers/{id}/enable"),
    ("POST", "/api/triggers/{id}/rotate-token"),
    ("GET", "/api/triggers/{id}/history"),
    ("GET", "/api/triggers/{id}/activity"),
    ("GET", "/api/triggers/{id}/events"),
    ("GET", "/api/triggers/{id}/held"),
    ("GET", "/api/events/{eid}"),
    ("POST", "/api/events/{eid}/ack"),
    ("GET", "/api/held/{hid}"),
    ("DELETE", "/api/held/{hid}"),
    ("POST", "/api/held/{hid}/replay"),
    ("GET", "/api/presets"),
    ("GET", "/api/presets/scripts/{name}"),
    ("GET", "/api/presets/signatures/{name}"),
];

/// The OpenAPI document served at `/api/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Answers one admin request.
pub async fn handle(state: &State, request: Request<Incoming>) -> HttpResponse {
    match admin(state, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// One routed request: the route's path parameters, the query and the JSON body.
pub struct Call {
    params: Vec<String>,
    /// The query string as an object (`Null` without one).
    pub query: Value,
    /// The JSON body (`Null` for `GET` and `DELETE`).
    pub body: Value,
}

impl Call {
    /// Path parameter `i` (`{id}`, `{eid}`, `{hid}`, `{name}`), in order.
    pub fn param(&self, i: usize) -> &str {
        self.params.get(i).map(String::as_str).unwrap_or_default()
    }
}

fn matches<'a>(pattern: &str, segments: &[&'a str]) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        if part.starts_with('{') {
            if segment.is_empty() {
                return None;
            }
            params.push(*segment);
        } else if part != segment {
            return None;
        }
    }
    Some(params)
}

async fn admin(state: &State, request: Request<Incoming>) -> Result<HttpResponse, ApiError> {
    let path = request.uri().path().to_owned();
    if !path.starts_with("/api/") {
        return Err(ApiError::new(ErrorKind::RouteNotFound, "no such route"));
    }
    let presented = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if !presented.is_some_and(|token| state.admin_token_matches(token)) {
        return Err(ApiError::new(
            ErrorKind::Unauthorized,
            "a valid `Authorization: Bearer <admin token>` is required",
        ));
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = request.method().as_str().to_owned();
    let mut allowed = Vec::new();
    let mut found = None;
    for (route_method, pattern) in ROUTES {
        if let Some(params) = matches(pattern, &segments) {
            allowed.push(*route_method);
            if *route_method == method {
                found = Some((*pattern, params.into_iter().map(str::to_owned).collect::<Vec<String>>()));
            }
        }
    }
    let Some((pattern, params)) = found else {
        if allowed.is_empty() {
            return Err(ApiError::new(ErrorKind::RouteNotFound, "no such route"));
        }
        return Err(ApiError::method_not_allowed(&allowed.join(", ")));
    };
    let query = request.uri().query().map(|q| parse_form(q.as_bytes())).transpose()?.unwrap_or(Value::Null);
    let (parts, body) = request.into_parts();
    let body = if parts.method == Method::GET || parts.method == Method::DELETE {
        Value::Null
    } else {
        let limits = http::BodyLimits {
            max_bytes: state.config.max_body_bytes.max(1024 * 1024),
            timeout: std::time::Duration::from_millis(state.config.body_timeout_ms),
            budget: None,
        };
        let body = http::read_body(&parts.headers, body, limits).await?;
        http::parse_json(&body.bytes)?
    };
    let call = Call { params, query, body };
    route(state, &method, pattern, call).await
}

/// Sends a routed call to its resource.
async fn route(state: &State, method: &str, pattern: &str, call: Call) -> Result<HttpResponse, ApiError> {
    match (method, pattern) {
        ("GET", "/api/openapi.json") => {
            let doc: Value = serde_json::from_str(OPENAPI).map_err(ApiError::internal)?;
            Ok(ok(&doc))
        }
        ("GET", "/api/triggers") => triggers::list(state),
        ("POST", "/api/triggers") => triggers::create(state, call).await,
        ("GET", "/api/triggers/{id}") => triggers::show(state, call),
        ("PATCH", "/api/triggers/{id}") => triggers::patch(state, call).await,
        ("DELETE", "/api/triggers/{id}") => triggers::delete(state, call).await,
        ("PUT", "/api/triggers/{id}/mapping") => triggers::set_mapping(state, call).await,
        ("PUT", "/api/triggers/{id}/security") => triggers::set_security(state, call).await,
        ("GET", "/api/triggers/{id}/sample") => samples::show(state, call).await,
        ("PUT", "/api/triggers/{id}/sample") => samples::set(state, call).await,
        ("POST", "/api/triggers/{id}/sample/capture") => samples::capture(state, call).await,
        ("POST", "/api/triggers/{id}/preview") => samples::preview(state, call),
        ("GET", "/api/triggers/{id}/properties") => samples::properties(state, call),
        ("POST", "/api/triggers/{id}/test") => samples::test(state, call).await,
        ("POST", "/api/triggers/{id}/rotate-token") => lifecycle::rotate_token(state, call).await,
        ("POST", "/api/triggers/{id}/activate")
        | ("POST", "/api/triggers/{id}/test-mode")
        | ("POST", "/api/triggers/{id}/reactivate")
        | ("POST", "/api/triggers/{id}/disable")
        | ("POST", "/api/triggers/{id}/enable") => lifecycle::act(state, pattern, call).await,
        ("GET", "/api/triggers/{id}/history") => lifecycle::history(state, call).await,
        ("GET", "/api/triggers/{id}/activity") => activity::show(state, call),
        ("GET", "/api/triggers/{id}/events") => events::list(state, call).await,
        ("GET", "/api/triggers/{id}/held") => held::list(state, call).await,
        ("GET", "/api/events/{eid}") => events::show(state, call).await,
        ("POST", "/api/events/{eid}/ack") => events::ack(state, call).await,
        ("GET", "/api/held/{hid}") => held::show(state, call).await,
        ("DELETE", "/api/held/{hid}") => held::delete(state, call).await,
        ("POST", "/api/held/{hid}/replay") => held::replay(state, call).await,
        ("GET", "/api/presets") => Ok(ok(&presets::list())),
        ("GET", "/api/presets/scripts/{name}") => Ok(ok(&presets::script(call.param(0))?)),
        ("GET", "/api/presets/signatures/{name}") => Ok(ok(&presets::signature(call.param(0))?)),
        _ => Err(ApiError::internal(format!("route {method} {pattern} has no handler"))),
    }
}

/// A 200 with `body`.
fn ok(body: &Value) -> HttpResponse {
    http::json_response(StatusCode::OK, body)
}

/// A 204.
fn no_content() -> HttpResponse {
    http::text_response(StatusCode::NO_CONTENT, "application/json", String::new())
}

/// An unsigned integer query parameter, if given.
fn query_u64(query: &Value, key: &str) -> Result<Option<u64>, ApiError> {
    match query.get(key).and_then(Value::as_str) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            ApiError::new(ErrorKind::BadRequest, format!("query parameter {key}: expected a non-negative integer"))
        }),
    }
}

/// A time as RFC 3339, or `null`.
fn opt_time(ms: Option<i64>) -> Value {
    ms.map(|ms| serde_json::json!(crate::clock::rfc3339(ms))).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_in_the_openapi_document() {
        let doc: Value = serde_json::from_str(OPENAPI).unwrap();
        for (method, path) in ROUTES {
            let operation = &doc["paths"][*path][method.to_ascii_lowercase()];
            assert!(operation.is_object(), "{method} {path} is not in openapi.json");
        }
    }

    #[test]
    fn every_route_in_the_openapi_document_is_in_the_table() {
        let doc: Value = serde_json::from_str(OPENAPI).unwrap();
        let methods = ["get", "put", "post", "patch", "delete"];
        for (path, operations) in doc["paths"].as_object().unwrap() {
            for method in methods.iter().filter(|m| operations.get(**m).is_some()) {
                let listed = ROUTES.iter().any(|(m, p)| m.eq_ignore_ascii_case(method) && p == path);
                assert!(listed, "{method} {path} is in openapi.json, not in ROUTES");
            }
        }
    }

    #[test]
    fn route_patterns_match_segments() {
        let segments = ["api", "triggers", "trg_1", "events"];
        assert_eq!(matches("/api/triggers/{id}/events", &segments), Some(vec!["trg_1"]));
        assert_eq!(matches("/api/triggers/{id}", &segments), None);
        assert_eq!(matches("/api/triggers/{id}/held", &segments), None);
    }
}
