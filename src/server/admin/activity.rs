//! A trigger's recent activity: requests that made no event (skipped, duplicates).

use super::{Call, ok};
use crate::server::State;
use crate::server::error::ApiError;
use crate::server::http::HttpResponse;

/// `GET /api/triggers/{id}/activity`.
pub fn show(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    state.hub.trigger(call.param(0))?;
    Ok(ok(&state.hub.activity.view(call.param(0))))
}
