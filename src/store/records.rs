//! The stored records and the SQL that reads and writes them. Each function takes a
//! connection: writes run inside the writer's group transaction, reads on the reader.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;
use crate::request::RequestInfo;
use crate::trigger::{Mode, Trigger, TriggerDoc};

/// Where an event is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for (another) delivery attempt to the flow's webhook.
    Pending,
    /// The flow's webhook answered 2xx.
    Delivered,
    /// Every attempt failed; no more will be made.
    Dead,
    /// The flow has no webhook: the event waits in the outbox to be read and acknowledged.
    Stored,
    /// Read from the outbox and acknowledged.
    Acked,
}

impl DeliveryState {
    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
            DeliveryState::Stored => "stored",
            DeliveryState::Acked => "acked",
        }
    }

    /// Parses a state's name.
    pub fn parse(text: &str) -> Option<DeliveryState> {
        Some(match text {
            "pending" => DeliveryState::Pending,
            "delivered" => DeliveryState::Delivered,
            "dead" => DeliveryState::Dead,
            "stored" => DeliveryState::Stored,
            "acked" => DeliveryState::Acked,
            _ => return None,
        })
    }
}

/// An event to append to the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Its id (`evt_…`).
    pub id: String,
    /// The trigger that made it.
    pub trigger_id: String,
    /// Test or live.
    pub mode: Mode,
    /// When the request arrived (Unix ms).
    pub received_at: i64,
    /// The mapped payload as JSON text (serialised by the caller, off the writer thread).
    pub payload: String,
    /// `Pending` for a webhook flow, `Stored` otherwise.
    pub state: DeliveryState,
}

/// An event in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the outbox (increasing).
    pub seq: i64,
    /// Its id.
    pub id: String,
    /// The trigger that made it.
    pub trigger_id: String,
    /// Test or live.
    pub mode: Mode,
    /// When the request arrived (Unix ms).
    pub received_at: i64,
    /// The mapped payload.
    pub payload: Value,
    /// Delivery state.
    pub state: DeliveryState,
    /// Delivery attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending events).
    pub next_attempt_at: Option<i64>,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When it was delivered, declared dead or acknowledged.
    pub done_at: Option<i64>,
}

/// One delivery attempt of an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// When it started (Unix ms).
    pub at: i64,
    /// The HTTP status received, if any.
    pub status: Option<u16>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
}

/// A problem found in a held request: where and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The JSONPath or result path concerned; `script` for a script mapping's own error.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// For a script's error: the 1-based line in the script, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// For a script's error: the 1-based column in the script, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl Problem {
    /// A problem at `path`, with no script position.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem { path: path.into(), message: message.into(), line: None, column: None }
    }

    /// The problem a mapping error makes: its field (`script` for a script's error) and position.
    pub fn of_map_error(error: &crate::mapping::MapError) -> Problem {
        let position = error.position();
        Problem {
            path: error.field().to_owned(),
            message: error.to_string(),
            line: position.map(|p| p.0),
            column: position.map(|p| p.1),
        }
    }
}

/// Why a request is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeldReason {
    /// The body was not shaped like the sample (the trigger was paused).
    Shape,
    /// The trigger was paused when the request arrived.
    Paused,
    /// The mapping failed, or its output broke the target schema.
    Mapping,
}

impl HeldReason {
    /// The reason's name.
    pub fn as_str(self) -> &'static str {
        match self {
            HeldReason::Shape => "shape",
            HeldReason::Paused => "paused",
            HeldReason::Mapping => "mapping",
        }
    }

    fn parse(text: &str) -> Option<HeldReason> {
        Some(match text {
            "shape" => HeldReason::Shape,
            "paused" => HeldReason::Paused,
            "mapping" => HeldReason::Mapping,
            _ => return None,
        })
    }
}

