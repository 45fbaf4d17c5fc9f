//! Held requests: reading them back as a script saw them, and replaying one with the
//! trigger's current mapping.

use serde_json::Value;

use super::body::{body_kind, parse_body};
use super::ingest::{Append, Decision, dedup_key};
use super::{Hub, HubError};
use crate::mapping::{Input, Mapped, RequestInfo};
use crate::store::{Admission, Held, HeldReason, StoreError};
use crate::trigger::{Mode, Status};

/// The request a held request came with, as a script sees it (a bare `POST` for a request
/// held before requests were kept).
pub fn request_of(held: &Held) -> Result<RequestInfo, HubError> {
    match &held.request {
        None => Ok(RequestInfo::bare(held.received_at)),
        Some(json) => RequestInfo::from_json(json, &crate::clock::rfc3339(held.received_at))
            .map_err(|e| HubError::Store(StoreError::Corrupt(format!("held request {}: {e}", held.id)))),
    }
}

/// A held request's body for people to read: parsed when it is JSON or a form, else its text.
pub fn body_of(held: &Held) -> Value {
    body_kind(held.content_type.as_deref())
        .ok()
        .and_then(|kind| parse_body(kind, &held.body, None, true).ok())
        .unwrap_or_else(|| Value::String(String::from_utf8_lossy(&held.body).into_owned()))
}

impl Hub {
    /// One held request.
    pub async fn held(&self, id: &str) -> Result<Held, HubError> {
        self.store.held(id).await.map_err(|e| HubError::store_about(e, "held request", id))
    }

    /// A trigger's held requests, oldest first.
    pub async fn held_of(&self, trigger_id: &str, limit: u32) -> Result<Vec<Held>, HubError> {
        self.trigger(trigger_id)?;
        Ok(self.store.held_of(trigger_id, limit).await?)
    }

    /// Deletes a held request.
    pub async fn release(&self, id: &str) -> Result<(), HubError> {
        self.store.release(id).await.map_err(|e| HubError::store_about(e, "held request", id))
    }

    /// Runs a held request again with the current mapping (no second shape or signature
    /// check: the owner asked for it) in the trigger's mode (a paused trigger's
    /// `pausedFrom`). Accepted or skipped: the held request is removed (with the event, in one
    /// transaction); the mapping fails: it stays held with the new problems, and the error
    /// lists them.
    pub async fn replay(&self, id: &str) -> Result<Decision, HubError> {
        let held = self.held(id).await?;
        let prepared = self.trigger(&held.trigger_id)?;
        let mode = match prepared.trigger.status {
            Status::Test => Mode::Test,
            Status::Live => Mode::Live,
            Status::Paused { resume } => resume,
            Status::Disabled => return Err(HubError::Conflict("the trigger is disabled; enable it first".into())),
        };
        let kind = body_kind(held.content_type.as_deref())?;
        let full = prepared.dedup.as_ref().is_some_and(crate::dedup::Dedup::reads_body);
        let body = parse_body(kind, &held.body, prepared.program.as_deref(), full)?;
        let request = request_of(&held)?;
        let key = dedup_key(&prepared, &body, &request, crate::clock::now_ms());
        match self.map(&prepared, &Input { body, request }) {
            Ok(Mapped::Event(payload)) => {
                let append = Append { mode, payload, received_at: held.received_at, key, replayed: Some(held.id) };
                self.append(&prepared, append, Admission::Wait).await
            }
            Ok(Mapped::Skipped(skip)) => {
                self.store.release(&held.id).await?;
                Ok(self.skipped(&prepared.trigger.id, skip))
            }
            Err(problems) => {
                self.store.rehold(&held.id, HeldReason::Mapping, problems.clone()).await?;
                Err(HubError::MappingFailed(problems))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn held(request: Option<Value>) -> Held {
        Held {
            id: "hld_1".into(),
            trigger_id: "trg_1".into(),
            received_at: 1_700_000_000_000,
            reason: HeldReason::Mapping,
            errors: Vec::new(),
            content_type: Some("application/json".into()),
            body: b"{}".to_vec(),
            request,
        }
    }

    #[test]
    fn a_request_held_without_its_request_replays_as_a_bare_post() {
        assert_eq!(request_of(&held(None)).ok(), Some(RequestInfo::bare(1_700_000_000_000)));
    }

    #[test]
    fn a_kept_request_reads_back_and_a_corrupt_one_is_an_error() {
        let kept = json!({"method": "PUT", "headers": {"x-a": "1"}, "query": {"q": "v"}});
        let request = request_of(&held(Some(kept))).ok();
        assert_eq!(request.as_ref().map(|r| r.method.as_str()), Some("PUT"));
        assert_eq!(request.map(|r| r.headers), Some(vec![("x-a".to_owned(), "1".to_owned())]));
        assert!(matches!(
            request_of(&held(Some(json!("not an object")))),
            Err(HubError::Store(StoreError::Corrupt(_)))
        ));
    }
}
