//! Ingest's decision, as a function of a request and its trigger.
//!
//! [`Hub::admit`] runs before the body is read: token (unknown or disabled → refused),
//! capture armed, allow-list, rate limit. [`Hub::ingest`] runs on the read body: signature →
//! parse → a dedup key seen before (duplicate) → paused (held) → shape check (paused and
//! held, unless the mapping skips the body) → mapping and validation (held when it fails; a
//! skip makes no event) → durable append with the dedup key (accepted, or a duplicate
//! committed meanwhile). The front end reads the body and answers.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde_json::Value;

use super::body::{BodyKind, parse_body};
use super::registry::Prepared;
use super::{Hub, HubError};
use crate::mapping::{Input, MapError, Mapped, RequestInfo, Skip};
use crate::problem::Problem;
use crate::security::SignedRequest;
use crate::store::{Admission, Alongside, Appended, DedupKey, DeliveryState, Held, HeldReason, NewAppend, NewEvent};
use crate::trigger::{Action, FlowTarget, Mode, ShapeCheck, Status};

/// What to do with a request whose trigger admitted it.
pub enum Admitted {
    /// The trigger is capturing: the body becomes its sample ([`Hub::capture`]).
    Capture(Arc<Prepared>),
    /// Map the body ([`Hub::ingest`]).
    Map(Arc<Prepared>),
}

/// A request whose body has been read.
pub struct Received<'a> {
    /// How the body is encoded.
    pub kind: BodyKind,
    /// The raw body.
    pub body: &'a [u8],
    /// The `Content-Type`, kept with a held request.
    pub content_type: Option<String>,
    /// The headers, as the signature scheme reads them.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The URL the sender called (schemes that sign `[url]`).
    pub url: String,
    /// The request as a script sees it.
    pub info: RequestInfo,
    /// When it arrived (Unix ms).
    pub received_at: i64,
}

/// What became of a request that was not refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Its event was committed.
    Accepted {
        /// The new event's id.
        event_id: String,
        /// Test or live.
        mode: Mode,
    },
    /// The mapping skipped it on purpose: no event.
    Skipped(Skip),
    /// An earlier event had its dedup key: that event's id, no new event.
    Duplicate(String),
    /// It was held (the trigger is paused, the body is not shaped like the sample, or the
    /// mapping failed).
    Held(Hold),
}

/// A request kept because it made no event.
#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    /// The held request's id.
    pub id: String,
    /// Why.
    pub reason: HeldReason,
    /// Every problem found.
    pub problems: Vec<Problem>,
}

/// An event to append.
pub(crate) struct Append {
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

/// A refused request as it will be held.
pub(crate) struct HeldRequest {
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub received_at: i64,
    pub info: RequestInfo,
}

/// The problem a mapping error makes: its field (`script` for a script's error) and position.
pub fn problem_of(error: &MapError) -> Problem {
    let position = error.position();
    Problem {
        path: error.field().to_owned(),
        message: error.to_string(),
        line: position.map(|p| p.0),
        column: position.map(|p| p.1),
    }
}

impl Hub {
    /// The trigger at URL `token`, if it takes a request from `peer` (with `headers`, for a
    /// forwarded address) now: refused when there is none or it is disabled, the client is
    /// outside its allow-list, or its rate limit is exceeded.
    pub fn admit(&self, token: &str, peer: IpAddr, headers: &[(&str, &[u8])]) -> Result<Admitted, HubError> {
        let prepared = self.registry.by_token(token).ok_or(HubError::NoTrigger)?;
        if prepared.trigger.status == Status::Disabled {
            return Err(HubError::NoTrigger);
        }
        if prepared.trigger.capturing {
            return Ok(Admitted::Capture(prepared));
        }
        if let Err(denied) = prepared.allow.check(peer, headers) {
            tracing::info!(trigger = %prepared.trigger.id, %peer, reason = %denied, "refused by the allow-list");
            return Err(HubError::Forbidden);
        }
        if !prepared.admit() {
            return Err(HubError::RateLimited);
        }
        Ok(Admitted::Map(prepared))
    }