/// A request kept with the reason it was not turned into an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    /// Its id (`hld_…`).
    pub id: String,
    /// The trigger it was sent to.
    pub trigger_id: String,
    /// When it arrived (Unix ms).
    pub received_at: i64,
    /// Why it is held.
    pub reason: HeldReason,
    /// The problems found.
    pub errors: Vec<Problem>,
    /// The request's content type.
    pub content_type: Option<String>,
    /// The raw body.
    pub body: Vec<u8>,
    /// Method, headers and query as they came (a bare `POST` for requests held before they
    /// were kept); a replay gives a script this `request`.
    pub request: RequestInfo,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn json_text<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt)
}

// ---- triggers ----

/// Inserts a new trigger and records its creation.
pub fn insert_trigger(conn: &Connection, trigger: &Trigger) -> Result<(), StoreError> {
    let doc = json_text(&TriggerDoc::from(trigger))?;
    conn.prepare_cached("INSERT INTO triggers (id, token, doc, version) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
        trigger.id,
        trigger.token,
        doc,
        trigger.version as i64
    ])?;
    record_change(conn, trigger, "created")
}

/// Replaces a trigger with its new version and records `change`.
pub fn update_trigger(conn: &Connection, trigger: &Trigger, change: &str) -> Result<(), StoreError> {
    let doc = json_text(&TriggerDoc::from(trigger))?;
    let updated = conn
        .prepare_cached("UPDATE triggers SET token = ?2, doc = ?3, version = ?4 WHERE id = ?1")?
        .execute(params![trigger.id, trigger.token, doc, trigger.version as i64])?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    record_change(conn, trigger, change)
}

fn record_change(conn: &Connection, trigger: &Trigger, change: &str) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO trigger_changes (trigger_id, version, at, change) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![trigger.id, trigger.version as i64, trigger.updated_at, change])?;
    Ok(())
}

/// Deletes a trigger with its change log, events and held requests.
pub fn delete_trigger(conn: &Connection, id: &str) -> Result<(), StoreError> {
    if conn.execute("DELETE FROM triggers WHERE id = ?1", [id])? == 0 {
        return Err(StoreError::NotFound);
    }
    conn.execute("DELETE FROM trigger_changes WHERE trigger_id = ?1", [id])?;
    conn.execute(
        "DELETE FROM delivery_attempts WHERE event_id IN (SELECT id FROM events WHERE trigger_id = ?1)",
        [id],
    )?;
    conn.execute("DELETE FROM events WHERE trigger_id = ?1", [id])?;
    conn.execute("DELETE FROM held WHERE trigger_id = ?1", [id])?;
    conn.execute("DELETE FROM dedup_keys WHERE trigger_id = ?1", [id])?;
    Ok(())
}

/// Every stored trigger.
pub fn load_triggers(conn: &Connection) -> Result<Vec<Trigger>, StoreError> {
    let mut stmt = conn.prepare("SELECT doc FROM triggers ORDER BY rowid")?;
    let docs = stmt.query_map([], |row| row.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    docs.iter()
        .map(|doc| {
            let doc: TriggerDoc = serde_json::from_str(doc).map_err(corrupt)?;
            Trigger::try_from(doc).map_err(corrupt)
        })
        .collect()
}

/// A trigger's change log: (version, time, change), oldest first.
pub fn trigger_changes(conn: &Connection, id: &str) -> Result<Vec<(u64, i64, String)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT version, at, change FROM trigger_changes WHERE trigger_id = ?1 ORDER BY version")?;
    let rows = stmt.query_map([id], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

// ---- events ----

/// Appends an event to the outbox.
pub fn append_event(conn: &Connection, event: &NewEvent) -> Result<i64, StoreError> {
    let next = (event.state == DeliveryState::Pending).then_some(event.received_at);
    conn.prepare_cached(
        "INSERT INTO events (id, trigger_id, mode, received_at, payload, state, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        event.id,
        event.trigger_id,
        event.mode.as_str(),
        event.received_at,
        event.payload,
        event.state.as_str(),
        next
    ])?;
    Ok(conn.last_insert_rowid())
}

// ---- deduplication ----

/// A request's deduplication key, as it is remembered with its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupKey {
    /// The key's stored form (see [`crate::dedup::Dedup::key`]).
    pub key: String,
    /// When it is forgotten (Unix milliseconds).
    pub expires_at: i64,
}

