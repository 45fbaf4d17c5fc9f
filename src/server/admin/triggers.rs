//! Triggers: list, create, show, change (`PATCH`, mapping, security), delete; the request
//! bodies that configure them and the view the API shows.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::{Call, ok};
use crate::clock::rfc3339;
use crate::flow::client::parse_http_url;
use crate::hub::HubError;
use crate::hub::registry::mapping_of;
use crate::server::State;
use crate::server::error::ApiError;
use crate::server::http::{self, HttpResponse};
use crate::store::Alongside;
use crate::trigger::{
    DedupSpec, Flow, FlowTarget, Isolation, Limits, MappingKind, MappingSpec, RateLimit, SecuritySpec, ShapeCheck,
    Status, Trigger,
};
use hyper::StatusCode;

/// `GET /api/triggers`: every trigger, oldest first.
pub fn list(state: &State) -> Result<HttpResponse, ApiError> {
    let triggers: Vec<Value> = state.hub.registry.all().iter().map(|p| trigger_view(state, &p.trigger)).collect();
    Ok(ok(&json!({ "triggers": triggers })))
}

/// `GET /api/triggers/{id}`.
pub fn show(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    Ok(ok(&trigger_view(state, &state.hub.trigger(call.param(0))?.trigger)))
}

/// `DELETE /api/triggers/{id}`: a disabled trigger, with its events and held requests (204).
pub async fn delete(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    state.hub.delete(call.param(0)).await?;
    Ok(super::no_content())
}

/// `PUT /api/triggers/{id}/mapping`: compiled now (422 naming the field).
pub async fn set_mapping(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let id = call.param(0).to_owned();
    let spec = mapping_spec(call.body)?;
    let edit = move |t: &mut Trigger| set(&mut t.mapping, Some(spec));
    let prepared = state.hub.mutate(&id, "mapping changed", edit, Alongside::Nothing).await?;
    Ok(ok(&trigger_view(state, &prepared.trigger)))
}

/// `PUT /api/triggers/{id}/security`: secrets are write-only, so a body without `secrets`
/// keeps the stored ones.
pub async fn set_security(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let id = call.param(0).to_owned();
    let keep_secrets = call.body.get("secrets").is_none();
    let mut spec = security_spec(call.body)?;
    let edit = move |t: &mut Trigger| {
        if keep_secrets {
            spec.secrets = std::mem::take(&mut t.security.secrets);
        }
        set(&mut t.security, spec)
    };
    let prepared = state.hub.mutate(&id, "security changed", edit, Alongside::Nothing).await?;
    Ok(ok(&trigger_view(state, &prepared.trigger)))
}

/// Sets `slot` (an edit that cannot fail).
pub(super) fn set<T>(slot: &mut T, value: T) -> Result<(), HubError> {
    *slot = value;
    Ok(())
}

/// `POST /api/triggers`: a new trigger in `test` (201).
pub async fn create(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let mut map = object(call.body, "")?;
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
    let prepared = state.hub.create(trigger).await?;
    Ok(http::json_response(StatusCode::CREATED, &trigger_view(state, &prepared.trigger)))
}

/// `PATCH /api/triggers/{id}`: name, flow, shape check, rate limit, dedup.
pub async fn patch(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let id = call.param(0).to_owned();
    let mut map = object(call.body, "")?;
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
    let prepared = state
        .hub
        .mutate(
            &id,
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
            if to_outbox { Alongside::StorePending } else { Alongside::Nothing },
        )
        .await?;
    Ok(ok(&trigger_view(state, &prepared.trigger)))
}

pub(super) fn object(body: Value, what: &str) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::validation(what, "expected a JSON object")),
    }
}

pub(super) fn only(map: &Map<String, Value>, allowed: &[&str], prefix: &str) -> Result<(), ApiError> {
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

pub(super) fn mapping_spec(body: Value) -> Result<MappingSpec, ApiError> {
    let mut map = object(body, "mapping")?;
    only(&map, &["kind", "source", "limits", "isolation"], "mapping.")?;
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
    let isolation: Isolation = match map.remove("isolation") {
        Some(value) => field(value, "mapping.isolation")?,
        None => Isolation::default(),
    };
    let spec = MappingSpec { kind, source, limits, isolation };
    mapping_of(&spec)?;
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
        parse_http_url(url).map_err(|e| ApiError::validation("flow.target.url", e))?;
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

/// A trigger as the API shows it (secrets are counted, never shown).
pub fn trigger_view(state: &State, t: &Trigger) -> Value {
    let doc = t.status_doc();
    json!({
        "id": t.id,
        "name": t.name,
        "status": doc.status,
        "pausedFrom": doc.paused_from,
        "url": state.hub.trigger_url(t),
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
