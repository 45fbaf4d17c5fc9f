//! Held requests: a trigger's, one, delete, replay.

use serde_json::{Value, json};

use super::{Call, ok, query_u64};
use crate::clock::rfc3339;
use crate::hub::held::{body_of, request_of};
use crate::server::State;
use crate::server::error::ApiError;
use crate::server::http::HttpResponse;
use crate::store::Held;

/// `GET /api/triggers/{id}/held?limit=`: oldest first.
pub async fn list(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let limit = query_u64(&call.query, "limit")?.unwrap_or(100).min(1000) as u32;
    let held = state.hub.held_of(call.param(0), limit).await?;
    let views = held.iter().map(held_view).collect::<Result<Vec<_>, _>>()?;
    Ok(ok(&json!({ "held": views })))
}

/// `GET /api/held/{hid}`.
pub async fn show(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    Ok(ok(&held_view(&state.hub.held(call.param(0)).await?)?))
}

/// `DELETE /api/held/{hid}` (204).
pub async fn delete(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    state.hub.release(call.param(0)).await?;
    Ok(super::no_content())
}

/// `POST /api/held/{hid}/replay`: 202 as ingest answers, or 422 with every problem (it stays held).
pub async fn replay(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let decision = state.hub.replay(call.param(0)).await?;
    super::samples::accepted(decision)
}

/// A held request as the API shows it (the body parsed when it is JSON or a form).
pub fn held_view(h: &Held) -> Result<Value, ApiError> {
    Ok(json!({
        "id": h.id,
        "triggerId": h.trigger_id,
        "receivedAt": rfc3339(h.received_at),
        "reason": h.reason.as_str(),
        "errors": h.errors,
        "contentType": h.content_type,
        "request": request_of(h)?.to_json(),
        "body": body_of(h),
    }))
}
