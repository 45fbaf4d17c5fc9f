//! A trigger's lifecycle: the status actions, a new URL token, the change log.

use serde_json::{Value, json};

use super::triggers::{set, trigger_view};
use super::{Call, ok};
use crate::clock::rfc3339;
use crate::server::State;
use crate::server::error::ApiError;
use crate::server::http::HttpResponse;
use crate::store::Alongside;
use crate::trigger::{Action, Trigger};

/// `POST /api/triggers/{id}/{activate|test-mode|reactivate|disable|enable}` (`pattern` names
/// the action): 409 when the status does not allow it.
pub async fn act(state: &State, pattern: &str, call: Call) -> Result<HttpResponse, ApiError> {
    let name = pattern.rsplit('/').next().unwrap_or_default();
    let action = Action::from_api(name).ok_or_else(|| ApiError::internal(format!("unrouted action {name}")))?;
    let edit = move |t: &mut Trigger| {
        t.status = t.status.apply(action)?;
        Ok(())
    };
    let prepared = state.hub.mutate(call.param(0), action.name(), edit, Alongside::Nothing).await?;
    Ok(ok(&trigger_view(state, &prepared.trigger)))
}

/// `POST /api/triggers/{id}/rotate-token`: a new URL token (the old one stops working).
pub async fn rotate_token(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let token = crate::ids::url_token()?;
    let edit = move |t: &mut Trigger| set(&mut t.token, token);
    let prepared = state.hub.mutate(call.param(0), "token rotated", edit, Alongside::Nothing).await?;
    Ok(ok(&trigger_view(state, &prepared.trigger)))
}

/// `GET /api/triggers/{id}/history`: the change log, oldest first.
pub async fn history(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let changes = state.hub.history(call.param(0)).await?;
    let changes: Vec<Value> =
        changes.into_iter().map(|c| json!({"version": c.version, "at": rfc3339(c.at), "change": c.change})).collect();
    Ok(ok(&json!({ "changes": changes })))
}
