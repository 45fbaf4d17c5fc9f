//! The outbox: a trigger's events, one event with its delivery attempts, acknowledgement.

use serde_json::{Value, json};

use super::{Call, ok, query_u64};
use crate::clock::rfc3339;
use crate::server::State;
use crate::server::error::{ApiError, ErrorKind};
use crate::server::http::HttpResponse;
use crate::store::{Attempt, DeliveryState, Event};
use crate::trigger::Mode;

/// `GET /api/triggers/{id}/events?state=&after=&limit=`: paged by `seq`.
pub async fn list(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let query = &call.query;
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
    let events = state.hub.events(call.param(0), filter, after, limit).await?;
    let next = events.last().map(|e| e.seq);
    let views = events.iter().map(event_view).collect::<Result<Vec<_>, _>>()?;
    Ok(ok(&json!({"events": views, "next": next})))
}

/// `GET /api/events/{eid}`: the event with its delivery attempts.
pub async fn show(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let (event, attempts) = state.hub.event(call.param(0)).await?;
    let mut view = event_view(&event)?;
    view["attempts"] = attempts.iter().map(attempt_view).collect();
    Ok(ok(&view))
}

/// `POST /api/events/{eid}/ack`: acknowledges an event of a flow without webhook.
pub async fn ack(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let event = state.hub.ack(call.param(0)).await?;
    Ok(ok(&event_view(&event)?))
}

/// A delivery attempt as the API shows it: `{attempt, at, status, error, durationMs}`.
fn attempt_view(a: &Attempt) -> Value {
    json!({
        "attempt": a.attempt,
        "at": a.at,
        "status": a.outcome.status(),
        "error": a.outcome.error(),
        "durationMs": a.duration_ms,
    })
}

/// An event as the API shows it.
pub fn event_view(e: &Event) -> Result<Value, ApiError> {
    let payload: Value = serde_json::from_str(&e.payload).map_err(ApiError::internal)?;
    Ok(json!({
        "id": e.id,
        "seq": e.seq,
        "triggerId": e.trigger_id,
        "mode": e.mode.as_str(),
        "test": e.mode == Mode::Test,
        "receivedAt": rfc3339(e.received_at),
        "payload": payload,
        "delivery": {
            "state": e.state.as_str(),
            "attempts": e.attempts,
            "nextAttemptAt": super::opt_time(e.next_attempt_at),
            "lastError": e.last_error,
            "doneAt": super::opt_time(e.done_at),
        },
    }))
}