    /// Decides what becomes of a received request on its admitted trigger, and commits it.
    pub async fn ingest(&self, prepared: &Prepared, received: Received<'_>) -> Result<Decision, HubError> {
        let trigger_id = prepared.trigger.id.as_str();
        if let Some((scheme, keys)) = &prepared.signature {
            let signed = SignedRequest::new(received.body, received.headers).with_url(&received.url);
            if let Err(reason) = scheme.verify(&signed, keys, SystemTime::now()) {
                tracing::info!(trigger = trigger_id, reason = %reason, "refused: signature");
                return Err(HubError::BadSignature);
            }
        }
        let full = prepared.trigger.shape_check == ShapeCheck::Sample
            || prepared.dedup.as_ref().is_some_and(crate::dedup::Dedup::reads_body);
        let parsed = parse_body(received.kind, received.body, prepared.program.as_deref(), full)?;
        let Received { body, content_type, info, received_at, .. } = received;
        let dedup_key = dedup_key(prepared, &parsed, &info, received_at);
        if let Some(key) = &dedup_key
            && let Some(first) = self.store.first_event(trigger_id, &key.key, received_at).await?
        {
            return Ok(self.duplicate(trigger_id, first));
        }
        // What a refusal from here on holds; built only then, so an accepted request copies nothing.
        let held_request = |info| HeldRequest { content_type, body: body.to_vec(), received_at, info };
        let mode = match prepared.trigger.status {
            Status::Test => Mode::Test,
            Status::Live => Mode::Live,
            Status::Paused { .. } => {
                let problems = vec![Problem::new("$", "the trigger was paused")];
                return self.hold(trigger_id, HeldReason::Paused, problems, held_request(info)).await;
            }
            Status::Disabled => return Err(HubError::NoTrigger),
        };
        let input = Input { body: parsed, request: info };
        if let Some(shape) = &prepared.shape
            && let Err(problems) = shape.check(&input.body)
        {
            // A body the mapping skips on purpose is not a change of shape.
            if let Ok(Mapped::Skipped(skip)) = self.map(prepared, &input) {
                return Ok(self.skipped(trigger_id, skip));
            }
            return self.pause_and_hold(prepared, problems, held_request(input.request)).await;
        }
        match self.map(prepared, &input) {
            Ok(Mapped::Event(payload)) => {
                let append = Append { mode, payload, received_at, key: dedup_key, replayed: None };
                self.append(prepared, append, Admission::RefuseWhenFull).await
            }
            Ok(Mapped::Skipped(skip)) => Ok(self.skipped(trigger_id, skip)),
            Err(problems) => self.hold(trigger_id, HeldReason::Mapping, problems, held_request(input.request)).await,
        }
    }

    /// Runs the trigger's mapping: the validated payload or a skip, or every problem with its path.
    pub fn map(&self, prepared: &Prepared, input: &Input) -> Result<Mapped, Vec<Problem>> {
        let Some(program) = &prepared.program else {
            return Err(vec![Problem::new("mapping", "the trigger has no mapping")]);
        };
        let started = Instant::now();
        let result = program.run(input);
        self.metrics.mapping_latency(started.elapsed());
        result.map_err(|errors| errors.0.iter().map(problem_of).collect())
    }

    /// Records a request whose key an earlier event had: the decision naming that event.
    pub(crate) fn duplicate(&self, trigger_id: &str, first: String) -> Decision {
        self.activity.duplicate(trigger_id, crate::clock::now_ms(), &first);
        tracing::info!(trigger = trigger_id, event = %first, "duplicate of an earlier event");
        Decision::Duplicate(first)
    }

    /// Records a request the mapping skipped.
    pub(crate) fn skipped(&self, trigger_id: &str, skip: Skip) -> Decision {
        self.activity.skipped(trigger_id, crate::clock::now_ms(), skip.reason.clone());
        Decision::Skipped(skip)
    }

