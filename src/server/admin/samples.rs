//! A trigger's sample: read (long-poll), set, capture; the preview, the sample's properties
//! and the test card.

use std::time::{Duration, Instant};

use hyper::StatusCode;
use serde_json::{Value, json};

use super::triggers::{mapping_spec, object, only, trigger_view};
use super::{Call, ok, query_u64};
use crate::hub::Decision;
use crate::hub::registry::mapping_of;
use crate::hub::samples::no_sample;
use crate::mapping::{Input, Mapped};
use crate::server::State;
use crate::server::error::{ApiError, ErrorKind};
use crate::server::http::{self, HttpResponse};
use crate::shape::Shape;

/// `GET /api/triggers/{id}/sample?wait=`: `{sample, capturing}`, waiting up to `wait`
/// seconds (at most `maxWaitSeconds`) for a capture.
pub async fn show(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let wait = query_u64(&call.query, "wait")?.unwrap_or(0).min(state.config.max_wait_seconds);
    let prepared = state.hub.wait_sample(call.param(0), Duration::from_secs(wait)).await?;
    let t = &prepared.trigger;
    Ok(ok(&json!({"sample": t.sample, "capturing": t.capturing})))
}

/// `PUT /api/triggers/{id}/sample`.
pub async fn set(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let id = call.param(0).to_owned();
    let prepared = state.hub.set_sample(&id, call.body).await?;
    Ok(ok(&trigger_view(state, &prepared.trigger)))
}

/// `POST /api/triggers/{id}/sample/capture`: 202 with the URL the next request goes to.
pub async fn capture(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let prepared = state.hub.arm_capture(call.param(0)).await?;
    let url = state.hub.trigger_url(&prepared.trigger);
    Ok(http::json_response(StatusCode::ACCEPTED, &json!({"capturing": true, "url": url})))
}

/// `GET /api/triggers/{id}/properties`: the sample's mappable properties.
pub fn properties(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let prepared = state.hub.trigger(call.param(0))?;
    let sample = prepared.trigger.sample.as_ref().ok_or_else(no_sample)?;
    let properties = crate::sample::properties(sample).map_err(|e| ApiError::validation("sample", e.to_string()))?;
    Ok(ok(&json!({ "properties": properties })))
}

/// `POST /api/triggers/{id}/test`: the sample through the saved mapping as a test event.
pub async fn test(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let decision = state.hub.test_card(call.param(0)).await?;
    accepted(decision)
}

/// The 202 of a test card or a replay: `{eventId, mode}`, a skip, or a duplicate.
pub(super) fn accepted(decision: Decision) -> Result<HttpResponse, ApiError> {
    let answer = match decision {
        Decision::Accepted { event_id, mode } => json!({"eventId": event_id, "mode": mode.as_str()}),
        Decision::Skipped(skip) => skip.to_json(),
        Decision::Duplicate(first) => json!({"eventId": first, "duplicate": true}),
        Decision::Held(hold) => return Err(ApiError::internal(format!("a replay was held again as {}", hold.id))),
    };
    Ok(http::json_response(StatusCode::ACCEPTED, &answer))
}

/// `POST /api/triggers/{id}/preview`: maps the sample (or `body`) with the saved mapping (or
/// `mapping`): output, skip, every error, properties, the paths read, shape mismatches, console.
pub fn preview(state: &State, call: Call) -> Result<HttpResponse, ApiError> {
    let prepared = state.hub.trigger(call.param(0))?;
    let mut map = object(call.body, "")?;
    only(&map, &["body", "mapping"], "")?;
    let input = match map.remove("body") {
        Some(body) => body,
        None => prepared.trigger.sample.clone().ok_or_else(no_sample)?,
    };
    let properties = crate::sample::properties(&input).map_err(|e| ApiError::validation("body", e.to_string()))?;
    let program = match map.remove("mapping") {
        Some(spec) => {
            let spec = mapping_spec(spec)?;
            let mapping = mapping_of(&spec)?;
            match state.hub.cache.get_or_compile(&mapping) {
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
    state.hub.metrics.mapping_latency(started.elapsed());
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
