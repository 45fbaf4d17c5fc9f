//! `POST|PUT /hooks/{token}`: the request pipeline (see DESIGN.md).
//!
//! registry → status gate (404 · capture) → allow-list (403) → rate limit (429) →
//! content type (415) → body under the limit (413), within the body timeout (408) and the
//! bodies' byte budget (503) → an in-flight slot (503) → signature (401) → parse (400) →
//! a dedup key seen before (202 `{eventId, duplicate}`) → paused (409, held) → shape check
//! (409, paused and held, unless the mapping skips the body) → mapping and validation
//! (422, held; a skip answers 202 `{skipped, reason}`) → durable append with the dedup key
//! (202 `{eventId, mode}`, or a duplicate committed meanwhile; 503 when the write queue is full).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use hyper::body::{Body, Bytes};
use hyper::header::CONTENT_TYPE;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};

use super::State;
use super::error::{ApiError, ErrorKind};
use super::http::{self, BodyKind, HttpResponse};
use super::registry::Prepared;
use crate::mapping::{Input, Mapped, Program, RequestInfo, Skip};
use crate::security::SignedRequest;
use crate::store::{Appended, DedupKey, DeliveryState, Held, HeldReason, NewEvent, Problem, records};
use crate::trigger::{Action, FlowTarget, Mode, ShapeCheck, Status};

/// Answers one ingest request and counts it in the metrics.
///
/// The server passes `hyper::body::Incoming`; any body that yields [`Bytes`] works, so the
/// `ingest` fuzz target calls it with an in-memory `Full<Bytes>` and no socket.
pub async fn handle<B>(state: &State, request: Request<B>, peer: SocketAddr) -> HttpResponse
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut label = Label { trigger: String::from("unknown"), outcome: None };
    let response = match ingest(state, request, peer, &mut label).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    let outcome = label.outcome.unwrap_or_else(|| super::metrics::outcome(response.status().as_u16()));
    state.metrics.request(&label.trigger, outcome);
    response
}

/// How a request is counted: its trigger, and an outcome the status alone does not tell.
struct Label {
    trigger: String,
    outcome: Option<&'static str>,
}