/// What appending an event with a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// The event was appended (and its key, if any, remembered).
    New,
    /// The key was already remembered for this event: nothing was appended.
    Duplicate(String),
}

/// The event that had `key` on `trigger_id` and is still remembered at `now`.
pub fn first_event(conn: &Connection, trigger_id: &str, key: &str, now: i64) -> Result<Option<String>, StoreError> {
    let found = conn
        .prepare_cached("SELECT event_id FROM dedup_keys WHERE trigger_id = ?1 AND key = ?2 AND expires_at > ?3")?
        .query_row(params![trigger_id, key, now], |row| row.get(0))
        .optional()?;
    Ok(found)
}

/// Appends `event` unless `key` is remembered for an earlier event of its trigger at `now`;
/// remembers the key with the event in the same transaction, and forgets keys that expired.
/// Without a key it is [`append_event`].
pub fn append_event_once(
    conn: &Connection,
    event: &NewEvent,
    key: Option<&DedupKey>,
    now: i64,
) -> Result<Appended, StoreError> {
    let Some(key) = key else {
        append_event(conn, event)?;
        return Ok(Appended::New);
    };
    if let Some(first) = first_event(conn, &event.trigger_id, &key.key, now)? {
        return Ok(Appended::Duplicate(first));
    }
    conn.prepare_cached("DELETE FROM dedup_keys WHERE expires_at <= ?1")?.execute([now])?;
    conn.prepare_cached("INSERT INTO dedup_keys (trigger_id, key, event_id, expires_at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![event.trigger_id, key.key, event.id, key.expires_at])?;
    append_event(conn, event)?;
    Ok(Appended::New)
}

/// Forgets the dedup key of `event_id`, if it has one (the `ingest` fuzz target puts its
/// server back as it was with it).
pub fn forget_dedup_key(conn: &Connection, event_id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM dedup_keys WHERE event_id = ?1")?.execute([event_id])?;
    Ok(())
}

/// How many keys are remembered (expired or not) for a trigger.
pub fn count_dedup_keys(conn: &Connection, trigger_id: &str) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM dedup_keys WHERE trigger_id = ?1", [trigger_id], |r| r.get(0))?;
    Ok(n as u64)
}

const EVENT_COLUMNS: &str =
    "seq, id, trigger_id, mode, received_at, payload, state, attempts, next_attempt_at, last_error, done_at";

fn event_row(row: &Row<'_>) -> rusqlite::Result<(Event, String, String, String)> {
    Ok((
        Event {
            seq: row.get(0)?,
            id: row.get(1)?,
            trigger_id: row.get(2)?,
            mode: Mode::Test,
            received_at: row.get(4)?,
            payload: Value::Null,
            state: DeliveryState::Stored,
            attempts: row.get::<_, i64>(7)? as u32,
            next_attempt_at: row.get(8)?,
            last_error: row.get(9)?,
            done_at: row.get(10)?,
        },
        row.get(3)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

fn finish_event((mut event, mode, payload, state): (Event, String, String, String)) -> Result<Event, StoreError> {
    event.mode = Mode::parse(&mode).ok_or_else(|| corrupt(format!("event mode {mode:?}")))?;
    event.payload = serde_json::from_str(&payload).map_err(corrupt)?;
    event.state = DeliveryState::parse(&state).ok_or_else(|| corrupt(format!("event state {state:?}")))?;
    Ok(event)
}

/// One event by id.
pub fn get_event(conn: &Connection, id: &str) -> Result<Event, StoreError> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1");
    let row = conn.prepare_cached(&sql)?.query_row([id], event_row)?;
    finish_event(row)
}

/// A trigger's events after `after_seq`, oldest first, optionally in one state.
pub fn list_events(
    conn: &Connection,
    trigger_id: &str,
    state: Option<DeliveryState>,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<Event>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE trigger_id = ?1 AND seq > ?2 AND (?3 IS NULL OR state = ?3)
         ORDER BY seq LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![trigger_id, after_seq, state.map(|s| s.as_str()), limit], event_row)?;
    rows.map(|row| finish_event(row?)).collect()
}

/// How many events a trigger has.
pub fn count_events(conn: &Connection, trigger_id: &str) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM events WHERE trigger_id = ?1", [trigger_id], |r| r.get(0))?;
    Ok(n as u64)
}