    /// Appends an event (durably) with its dedup key, in one transaction, and wakes the
    /// dispatcher when it is to be delivered.
    pub(crate) async fn append(
        &self,
        prepared: &Prepared,
        append: Append,
        admission: Admission,
    ) -> Result<Decision, HubError> {
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
        let append = NewAppend { event, key, now: crate::clock::now_ms(), replayed };
        match self.store.append(append, admission).await? {
            Appended::New => {
                if delivery == DeliveryState::Pending {
                    self.deliveries.notify_one();
                }
                Ok(Decision::Accepted { event_id: id, mode })
            }
            Appended::Duplicate(first) => Ok(self.duplicate(&prepared.trigger.id, first)),
        }
    }

    /// Keeps a refused request with its reason.
    async fn hold(
        &self,
        trigger_id: &str,
        reason: HeldReason,
        problems: Vec<Problem>,
        request: HeldRequest,
    ) -> Result<Decision, HubError> {
        let held = held_record(trigger_id, reason, problems.clone(), request)?;
        let id = held.id.clone();
        self.store.hold(held, Admission::RefuseWhenFull).await?;
        tracing::info!(trigger = trigger_id, held = %id, reason = reason.as_str(), "request held");
        Ok(Decision::Held(Hold { id, reason, problems }))
    }

    /// Pauses the trigger and holds the request, in one transaction. If another request
    /// paused it first, the request is only held.
    async fn pause_and_hold(
        &self,
        prepared: &Prepared,
        problems: Vec<Problem>,
        request: HeldRequest,
    ) -> Result<Decision, HubError> {
        let trigger_id = prepared.trigger.id.as_str();
        let held = held_record(trigger_id, HeldReason::Shape, problems.clone(), request)?;
        let id = held.id.clone();
        let fallback = held.clone();
        let pause = |t: &mut crate::trigger::Trigger| {
            t.status = t.status.apply(Action::Pause)?;
            Ok(())
        };
        let paused = self
            .mutate(trigger_id, "paused: a body was not shaped like the sample", pause, Alongside::Hold(Box::new(held)))
            .await;
        match paused {
            Ok(_) => {
                tracing::warn!(trigger = trigger_id, held = %id, "trigger paused: body not shaped like the sample")
            }
            // Already paused (or disabled) meanwhile: keep the request all the same.
            Err(HubError::Conflict(_)) => self.store.hold(fallback, Admission::RefuseWhenFull).await?,
            Err(e) => return Err(e),
        }
        Ok(Decision::Held(Hold { id, reason: HeldReason::Shape, problems }))
    }

    /// Stores a capture-armed trigger's request body as its sample (no signature, no event).
    pub async fn capture(&self, prepared: &Prepared, kind: BodyKind, body: &[u8]) -> Result<(), HubError> {
        let sample = parse_body(kind, body, None, true)?;
        crate::sample::properties(&sample).map_err(|e| HubError::Malformed(e.to_string()))?;
        let edit = move |t: &mut crate::trigger::Trigger| {
            if !t.capturing {
                return Err(HubError::Conflict("the capture was already done".into()));
            }
            t.capturing = false;
            t.sample = Some(sample);
            Ok(())
        };
        self.mutate(&prepared.trigger.id, "sample captured", edit, Alongside::Nothing).await?;
        self.samples.notify_waiters();
        Ok(())
    }
}

/// The request's dedup key on `prepared`'s trigger, remembered from `now` for the window.
pub(crate) fn dedup_key(prepared: &Prepared, body: &Value, info: &RequestInfo, now: i64) -> Option<DedupKey> {
    let dedup = prepared.dedup.as_ref()?;
    let key = dedup.key(body, info)?;
    Some(DedupKey { key, expires_at: now.saturating_add(dedup.window_ms()) })
}

fn held_record(
    trigger_id: &str,
    reason: HeldReason,
    errors: Vec<Problem>,
    request: HeldRequest,
) -> Result<Held, HubError> {
    let mut stored = request.info.to_json();
    if let Value::Object(map) = &mut stored {
        map.remove("receivedAt");
    }
    Ok(Held {
        id: crate::ids::record_id("hld")?,
        trigger_id: trigger_id.to_owned(),
        received_at: request.received_at,
        reason,
        errors,
        content_type: request.content_type,
        body: request.body,
        request: Some(stored),
    })
}