async fn ingest<B>(
    state: &State,
    request: Request<B>,
    peer: SocketAddr,
    label: &mut Label,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let token = match request.uri().path().strip_prefix("/hooks/") {
        Some(token) if !token.is_empty() && !token.contains('/') => token.to_owned(),
        _ => return Err(ApiError::new(ErrorKind::RouteNotFound, "no such route")),
    };
    if request.method() != Method::POST && request.method() != Method::PUT {
        return Err(ApiError::method_not_allowed("POST, PUT"));
    }
    let not_found = || ApiError::new(ErrorKind::NotFound, "no trigger at this URL");
    let prepared = state.registry.by_token(&token).ok_or_else(not_found)?;
    if prepared.trigger.status == Status::Disabled {
        return Err(not_found());
    }
    label.trigger = prepared.trigger.id.clone();
    let (parts, body) = request.into_parts();
    let content_type = parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if prepared.trigger.capturing {
        return capture(state, &prepared, content_type.as_deref(), &parts.headers, body).await;
    }
    let headers: Vec<(&str, &[u8])> = parts.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())).collect();
    let trigger_id = prepared.trigger.id.as_str();
    if let Err(denied) = prepared.allow.check(peer.ip(), &headers) {
        tracing::info!(trigger = trigger_id, %peer, reason = %denied, "refused by the allow-list");
        return Err(ApiError::new(ErrorKind::Forbidden, "this client is not allowed to call this trigger"));
    }
    if !prepared.admit() {
        return Err(ApiError::new(ErrorKind::RateLimited, "the trigger's rate limit is exceeded; retry later"));
    }
    let kind = http::body_kind(content_type.as_deref())?;
    let body = http::read_body(&parts.headers, body, state.ingest_body_limits()).await?;
    let bytes = &body.bytes;
    let _slot = state.in_flight_slot()?;
    if let Some((scheme, keys)) = &prepared.signature {
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let url = format!("{}{path}", state.base_url);
        let signed = SignedRequest::new(bytes, &headers).with_url(&url);
        if let Err(reason) = scheme.verify(&signed, keys, SystemTime::now()) {
            tracing::info!(trigger = trigger_id, reason = %reason, "refused: signature");
            return Err(ApiError::new(ErrorKind::Unauthorized, "the request signature is invalid"));
        }
    }
    let full = prepared.trigger.shape_check == ShapeCheck::Sample
        || prepared.dedup.as_ref().is_some_and(crate::dedup::Dedup::reads_body);
    let parsed = parse_body(kind, bytes, prepared.program.as_deref(), full)?;
    let received_at = crate::clock::now_ms();
    let info = request_info(&parts, received_at);
    let dedup_key = dedup_key(&prepared, &parsed, &info, received_at);
    if let Some(key) = dedup_key.clone() {
        let trigger = trigger_id.to_owned();
        let first = state.store.read(move |c| records::first_event(c, &trigger, &key.key, received_at)).await?;
        if let Some(first) = first {
            label.outcome = Some("duplicate");
            return Ok(duplicate(state, trigger_id, &first));
        }
    }
    // What a refusal from here on holds; built only then, so an accepted request copies nothing.
    let held_request = |info| HeldRequest { content_type, body: bytes.to_vec(), received_at, info };
    let mode = match prepared.trigger.status {
        Status::Test => Mode::Test,
        Status::Live => Mode::Live,
        Status::Paused { .. } => {
            let problems = vec![Problem::new("$", "the trigger was paused")];
            let held = hold(state, trigger_id, HeldReason::Paused, problems, held_request(info)).await?;
            return Err(ApiError::new(
                ErrorKind::Paused,
                format!("the trigger is paused; the request is held as {held}"),
            ));
        }
        Status::Disabled => return Err(not_found()),
    };
    let input = Input { body: parsed, request: info };
    if let Some(shape) = &prepared.shape
        && let Err(problems) = shape.check(&input.body)
    {
        // A body the mapping skips on purpose is not a change of shape.
        if let Ok(Mapped::Skipped(skip)) = map(state, &prepared, &input) {
            label.outcome = Some("skipped");
            return Ok(skipped(state, trigger_id, skip));
        }
        let first = problems.first().map(|p| p.path.clone()).unwrap_or_default();
        let held = pause_and_hold(state, &prepared, problems, held_request(input.request)).await?;
        return Err(ApiError::new(
            ErrorKind::Paused,
            format!(
                "the body is not shaped like the trigger's sample; the trigger is paused and the request held as {held}"
            ),
        )
        .at(first));
    }
    match map(state, &prepared, &input) {
        Ok(Mapped::Event(payload)) => {
            let appended = Append { mode, payload, received_at, key: dedup_key, replayed: None };
            Ok(match append(state, &prepared, appended, true).await? {
                Committed::Event(event_id) => {
                    http::json_response(StatusCode::ACCEPTED, &json!({"eventId": event_id, "mode": mode.as_str()}))
                }
                Committed::Duplicate(first) => {
                    label.outcome = Some("duplicate");
                    duplicate(state, trigger_id, &first)
                }
            })
        }
        Ok(Mapped::Skipped(skip)) => {
            label.outcome = Some("skipped");
            Ok(skipped(state, trigger_id, skip))
        }
        Err(problems) => {
            let count = problems.len();
            let first = problems.first().cloned();
            let held = hold(state, trigger_id, HeldReason::Mapping, problems, held_request(input.request)).await?;
            let error = ApiError::new(
                ErrorKind::MappingFailed,
                format!("the mapping failed ({count} error(s)); the request is held as {held}"),
            );
            Err(match first {
                Some(first) => error.at_problem(&first),
                None => error,
            })
        }
    }
}

/// The request's dedup key on `prepared`'s trigger, remembered from `now` for the window.
pub(super) fn dedup_key(prepared: &Prepared, body: &Value, info: &RequestInfo, now: i64) -> Option<DedupKey> {
    let dedup = prepared.dedup.as_ref()?;
    let key = dedup.key(body, info)?;
    Some(DedupKey { key, expires_at: now.saturating_add(dedup.window_ms()) })
}

