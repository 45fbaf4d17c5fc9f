//! The admin API: JSON under `/api/…`, every route behind `Authorization: Bearer <token>`.
//! [`ROUTES`] lists every route; `GET /api/openapi.json` describes them.

use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::State;
use super::error::{ApiError, ErrorKind};
use super::http::{self, HttpResponse};
use super::ingest;
use super::presets;
use super::registry::{self, Prepared};
use crate::clock::rfc3339;
use crate::mapping::{Input, Mapped, RequestInfo};
use crate::shape::Shape;
use crate::store::{DeliveryState, Event, Held, HeldReason, records};
use crate::trigger::{
    Action, DedupSpec, Flow, FlowTarget, Limits, MappingKind, MappingSpec, Mode, RateLimit, SecuritySpec, ShapeCheck,
    Status, Trigger,
};

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
    let query = request.uri().query().map(|q| http::parse_form(q.as_bytes())).transpose()?.unwrap_or(Value::Null);
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
    let p = |i: usize| params.get(i).map(String::as_str).unwrap_or_default();
    let action = segments.get(3).copied().unwrap_or_default();
    match (parts.method.as_str(), pattern) {
        ("GET", "/api/openapi.json") => {
            let doc: Value = serde_json::from_str(OPENAPI).map_err(ApiError::internal)?;
            Ok(ok(&doc))
        }
        ("GET", "/api/triggers") => {
            let triggers: Vec<Value> = state.registry.all().iter().map(|p| trigger_view(state, &p.trigger)).collect();
            Ok(ok(&json!({ "triggers": triggers })))
        }
        ("POST", "/api/triggers") => create(state, body).await,
        ("GET", "/api/triggers/{id}") => Ok(ok(&trigger_view(state, &get(state, p(0))?.trigger))),
        ("PATCH", "/api/triggers/{id}") => patch(state, p(0), body).await,
        ("DELETE", "/api/triggers/{id}") => {
            state.delete(p(0)).await?;
            Ok(http::text_response(StatusCode::NO_CONTENT, "application/json", String::new()))
        }
        ("PUT", "/api/triggers/{id}/mapping") => {
            let spec = mapping_spec(body)?;
            let prepared =
                state.mutate(p(0), "mapping changed", move |t| set(&mut t.mapping, Some(spec)), |_| Ok(())).await?;
            Ok(ok(&trigger_view(state, &prepared.trigger)))
        }
        ("PUT", "/api/triggers/{id}/security") => {
            // Secrets are write-only: a body without `secrets` keeps the stored ones.
            let keep_secrets = body.get("secrets").is_none();
            let mut spec = security_spec(body)?;
            let edit = move |t: &mut Trigger| {
                if keep_secrets {
                    spec.secrets = std::mem::take(&mut t.security.secrets);
                }
                set(&mut t.security, spec)
            };
            let prepared = state.mutate(p(0), "security changed", edit, |_| Ok(())).await?;
            Ok(ok(&trigger_view(state, &prepared.trigger)))
        }
        ("GET", "/api/triggers/{id}/sample") => sample(state, p(0), &query).await,
        ("PUT", "/api/triggers/{id}/sample") => {
            crate::sample::properties(&body).map_err(|e| ApiError::validation("sample", e.to_string()))?;
            let prepared = state
                .mutate(
                    p(0),
                    "sample set",
                    move |t| {
                        t.capturing = false;
                        set(&mut t.sample, Some(body))
                    },
                    |_| Ok(()),
                )
                .await?;
            state.samples.notify_waiters();
            Ok(ok(&trigger_view(state, &prepared.trigger)))
        }
        ("POST", "/api/triggers/{id}/sample/capture") => {
            let prepared = state.mutate(p(0), "capture armed", |t| set(&mut t.capturing, true), |_| Ok(())).await?;
            let url = state.trigger_url(&prepared.trigger);
            Ok(http::json_response(StatusCode::ACCEPTED, &json!({"capturing": true, "url": url})))
        }
        ("POST", "/api/triggers/{id}/preview") => preview(state, p(0), body),
        ("GET", "/api/triggers/{id}/properties") => {
            let prepared = get(state, p(0))?;
            let sample = prepared.trigger.sample.as_ref().ok_or_else(no_sample)?;
            let properties =
                crate::sample::properties(sample).map_err(|e| ApiError::validation("sample", e.to_string()))?;
            Ok(ok(&json!({ "properties": properties })))
        }
        ("POST", "/api/triggers/{id}/test") => test(state, p(0)).await,
        ("POST", "/api/triggers/{id}/rotate-token") => {
            let token = crate::ids::url_token()?;
            let prepared = state.mutate(p(0), "token rotated", move |t| set(&mut t.token, token), |_| Ok(())).await?;
            Ok(ok(&trigger_view(state, &prepared.trigger)))
        }
        ("POST", _) if Action::from_api(action).is_some() && pattern.starts_with("/api/triggers/{id}/") => {
            let Some(action) = Action::from_api(action) else { return Err(ApiError::internal("unrouted action")) };
            let prepared = state
                .mutate(
                    p(0),
                    action.name(),
                    move |t| {
                        t.status = t.status.apply(action)?;
                        Ok(())
                    },
                    |_| Ok(()),
                )
                .await?;
            Ok(ok(&trigger_view(state, &prepared.trigger)))
        }
        ("GET", "/api/triggers/{id}/history") => {
            get(state, p(0))?;
            let id = p(0).to_owned();
            let changes = state.store.read(move |c| records::trigger_changes(c, &id)).await?;
            let changes: Vec<Value> = changes
                .into_iter()
                .map(|(v, at, change)| json!({"version": v, "at": rfc3339(at), "change": change}))
                .collect();
            Ok(ok(&json!({ "changes": changes })))
        }
        ("GET", "/api/triggers/{id}/activity") => {
            get(state, p(0))?;
            Ok(ok(&state.activity.view(p(0))))
        }
        ("GET", "/api/triggers/{id}/events") => events(state, p(0), &query).await,
        ("GET", "/api/triggers/{id}/held") => {
            get(state, p(0))?;
            let id = p(0).to_owned();
            let limit = query_u64(&query, "limit")?.unwrap_or(100).min(1000) as u32;
            let held = state.store.read(move |c| records::list_held(c, &id, limit)).await?;
            Ok(ok(&json!({ "held": held.iter().map(held_view).collect::<Vec<_>>() })))
        }
        ("GET", "/api/events/{eid}") => {
            let id = p(0).to_owned();
            let (event, attempts) = state
                .store
                .read(move |c| Ok((records::get_event(c, &id)?, records::attempts(c, &id)?)))
                .await
                .map_err(|e| not_found_as(e, "event", p(0)))?;
            let mut view = event_view(&event);
            view["attempts"] = json!(attempts);
            Ok(ok(&view))
        }
        ("POST", "/api/events/{eid}/ack") => {
            let id = p(0).to_owned();
            let now = crate::clock::now_ms();
            let acked = state
                .store
                .write(move |c| records::ack_event(c, &id, now))
                .await
                .map_err(|e| not_found_as(e, "event", p(0)))?;
            if !acked {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    "the event is delivered by the flow's webhook, not acknowledged",
                ));
            }
            let id = p(0).to_owned();
            let event = state.store.read(move |c| records::get_event(c, &id)).await?;
            Ok(ok(&event_view(&event)))
        }
        ("GET", "/api/held/{hid}") => {
            let id = p(0).to_owned();
            let held = state
                .store
                .read(move |c| records::get_held(c, &id))
                .await
                .map_err(|e| not_found_as(e, "held request", p(0)))?;
            Ok(ok(&held_view(&held)))
        }
        ("DELETE", "/api/held/{hid}") => {
            let id = p(0).to_owned();
            state
                .store
                .write(move |c| records::delete_held(c, &id))
                .await
                .map_err(|e| not_found_as(e, "held request", p(0)))?;
            Ok(http::text_response(StatusCode::NO_CONTENT, "application/json", String::new()))
        }
        ("POST", "/api/held/{hid}/replay") => replay(state, p(0)).await,
        ("GET", "/api/presets") => Ok(ok(&presets::list())),
        ("GET", "/api/presets/scripts/{name}") => Ok(ok(&presets::script(p(0))?)),
        ("GET", "/api/presets/signatures/{name}") => Ok(ok(&presets::signature(p(0))?)),
        _ => Err(ApiError::internal(format!("route {method} {pattern} has no handler"))),
    }
}