/// Events waiting for delivery or acknowledgement (the outbox depth).
pub fn outbox_depth(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 =
        conn.query_row("SELECT COUNT(*) FROM events WHERE state IN ('pending', 'stored')", [], |r| r.get(0))?;
    Ok(n as u64)
}

/// Pending events due at `now`, oldest first.
pub fn due_events(conn: &Connection, now: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE state = 'pending' AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, seq LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![now, limit], event_row)?;
    rows.map(|row| finish_event(row?)).collect()
}

/// When the next pending event is due, if any.
pub fn next_due(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn.query_row("SELECT MIN(next_attempt_at) FROM events WHERE state = 'pending'", [], |r| r.get(0))?)
}

/// Records a delivery attempt and the event's new state (`next_attempt_at` for a retry).
pub fn record_attempt(
    conn: &Connection,
    event_id: &str,
    attempt: &Attempt,
    state: DeliveryState,
    next_attempt_at: Option<i64>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO delivery_attempts (event_id, attempt, at, status, error, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        event_id,
        attempt.attempt,
        attempt.at,
        attempt.status,
        attempt.error,
        attempt.duration_ms as i64
    ])?;
    let done = matches!(state, DeliveryState::Delivered | DeliveryState::Dead).then_some(attempt.at);
    let updated = conn
        .prepare_cached(
            "UPDATE events SET attempts = ?2, state = ?3, next_attempt_at = ?4, last_error = ?5, done_at = ?6
             WHERE id = ?1 AND state = 'pending' AND attempts = ?2 - 1",
        )?
        .execute(params![event_id, attempt.attempt, state.as_str(), next_attempt_at, attempt.error, done])?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Moves a pending event to `stored` (its flow no longer has a webhook): it waits in the
/// outbox to be read and acknowledged instead.
pub fn store_pending(conn: &Connection, event_id: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE events SET state = 'stored', next_attempt_at = NULL WHERE id = ?1 AND state = 'pending'",
        [event_id],
    )?;
    Ok(())
}

/// Moves every pending event of a trigger to `stored` (see [`store_pending`]).
pub fn store_all_pending(conn: &Connection, trigger_id: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE events SET state = 'stored', next_attempt_at = NULL WHERE trigger_id = ?1 AND state = 'pending'",
        [trigger_id],
    )?;
    Ok(())
}