/// The answer to a request whose key an earlier event had: 202 with that event's id.
pub(super) fn duplicate(state: &State, trigger_id: &str, first: &str) -> HttpResponse {
    state.activity.duplicate(trigger_id, crate::clock::now_ms(), first);
    tracing::info!(trigger = trigger_id, event = first, "duplicate of an earlier event");
    http::json_response(StatusCode::ACCEPTED, &json!({"eventId": first, "duplicate": true}))
}

/// The answer to a request the mapping skipped: 202 `{"skipped": true, "reason": …}`.
pub(super) fn skipped(state: &State, trigger_id: &str, skip: Skip) -> HttpResponse {
    let answer = skip.to_json();
    state.activity.skipped(trigger_id, crate::clock::now_ms(), skip.reason);
    http::json_response(StatusCode::ACCEPTED, &answer)
}

/// A refused request as it will be held.
pub(super) struct HeldRequest {
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub received_at: i64,
    /// Method, headers and query.
    pub info: RequestInfo,
}

/// Parses a body of `kind`: a program that reads only singular paths parses just what
/// it reads, unless `full` (the `sample` shape check needs the whole body).
pub(super) fn parse_body(
    kind: BodyKind,
    bytes: &[u8],
    program: Option<&Program>,
    full: bool,
) -> Result<Value, ApiError> {
    match kind {
        BodyKind::Form => http::parse_form(bytes),
        BodyKind::Json => {
            let parsed = match program {
                Some(program) if !full => program.parse_body(bytes),
                _ => crate::document::parse(bytes),
            };
            parsed.map_err(|e| ApiError::new(ErrorKind::BadRequest, format!("the body is not JSON: {e}")))
        }
    }
}

/// The request as a script sees it (`RequestInfo::to_json` joins repeated headers and keeps a
/// query parameter's first value).
fn request_info(parts: &hyper::http::request::Parts, received_at: i64) -> RequestInfo {
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let query = match parts.uri.query().map(|q| http::parse_form(q.as_bytes())) {
        Some(Ok(Value::Object(map))) => map
            .into_iter()
            .flat_map(|(name, value)| {
                match value {
                    Value::Array(values) => values,
                    one => vec![one],
                }
                .into_iter()
                .filter_map(move |v| v.as_str().map(|s| (name.clone(), s.to_owned())))
                .collect::<Vec<_>>()
            })
            .collect(),
        _ => Vec::new(),
    };
    RequestInfo {
        method: parts.method.as_str().to_owned(),
        headers,
        query,
        received_at: crate::clock::rfc3339(received_at),
    }
}

/// Runs the trigger's mapping: the validated payload or a skip, or every problem with its path.
pub(super) fn map(state: &State, prepared: &Prepared, input: &Input) -> Result<Mapped, Vec<Problem>> {
    let Some(program) = &prepared.program else {
        return Err(vec![Problem::new("mapping", "the trigger has no mapping")]);
    };
    let started = Instant::now();
    let result = program.run(input);
    state.metrics.mapping_latency(started.elapsed());
    result.map_err(|errors| errors.0.iter().map(Problem::of_map_error).collect())
}

/// An event to append.
pub(super) struct Append {
    /// Test or live.
    pub mode: Mode,
    /// The mapped payload.
    pub payload: Value,
    /// When its request was received (Unix milliseconds).
    pub received_at: i64,
    /// Its dedup key: when an earlier event had it, nothing is appended.
    pub key: Option<DedupKey>,
    /// The held request it was replayed from, removed in the same transaction.
    pub replayed: Option<String>,
}

/// What [`append`] committed.
pub(super) enum Committed {
    /// The event with this id.
    Event(String),
    /// Nothing: the dedup key was an earlier event's, this one.
    Duplicate(String),
}