fn ok(body: &Value) -> HttpResponse {
    http::json_response(StatusCode::OK, body)
}

fn set<T>(slot: &mut T, value: T) -> Result<(), ApiError> {
    *slot = value;
    Ok(())
}

fn get(state: &State, id: &str) -> Result<std::sync::Arc<Prepared>, ApiError> {
    state.registry.by_id(id).ok_or_else(|| ApiError::not_found("trigger", id))
}

fn no_sample() -> ApiError {
    ApiError::new(ErrorKind::Conflict, "the trigger has no sample; set one or capture one")
}

fn not_found_as(error: crate::store::StoreError, what: &str, id: &str) -> ApiError {
    match error {
        crate::store::StoreError::NotFound => ApiError::not_found(what, id),
        e => e.into(),
    }
}

fn query_u64(query: &Value, key: &str) -> Result<Option<u64>, ApiError> {
    match query.get(key).and_then(Value::as_str) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            ApiError::new(ErrorKind::BadRequest, format!("query parameter {key}: expected a non-negative integer"))
        }),
    }
}

// ---- request bodies ----

fn object(body: Value, what: &str) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::validation(what, "expected a JSON object")),
    }
}

fn only(map: &Map<String, Value>, allowed: &[&str], prefix: &str) -> Result<(), ApiError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(ApiError::validation(
            format!("{prefix}{key}"),
            format!("unknown field; expected one of {}", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

fn field<T: DeserializeOwned>(value: Value, path: &str) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::validation(path, e.to_string()))
}

fn mapping_spec(body: Value) -> Result<MappingSpec, ApiError> {
    let mut map = object(body, "mapping")?;
    only(&map, &["kind", "source", "limits"], "mapping.")?;
    let kind: MappingKind = field(map.remove("kind").unwrap_or(json!("structured")), "mapping.kind")?;
    let source = match map.remove("source") {
        Some(Value::String(text)) => text,
        Some(value @ (Value::Object(_) | Value::Array(_))) => value.to_string(),
        _ => {
            return Err(ApiError::validation(
                "mapping.source",
                "expected the mapping's source: a string or a JSON object",
            ));
        }
    };
    let limits: Limits = match map.remove("limits") {
        Some(value) => field(value, "mapping.limits")?,
        None => Limits::default(),
    };
    let spec = MappingSpec { kind, source, limits };
    registry::mapping_of(&spec)?;
    Ok(spec)
}

fn security_spec(body: Value) -> Result<SecuritySpec, ApiError> {
    let map = object(body, "security")?;
    only(&map, &["allow", "trustedProxies", "signature", "secrets"], "security.")?;
    field(Value::Object(map), "security")
}

fn flow(value: Value) -> Result<Flow, ApiError> {
    let flow: Flow = field(value, "flow")?;
    if let FlowTarget::Webhook { url } = &flow.target {
        http::parse_http_url(url).map_err(|e| ApiError::validation("flow.target.url", e))?;
    }
    Ok(flow)
}

fn rate_limit(value: Value) -> Result<Option<RateLimit>, ApiError> {
    if value.is_null() { Ok(None) } else { field(value, "rateLimit").map(Some) }
}

/// `dedup`: `null` (none) or `{"key", "windowSeconds"}`, each field checked with its name.
fn dedup(value: Value) -> Result<Option<DedupSpec>, ApiError> {
    if value.is_null() {
        return Ok(None);
    }
    let mut map = object(value, "dedup")?;
    only(&map, &["key", "windowSeconds"], "dedup.")?;
    let key = match map.remove("key") {
        Some(Value::String(key)) => key,
        Some(other) => {
            let found = crate::schema::Found::of(&other);
            return Err(ApiError::validation("dedup.key", format!("expected a string, found {found}")));
        }
        None => return Err(ApiError::validation("dedup.key", "missing: a JSONPath (\"$.id\") or \"header:NAME\"")),
    };
    let window_seconds = match map.remove("windowSeconds") {
        None => DedupSpec::DEFAULT_WINDOW_SECONDS,
        Some(value) => value.as_u64().ok_or_else(|| {
            let found = crate::schema::Found::of(&value);
            ApiError::validation("dedup.windowSeconds", format!("expected a whole number of seconds, found {found}"))
        })?,
    };
    let spec = DedupSpec { key, window_seconds };
    crate::dedup::Dedup::new(&spec).map_err(|e| ApiError::validation(format!("dedup.{}", e.field()), e.to_string()))?;
    Ok(Some(spec))
}

async fn create(state: &State, body: Value) -> Result<HttpResponse, ApiError> {
    let mut map = object(body, "")?;
    only(&map, &["name", "flow", "sample", "mapping", "security", "shapeCheck", "rateLimit", "dedup"], "")?;
    let name = match map.remove("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name,
        _ => return Err(ApiError::validation("name", "a non-empty name is required")),
    };
    let sample = map.remove("sample").filter(|v| !v.is_null());
    if let Some(sample) = &sample {
        crate::sample::properties(sample).map_err(|e| ApiError::validation("sample", e.to_string()))?;
    }
    let now = crate::clock::now_ms();
    let trigger = Trigger {
        id: crate::ids::record_id("trg")?,
        name,
        token: crate::ids::url_token()?,
        status: Status::Test,
        capturing: false,
        sample,
        mapping: map.remove("mapping").filter(|v| !v.is_null()).map(mapping_spec).transpose()?,
        security: map.remove("security").map(security_spec).transpose()?.unwrap_or_default(),
        flow: map.remove("flow").map(flow).transpose()?.unwrap_or_default(),
        shape_check: map.remove("shapeCheck").map(|v| field(v, "shapeCheck")).transpose()?.unwrap_or_default(),
        rate_limit: map.remove("rateLimit").map(rate_limit).transpose()?.flatten(),
        dedup: map.remove("dedup").map(dedup).transpose()?.flatten(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let prepared = state.create(trigger).await?;
    Ok(http::json_response(StatusCode::CREATED, &trigger_view(state, &prepared.trigger)))
}

async fn patch(state: &State, id: &str, body: Value) -> Result<HttpResponse, ApiError> {
    let mut map = object(body, "")?;
    only(&map, &["name", "flow", "shapeCheck", "rateLimit", "dedup"], "")?;
    let name = match map.remove("name") {
        None => None,
        Some(Value::String(name)) if !name.trim().is_empty() => Some(name),
        Some(_) => return Err(ApiError::validation("name", "expected a non-empty string")),
    };
    let new_flow = map.remove("flow").map(flow).transpose()?;
    let shape_check: Option<ShapeCheck> = map.remove("shapeCheck").map(|v| field(v, "shapeCheck")).transpose()?;
    let limit = map.remove("rateLimit").map(rate_limit).transpose()?;
    let new_dedup = map.remove("dedup").map(dedup).transpose()?;
    let to_outbox = matches!(&new_flow, Some(Flow { target: FlowTarget::None, .. }));
    let trigger_id = id.to_owned();
    let prepared = state
        .mutate(
            id,
            "updated",
            move |t| {
                if let Some(name) = name {
                    t.name = name;
                }
                if let Some(flow) = new_flow {
                    t.flow = flow;
                }
                if let Some(check) = shape_check {
                    t.shape_check = check;
                }
                if let Some(limit) = limit {
                    t.rate_limit = limit;
                }
                if let Some(dedup) = new_dedup {
                    t.dedup = dedup;
                }
                Ok(())
            },
            // Without a webhook, pending events wait in the outbox like new ones.
            move |c| if to_outbox { records::store_all_pending(c, &trigger_id) } else { Ok(()) },
        )
        .await?;
    Ok(ok(&trigger_view(state, &prepared.trigger)))
}

async fn sample(state: &State, id: &str, query: &Value) -> Result<HttpResponse, ApiError> {
    let wait = query_u64(query, "wait")?.unwrap_or(0).min(state.config.max_wait_seconds);
    let deadline = Instant::now() + Duration::from_secs(wait);
    loop {
        let notified = state.samples.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let prepared = get(state, id)?;
        if !prepared.trigger.capturing || Instant::now() >= deadline {
            let t = &prepared.trigger;
            return Ok(ok(&json!({"sample": t.sample, "capturing": t.capturing})));
        }
        let _ = tokio::time::timeout_at(deadline.into(), notified).await;
    }
}

fn preview(state: &State, id: &str, body: Value) -> Result<HttpResponse, ApiError> {
    let prepared = get(state, id)?;
    let mut map = object(body, "")?;
    only(&map, &["body", "mapping"], "")?;
    let input = match map.remove("body") {
        Some(body) => body,
        None => prepared.trigger.sample.clone().ok_or_else(no_sample)?,
    };
    let properties = crate::sample::properties(&input).map_err(|e| ApiError::validation("body", e.to_string()))?;
    let program = match map.remove("mapping") {
        Some(spec) => {
            let spec = mapping_spec(spec)?;
            let mapping = registry::mapping_of(&spec)?;
            match state.cache.get_or_compile(&mapping) {
                Ok(program) => program,
                Err(errors) => {
                    let errors: Vec<Value> =
                        errors.0.iter().map(|e| problem_json(e.path(), &e.to_string(), e.position())).collect();
                    return Ok(ok(&json!({"output": null, "errors": errors, "properties": properties, "reads": []})));
                }
            }
        }
        None => prepared
            .program
            .clone()
            .ok_or_else(|| ApiError::new(ErrorKind::Conflict, "the trigger has no mapping; give one in `mapping`"))?,
    };
    let reads = match &prepared.trigger.sample {
        Some(sample) => program.reads_on(&Input::from_body(sample.clone())),
        None => program.reads().to_vec(),
    };
    let shape = prepared
        .trigger
        .sample
        .as_ref()
        .map(|sample| Shape::referenced(sample, &reads).check(&input).err().unwrap_or_default())
        .unwrap_or_default();
    let started = Instant::now();
    let outcome = program.run_with_console(&Input::from_body(input));
    state.metrics.mapping_latency(started.elapsed());
    let console: Vec<Value> =
        outcome.console.iter().map(|line| json!({"level": line.level, "text": line.text})).collect();
    let (output, skipped, errors) = match outcome.result {
        Ok(Mapped::Event(output)) => (output, Value::Null, Vec::new()),
        Ok(Mapped::Skipped(skip)) => (Value::Null, json!({"reason": skip.reason}), Vec::new()),
        Err(errors) => (
            Value::Null,
            Value::Null,
            errors.0.iter().map(|e| problem_json(e.field(), &e.to_string(), e.position())).collect(),
        ),
    };
    Ok(ok(&json!({
        "output": output,
        "skipped": skipped,
        "errors": errors,
        "properties": properties,
        "reads": reads,
        "shape": shape,
        "console": console,
    })))
}

/// A preview error: `{"path", "message"}`, with `line` and `column` for a script's error that has them.
fn problem_json(path: &str, message: &str, position: Option<(u32, u32)>) -> Value {
    let mut problem = json!({"path": path, "message": message});
    if let Some((line, column)) = position {
        problem["line"] = json!(line);
        problem["column"] = json!(column);
    }
    problem
}

fn mapping_failed(problems: &[crate::store::Problem]) -> ApiError {
    let message = problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("\n");
    let error = ApiError::new(ErrorKind::MappingFailed, message);
    match problems.first() {
        Some(first) => error.at_problem(first),
        None => error,
    }
}

async fn test(state: &State, id: &str) -> Result<HttpResponse, ApiError> {
    let prepared = get(state, id)?;
    let sample = prepared.trigger.sample.clone().ok_or_else(no_sample)?;
    let now = crate::clock::now_ms();
    let input = Input { body: sample, request: RequestInfo::bare(now) };
    let payload = match ingest::map(state, &prepared, &input).map_err(|problems| mapping_failed(&problems))? {
        Mapped::Event(payload) => payload,
        Mapped::Skipped(skip) => return Ok(ingest::skipped(state, id, skip)),
    };
    // A test card is asked for on purpose: it is never a duplicate.
    let append = ingest::Append { mode: Mode::Test, payload, received_at: now, key: None, replayed: None };
    match ingest::append(state, &prepared, append, false).await? {
        ingest::Committed::Event(event_id) | ingest::Committed::Duplicate(event_id) => {
            Ok(http::json_response(StatusCode::ACCEPTED, &json!({"eventId": event_id, "mode": "test"})))
        }
    }
}

async fn replay(state: &State, id: &str) -> Result<HttpResponse, ApiError> {
    let owned = id.to_owned();
    let held = state
        .store
        .read(move |c| records::get_held(c, &owned))
        .await
        .map_err(|e| not_found_as(e, "held request", id))?;
    let prepared = get(state, &held.trigger_id)?;
    let mode = match prepared.trigger.status {
        Status::Test => Mode::Test,
        Status::Live => Mode::Live,
        Status::Paused { resume } => resume,
        Status::Disabled => return Err(ApiError::new(ErrorKind::Conflict, "the trigger is disabled; enable it first")),
    };
    let kind = http::body_kind(held.content_type.as_deref())?;
    let full = prepared.dedup.as_ref().is_some_and(crate::dedup::Dedup::reads_body);
    let body = ingest::parse_body(kind, &held.body, prepared.program.as_deref(), full)?;
    let now = crate::clock::now_ms();
    let key = ingest::dedup_key(&prepared, &body, &held.request, now);
    let trigger_id = prepared.trigger.id.clone();
    match ingest::map(state, &prepared, &Input { body, request: held.request.clone() }) {
        Ok(Mapped::Event(payload)) => {
            let append =
                ingest::Append { mode, payload, received_at: held.received_at, key, replayed: Some(held.id.clone()) };
            Ok(match ingest::append(state, &prepared, append, false).await? {
                ingest::Committed::Event(event_id) => {
                    http::json_response(StatusCode::ACCEPTED, &json!({"eventId": event_id, "mode": mode.as_str()}))
                }
                ingest::Committed::Duplicate(first) => ingest::duplicate(state, &trigger_id, &first),
            })
        }
        Ok(Mapped::Skipped(skip)) => {
            let held_id = held.id.clone();
            state.store.write(move |c| records::delete_held(c, &held_id)).await?;
            Ok(ingest::skipped(state, &trigger_id, skip))
        }
        Err(problems) => {
            let error = mapping_failed(&problems);
            let held_id = held.id.clone();
            state.store.write(move |c| records::update_held(c, &held_id, HeldReason::Mapping, &problems)).await?;
            Err(error)
        }
    }
}

async fn events(state: &State, id: &str, query: &Value) -> Result<HttpResponse, ApiError> {
    get(state, id)?;
    let filter = match query.get("state").and_then(Value::as_str) {
        None => None,
        Some(text) => Some(DeliveryState::parse(text).ok_or_else(|| {
            ApiError::new(
                ErrorKind::BadRequest,
                "query parameter state: expected pending, delivered, dead, stored or acked",
            )
        })?),
    };
    let after = query_u64(query, "after")?.unwrap_or(0) as i64;
    let limit = query_u64(query, "limit")?.unwrap_or(100).clamp(1, 1000) as u32;
    let owned = id.to_owned();
    let events = state.store.read(move |c| records::list_events(c, &owned, filter, after, limit)).await?;
    let next = events.last().map(|e| e.seq);
    Ok(ok(&json!({"events": events.iter().map(event_view).collect::<Vec<_>>(), "next": next})))
}

// ---- views ----

/// A trigger as the API shows it (secrets are counted, never shown).
pub fn trigger_view(state: &State, t: &Trigger) -> Value {
    let doc = t.status_doc();
    json!({
        "id": t.id,
        "name": t.name,
        "status": doc.status,
        "pausedFrom": doc.paused_from,
        "url": state.trigger_url(t),
        "token": t.token,
        "capturing": t.capturing,
        "sample": t.sample,
        "mapping": t.mapping,
        "security": {
            "allow": t.security.allow,
            "trustedProxies": t.security.trusted_proxies,
            "signature": t.security.signature,
            "secretCount": t.security.secrets.len(),
        },
        "flow": t.flow,
        "shapeCheck": t.shape_check,
        "rateLimit": t.rate_limit,
        "dedup": t.dedup,
        "createdAt": rfc3339(t.created_at),
        "updatedAt": rfc3339(t.updated_at),
        "version": t.version,
    })
}

fn opt_time(ms: Option<i64>) -> Value {
    ms.map(|ms| json!(rfc3339(ms))).unwrap_or(Value::Null)
}

/// An event as the API shows it.
pub fn event_view(e: &Event) -> Value {
    json!({
        "id": e.id,
        "seq": e.seq,
        "triggerId": e.trigger_id,
        "mode": e.mode.as_str(),
        "test": e.mode == Mode::Test,
        "receivedAt": rfc3339(e.received_at),
        "payload": e.payload,
        "delivery": {
            "state": e.state.as_str(),
            "attempts": e.attempts,
            "nextAttemptAt": opt_time(e.next_attempt_at),
            "lastError": e.last_error,
            "doneAt": opt_time(e.done_at),
        },
    })
}

/// A held request as the API shows it (the body parsed when it is JSON or a form).
pub fn held_view(h: &Held) -> Value {
    let body = http::body_kind(h.content_type.as_deref())
        .ok()
        .and_then(|kind| ingest::parse_body(kind, &h.body, None, true).ok())
        .unwrap_or_else(|| Value::String(String::from_utf8_lossy(&h.body).into_owned()));
    json!({
        "id": h.id,
        "triggerId": h.trigger_id,
        "receivedAt": rfc3339(h.received_at),
        "reason": h.reason.as_str(),
        "errors": h.errors,
        "contentType": h.content_type,
        "request": h.request.to_json(),
        "body": body,
    })
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
    fn route_patterns_match_segments() {
        let segments = ["api", "triggers", "trg_1", "events"];
        assert_eq!(matches("/api/triggers/{id}/events", &segments), Some(vec!["trg_1"]));
        assert_eq!(matches("/api/triggers/{id}", &segments), None);
        assert_eq!(matches("/api/triggers/{id}/held", &segments), None);
    }
}