/// An event's delivery attempts, oldest first.
pub fn attempts(conn: &Connection, event_id: &str) -> Result<Vec<Attempt>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT attempt, at, status, error, duration_ms FROM delivery_attempts WHERE event_id = ?1 ORDER BY attempt",
    )?;
    let rows = stmt.query_map([event_id], |r| {
        Ok(Attempt {
            attempt: r.get::<_, i64>(0)? as u32,
            at: r.get(1)?,
            status: r.get(2)?,
            error: r.get(3)?,
            duration_ms: r.get::<_, i64>(4)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Acknowledges a stored event (or an already acknowledged one, idempotently).
/// `Ok(false)` when the event is in another state (it is delivered by a webhook).
pub fn ack_event(conn: &Connection, event_id: &str, now: i64) -> Result<bool, StoreError> {
    let state: Option<String> =
        conn.query_row("SELECT state FROM events WHERE id = ?1", [event_id], |r| r.get(0)).optional()?;
    match state.as_deref() {
        None => Err(StoreError::NotFound),
        Some("acked") => Ok(true),
        Some("stored") => {
            conn.execute("UPDATE events SET state = 'acked', done_at = ?2 WHERE id = ?1", params![event_id, now])?;
            Ok(true)
        }
        Some(_) => Ok(false),
    }
}

// ---- held requests ----

/// Stores a held request.
pub fn insert_held(conn: &Connection, held: &Held) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO held (id, trigger_id, received_at, reason, errors, content_type, body, request)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        held.id,
        held.trigger_id,
        held.received_at,
        held.reason.as_str(),
        json_text(&held.errors)?,
        held.content_type,
        held.body,
        held_request_text(&held.request)?
    ])?;
    Ok(())
}

/// Replaces a held request's reason and problems (after a failed replay).
pub fn update_held(conn: &Connection, id: &str, reason: HeldReason, errors: &[Problem]) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE held SET reason = ?2, errors = ?3 WHERE id = ?1",
        params![id, reason.as_str(), json_text(&errors)?],
    )?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// A held request's method, headers and query as stored: `{method, headers, query}`.
fn held_request_text(request: &RequestInfo) -> Result<String, StoreError> {
    let mut json = request.to_json();
    if let Value::Object(map) = &mut json {
        map.remove("receivedAt");
    }
    json_text(&json)
}

/// The columns of a held row, before its text columns are decoded.
struct HeldRow {
    held: Held,
    reason: String,
    errors: String,
    request: Option<String>,
}

fn held_row(row: &Row<'_>) -> rusqlite::Result<HeldRow> {
    let received_at = row.get(2)?;
    Ok(HeldRow {
        held: Held {
            id: row.get(0)?,
            trigger_id: row.get(1)?,
            received_at,
            reason: HeldReason::Mapping,
            errors: Vec::new(),
            content_type: row.get(5)?,
            body: row.get(6)?,
            request: RequestInfo::bare(received_at),
        },
        reason: row.get(3)?,
        errors: row.get(4)?,
        request: row.get(7)?,
    })
}

fn finish_held(HeldRow { mut held, reason, errors, request }: HeldRow) -> Result<Held, StoreError> {
    held.reason = HeldReason::parse(&reason).ok_or_else(|| corrupt(format!("held reason {reason:?}")))?;
    held.errors = serde_json::from_str(&errors).map_err(corrupt)?;
    if let Some(request) = request {
        let json: Value = serde_json::from_str(&request).map_err(corrupt)?;
        let received_at = crate::clock::rfc3339(held.received_at);
        held.request = RequestInfo::from_json(&json, &received_at).map_err(corrupt)?;
    }
    Ok(held)
}

const HELD_COLUMNS: &str = "id, trigger_id, received_at, reason, errors, content_type, body, request";

/// One held request by id.
pub fn get_held(conn: &Connection, id: &str) -> Result<Held, StoreError> {
    let sql = format!("SELECT {HELD_COLUMNS} FROM held WHERE id = ?1");
    finish_held(conn.prepare_cached(&sql)?.query_row([id], held_row)?)
}

/// A trigger's held requests, oldest first.
pub fn list_held(conn: &Connection, trigger_id: &str, limit: u32) -> Result<Vec<Held>, StoreError> {
    let sql = format!("SELECT {HELD_COLUMNS} FROM held WHERE trigger_id = ?1 ORDER BY seq LIMIT ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![trigger_id, limit], held_row)?;
    rows.map(|row| finish_held(row?)).collect()
}

/// Deletes a held request.
pub fn delete_held(conn: &Connection, id: &str) -> Result<(), StoreError> {
    if conn.execute("DELETE FROM held WHERE id = ?1", [id])? == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