/// Appends an event (durably) with its dedup key, in one transaction, and wakes the
/// dispatcher when it is to be delivered. `ingest` refuses at once when the write queue is
/// full (503) instead of waiting.
pub(super) async fn append(
    state: &State,
    prepared: &Prepared,
    append: Append,
    ingest: bool,
) -> Result<Committed, ApiError> {
    let Append { mode, payload, received_at, key, replayed } = append;
    let id = crate::ids::record_id("evt")?;
    let delivery = match prepared.trigger.flow.target {
        FlowTarget::Webhook { .. } => DeliveryState::Pending,
        FlowTarget::None => DeliveryState::Stored,
    };
    let event = NewEvent {
        id: id.clone(),
        trigger_id: prepared.trigger.id.clone(),
        mode,
        received_at,
        payload: payload.to_string(),
        state: delivery,
    };
    let now = crate::clock::now_ms();
    let write = move |conn: &rusqlite::Connection| {
        let appended = records::append_event_once(conn, &event, key.as_ref(), now)?;
        if let Some(held) = &replayed {
            records::delete_held(conn, held)?;
        }
        Ok(appended)
    };
    let appended = if ingest { state.store.try_write(write).await? } else { state.store.write(write).await? };
    match appended {
        Appended::New => {
            if delivery == DeliveryState::Pending {
                state.deliveries.notify_one();
            }
            Ok(Committed::Event(id))
        }
        Appended::Duplicate(first) => Ok(Committed::Duplicate(first)),
    }
}

/// Keeps a refused request with its reason; its id.
pub(super) async fn hold(
    state: &State,
    trigger_id: &str,
    reason: HeldReason,
    errors: Vec<Problem>,
    request: HeldRequest,
) -> Result<String, ApiError> {
    let held = held_record(trigger_id, reason, errors, request)?;
    let id = held.id.clone();
    state.store.try_write(move |conn| records::insert_held(conn, &held)).await?;
    tracing::info!(trigger = trigger_id, held = %id, reason = reason.as_str(), "request held");
    Ok(id)
}

fn held_record(
    trigger_id: &str,
    reason: HeldReason,
    errors: Vec<Problem>,
    request: HeldRequest,
) -> Result<Held, ApiError> {
    Ok(Held {
        id: crate::ids::record_id("hld")?,
        trigger_id: trigger_id.to_owned(),
        received_at: request.received_at,
        reason,
        errors,
        content_type: request.content_type,
        body: request.body,
        request: request.info,
    })
}

/// Pauses the trigger and holds the request, in one transaction. If another request
/// paused it first, the request is only held.
async fn pause_and_hold(
    state: &State,
    prepared: &Prepared,
    problems: Vec<Problem>,
    request: HeldRequest,
) -> Result<String, ApiError> {
    let trigger_id = prepared.trigger.id.as_str();
    let held = held_record(trigger_id, HeldReason::Shape, problems.clone(), request)?;
    let id = held.id.clone();
    let fallback = held.clone();
    let paused = state
        .mutate(
            trigger_id,
            "paused: a body was not shaped like the sample",
            |t| {
                t.status = t.status.apply(Action::Pause)?;
                Ok(())
            },
            move |conn| records::insert_held(conn, &held),
        )
        .await;
    match paused {
        Ok(_) => {
            tracing::warn!(trigger = trigger_id, held = %id, "trigger paused: body not shaped like the sample");
            Ok(id)
        }
        Err(e) if e.kind == ErrorKind::Conflict => {
            // Already paused (or disabled) meanwhile: keep the request all the same.
            state.store.try_write(move |conn| records::insert_held(conn, &fallback)).await?;
            Ok(id)
        }
        Err(e) => Err(e),
    }
}

/// Stores a capture-armed trigger's request as its sample (no signature, no event).
async fn capture<B>(
    state: &State,
    prepared: &Arc<Prepared>,
    content_type: Option<&str>,
    headers: &hyper::HeaderMap,
    body: B,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let kind = http::body_kind(content_type)?;
    let body = http::read_body(headers, body, state.ingest_body_limits()).await?;
    let _slot = state.in_flight_slot()?;
    let sample = parse_body(kind, &body.bytes, None, true)?;
    crate::sample::properties(&sample).map_err(|e| ApiError::new(ErrorKind::BadRequest, e.to_string()))?;
    state
        .mutate(
            &prepared.trigger.id,
            "sample captured",
            move |t| {
                if !t.capturing {
                    return Err(ApiError::new(ErrorKind::Conflict, "the capture was already done"));
                }
                t.capturing = false;
                t.sample = Some(sample);
                Ok(())
            },
            |_| Ok(()),
        )
        .await?;
    state.samples.notify_waiters();
    Ok(http::json_response(StatusCode::ACCEPTED, &json!({"captured": true})))
}
