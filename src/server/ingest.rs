//! `POST|PUT /hooks/{token}`: the request pipeline (see `docs/architecture.md`), as HTTP.
//!
//! route and method → the hub admits the token (404 · capture), the client (403) and the
//! rate (429) → content type (415) → body under the limit (413), within the body timeout
//! (408) and the bodies' byte budget (503) → an in-flight slot (503) → the hub's decision:
//! signature (401) → parse (400) → duplicate (202 `{eventId, duplicate}`) → held while
//! paused or for its shape (409) or its mapping (422) → skipped (202 `{skipped, reason}`) →
//! committed (202 `{eventId, mode}`; 503 when the write queue is full).

use std::net::SocketAddr;

use hyper::body::{Body, Bytes};
use hyper::header::CONTENT_TYPE;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};

use super::State;
use super::error::{ApiError, ErrorKind};
use super::http::{self, HttpResponse};
use crate::hub::HubError;
use crate::hub::body::{body_kind, parse_form};
use crate::hub::ingest::{Admitted, Decision, Hold, Received};
use crate::mapping::RequestInfo;
use crate::store::HeldReason;

/// Answers one ingest request and counts it in the metrics.
///
/// The server passes `hyper::body::Incoming`; any body that yields [`Bytes`] works.
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
    let outcome = label.outcome.unwrap_or_else(|| crate::metrics::outcome(response.status().as_u16()));
    state.hub.metrics.request(&label.trigger, outcome);
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
    let (parts, body) = request.into_parts();
    let headers: Vec<(&str, &[u8])> = parts.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())).collect();
    let admitted = state.hub.admit(&token, peer.ip(), &headers);
    match &admitted {
        Ok(Admitted::Capture(prepared) | Admitted::Map(prepared)) => label.trigger = prepared.trigger.id.clone(),
        Err(HubError::NoTrigger) => {}
        Err(_) => {
            if let Some(prepared) = state.hub.registry.by_token(&token) {
                label.trigger = prepared.trigger.id.clone();
            }
        }
    }
    let content_type = parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let prepared = match admitted? {
        Admitted::Capture(prepared) => {
            let kind = body_kind(content_type.as_deref())?;
            let body = http::read_body(&parts.headers, body, state.ingest_body_limits()).await?;
            let _slot = state.in_flight_slot()?;
            state.hub.capture(&prepared, kind, &body.bytes).await?;
            return Ok(http::json_response(StatusCode::ACCEPTED, &json!({"captured": true})));
        }
        Admitted::Map(prepared) => prepared,
    };
    let kind = body_kind(content_type.as_deref())?;
    let body = http::read_body(&parts.headers, body, state.ingest_body_limits()).await?;
    let _slot = state.in_flight_slot()?;
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let received_at = crate::clock::now_ms();
    let received = Received {
        kind,
        body: &body.bytes,
        content_type,
        headers: &headers,
        url: format!("{}{path}", state.hub.base_url()),
        info: request_info(&parts, received_at),
        received_at,
    };
    let decision = state.hub.ingest(&prepared, received).await?;
    answer(decision, label)
}

/// The answer to a decision: 202 for an event, a skip or a duplicate; 409 or 422 naming
/// the held request.
fn answer(decision: Decision, label: &mut Label) -> Result<HttpResponse, ApiError> {
    match decision {
        Decision::Accepted { event_id, mode } => {
            Ok(http::json_response(StatusCode::ACCEPTED, &json!({"eventId": event_id, "mode": mode.as_str()})))
        }
        Decision::Skipped(skip) => {
            label.outcome = Some("skipped");
            Ok(http::json_response(StatusCode::ACCEPTED, &skip.to_json()))
        }
        Decision::Duplicate(first) => {
            label.outcome = Some("duplicate");
            Ok(duplicate(&first))
        }
        Decision::Held(hold) => Err(held(hold)),
    }
}

/// The answer to a request whose key an earlier event had: 202 with that event's id.
pub(super) fn duplicate(first: &str) -> HttpResponse {
    http::json_response(StatusCode::ACCEPTED, &json!({"eventId": first, "duplicate": true}))
}

/// The refusal of a held request, naming it.
fn held(Hold { id, reason, problems }: Hold) -> ApiError {
    match reason {
        HeldReason::Paused => {
            ApiError::new(ErrorKind::Paused, format!("the trigger is paused; the request is held as {id}"))
        }
        HeldReason::Shape => {
            let first = problems.first().map(|p| p.path.clone()).unwrap_or_default();
            ApiError::new(
                ErrorKind::Paused,
                format!(
                    "the body is not shaped like the trigger's sample; the trigger is paused and the request held as {id}"
                ),
            )
            .at(first)
        }
        HeldReason::Mapping => {
            let error = ApiError::new(
                ErrorKind::MappingFailed,
                format!("the mapping failed ({} error(s)); the request is held as {id}", problems.len()),
            );
            match problems.first() {
                Some(first) => error.at_problem(first),
                None => error,
            }
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
    let query = match parts.uri.query().map(|q| parse_form(q.as_bytes())) {
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
