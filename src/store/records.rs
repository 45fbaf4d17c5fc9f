//! The stored records and the SQLite engine's SQL that reads and writes them. Each function
//! takes a connection: writes run inside the writer's group transaction, reads on the reader.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;
use crate::problem::Problem;
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
    /// The mapped payload, as the JSON text that was committed (and goes to the flow as is).
    pub payload: String,
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
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// When it started (Unix ms).
    pub at: i64,
    /// What came of it.
    pub outcome: Outcome,
    /// How long it took.
    pub duration_ms: u64,
}

/// What came of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The flow answered with this HTTP status (2xx delivers the event).
    Answered(u16),
    /// No answer within the attempt's time limit, in milliseconds.
    Timeout(u64),
    /// The connection or the exchange failed, with the reason.
    Connection(String),
    /// The flow's URL cannot be called, with the reason.
    InvalidUrl(String),
}

impl Outcome {
    /// Whether the event is delivered: the flow answered 2xx.
    pub fn delivered(&self) -> bool {
        matches!(self, Outcome::Answered(status) if (200..300).contains(status))
    }

    /// The HTTP status received, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Answered(status) => Some(*status),
            _ => None,
        }
    }

    /// Why the attempt failed, as people read it; none when it delivered the event.
    pub fn error(&self) -> Option<String> {
        match self {
            Outcome::Answered(_) if self.delivered() => None,
            Outcome::Answered(status) => Some(format!("the flow answered {status}")),
            Outcome::Timeout(ms) => Some(format!("no answer within {ms} ms")),
            Outcome::Connection(reason) => Some(reason.clone()),
            Outcome::InvalidUrl(reason) => Some(format!("invalid flow URL: {reason}")),
        }
    }

    /// The outcome's name in the `outcome` column.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Outcome::Answered(_) => "answered",
            Outcome::Timeout(_) => "timeout",
            Outcome::Connection(_) => "connection",
            Outcome::InvalidUrl(_) => "url",
        }
    }

    /// The reason of a connection or URL failure (the `error` column).
    pub(super) fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Connection(reason) | Outcome::InvalidUrl(reason) => Some(reason),
            _ => None,
        }
    }

    /// The limit a timeout hit (the `timeout_ms` column).
    pub(super) fn timeout_ms(&self) -> Option<u64> {
        match self {
            Outcome::Timeout(ms) => Some(*ms),
            _ => None,
        }
    }
}

/// An attempt's outcome as its columns hold it.
pub(super) struct OutcomeColumns {
    /// `outcome`.
    pub(super) kind: String,
    /// `status`.
    pub(super) status: Option<u16>,
    /// `error`.
    pub(super) reason: Option<String>,
    /// `timeout_ms`.
    pub(super) timeout_ms: Option<i64>,
}

impl OutcomeColumns {
    /// The outcome the columns hold.
    pub(super) fn outcome(self) -> Result<Outcome, StoreError> {
        let missing = |column: &str| corrupt(format!("a {} attempt without its {column}", self.kind));
        Ok(match self.kind.as_str() {
            "answered" => Outcome::Answered(self.status.ok_or_else(|| missing("status"))?),
            "timeout" => Outcome::Timeout(self.timeout_ms.ok_or_else(|| missing("timeout_ms"))? as u64),
            "connection" => Outcome::Connection(self.reason.clone().ok_or_else(|| missing("error"))?),
            "url" => Outcome::InvalidUrl(self.reason.clone().ok_or_else(|| missing("error"))?),
            other => return Err(corrupt(format!("attempt outcome {other:?}"))),
        })
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

    /// Parses a reason's name.
    pub(super) fn parse(text: &str) -> Option<HeldReason> {
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
    /// Method, headers and query as they came, as the JSON object `{method, headers, query}`
    /// (none for requests held before they were kept); a replay gives a script this request.
    pub request: Option<Value>,
}

/// A stored record that cannot be read back.
pub(super) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// `value` as the JSON text a column holds.
pub(super) fn json_text<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt)
}

// ---- triggers ----

/// Inserts a new trigger and records its creation.
pub(super) fn insert_trigger(conn: &Connection, trigger: &Trigger) -> Result<(), StoreError> {
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
pub(super) fn update_trigger(conn: &Connection, trigger: &Trigger, change: &str) -> Result<(), StoreError> {
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
pub(super) fn delete_trigger(conn: &Connection, id: &str) -> Result<(), StoreError> {
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
pub(super) fn load_triggers(conn: &Connection) -> Result<Vec<Trigger>, StoreError> {
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
pub(super) fn trigger_changes(conn: &Connection, id: &str) -> Result<Vec<(u64, i64, String)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT version, at, change FROM trigger_changes WHERE trigger_id = ?1 ORDER BY version")?;
    let rows = stmt.query_map([id], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

// ---- events ----

/// Appends an event to the outbox.
pub(super) fn append_event(conn: &Connection, event: &NewEvent) -> Result<i64, StoreError> {
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
pub(super) fn first_event(
    conn: &Connection,
    trigger_id: &str,
    key: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let found = conn
        .prepare_cached("SELECT event_id FROM dedup_keys WHERE trigger_id = ?1 AND key = ?2 AND expires_at > ?3")?
        .query_row(params![trigger_id, key, now], |row| row.get(0))
        .optional()?;
    Ok(found)
}

/// Appends `event` unless `key` is remembered for an earlier event of its trigger at `now`;
/// remembers the key with the event in the same transaction, and forgets keys that expired.
/// Without a key it is [`append_event`].
pub(super) fn append_event_once(
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
pub(super) fn forget_dedup_key(conn: &Connection, event_id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM dedup_keys WHERE event_id = ?1")?.execute([event_id])?;
    Ok(())
}

/// How many keys are remembered (expired or not) for a trigger.
#[cfg(test)]
pub(super) fn count_dedup_keys(conn: &Connection, trigger_id: &str) -> Result<u64, StoreError> {
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
            payload: String::new(),
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
    event.payload = payload;
    event.state = DeliveryState::parse(&state).ok_or_else(|| corrupt(format!("event state {state:?}")))?;
    Ok(event)
}

/// One event by id.
pub(super) fn get_event(conn: &Connection, id: &str) -> Result<Event, StoreError> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1");
    let row = conn.prepare_cached(&sql)?.query_row([id], event_row)?;
    finish_event(row)
}

/// A trigger's events after `after_seq`, oldest first, optionally in one state.
pub(super) fn list_events(
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
#[cfg(test)]
pub(super) fn count_events(conn: &Connection, trigger_id: &str) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM events WHERE trigger_id = ?1", [trigger_id], |r| r.get(0))?;
    Ok(n as u64)
}

/// Events waiting for delivery or acknowledgement (the outbox depth).
pub(super) fn outbox_depth(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 =
        conn.query_row("SELECT COUNT(*) FROM events WHERE state IN ('pending', 'stored')", [], |r| r.get(0))?;
    Ok(n as u64)
}

/// Pending events due at `now`, oldest first.
pub(super) fn due_events(conn: &Connection, now: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE state = 'pending' AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, seq LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![now, limit], event_row)?;
    rows.map(|row| finish_event(row?)).collect()
}

/// When the next pending event is due, if any.
pub(super) fn next_due(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn.query_row("SELECT MIN(next_attempt_at) FROM events WHERE state = 'pending'", [], |r| r.get(0))?)
}

/// Records a delivery attempt and the event's new state (`next_attempt_at` for a retry).
pub(super) fn record_attempt(
    conn: &Connection,
    event_id: &str,
    attempt: &Attempt,
    state: DeliveryState,
    next_attempt_at: Option<i64>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO delivery_attempts (event_id, attempt, at, outcome, status, error, timeout_ms, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        event_id,
        attempt.attempt,
        attempt.at,
        attempt.outcome.kind(),
        attempt.outcome.status(),
        attempt.outcome.reason(),
        attempt.outcome.timeout_ms().map(|ms| ms as i64),
        attempt.duration_ms as i64
    ])?;
    let last_error = attempt.outcome.error();
    let done = matches!(state, DeliveryState::Delivered | DeliveryState::Dead).then_some(attempt.at);
    let updated = conn
        .prepare_cached(
            "UPDATE events SET attempts = ?2, state = ?3, next_attempt_at = ?4, last_error = ?5, done_at = ?6
             WHERE id = ?1 AND state = 'pending' AND attempts = ?2 - 1",
        )?
        .execute(params![event_id, attempt.attempt, state.as_str(), next_attempt_at, last_error, done])?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Moves a pending event to `stored` (its flow no longer has a webhook): it waits in the
/// outbox to be read and acknowledged instead.
pub(super) fn store_pending(conn: &Connection, event_id: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE events SET state = 'stored', next_attempt_at = NULL WHERE id = ?1 AND state = 'pending'",
        [event_id],
    )?;
    Ok(())
}

/// Moves every pending event of a trigger to `stored` (see [`store_pending`]).
pub(super) fn store_all_pending(conn: &Connection, trigger_id: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE events SET state = 'stored', next_attempt_at = NULL WHERE trigger_id = ?1 AND state = 'pending'",
        [trigger_id],
    )?;
    Ok(())
}

/// An event's delivery attempts, oldest first.
pub(super) fn attempts(conn: &Connection, event_id: &str) -> Result<Vec<Attempt>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT attempt, at, outcome, status, error, timeout_ms, duration_ms FROM delivery_attempts
         WHERE event_id = ?1 ORDER BY attempt",
    )?;
    let rows = stmt.query_map([event_id], |r| {
        let columns = OutcomeColumns { kind: r.get(2)?, status: r.get(3)?, reason: r.get(4)?, timeout_ms: r.get(5)? };
        Ok((r.get::<_, i64>(0)? as u32, r.get::<_, i64>(1)?, columns, r.get::<_, i64>(6)? as u64))
    })?;
    rows.map(|row| {
        let (attempt, at, columns, duration_ms) = row?;
        Ok(Attempt { attempt, at, outcome: columns.outcome()?, duration_ms })
    })
    .collect()
}

/// Acknowledges a stored event (or an already acknowledged one, idempotently).
/// `Ok(false)` when the event is in another state (it is delivered by a webhook).
pub(super) fn ack_event(conn: &Connection, event_id: &str, now: i64) -> Result<bool, StoreError> {
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
pub(super) fn insert_held(conn: &Connection, held: &Held) -> Result<(), StoreError> {
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
        held.request.as_ref().map(json_text).transpose()?
    ])?;
    Ok(())
}

/// Replaces a held request's reason and problems (after a failed replay).
pub(super) fn update_held(
    conn: &Connection,
    id: &str,
    reason: HeldReason,
    errors: &[Problem],
) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE held SET reason = ?2, errors = ?3 WHERE id = ?1",
        params![id, reason.as_str(), json_text(&errors)?],
    )?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The columns of a held row, before its text columns are decoded.
struct HeldRow {
    held: Held,
    reason: String,
    errors: String,
    request: Option<String>,
}

fn held_row(row: &Row<'_>) -> rusqlite::Result<HeldRow> {
    Ok(HeldRow {
        held: Held {
            id: row.get(0)?,
            trigger_id: row.get(1)?,
            received_at: row.get(2)?,
            reason: HeldReason::Mapping,
            errors: Vec::new(),
            content_type: row.get(5)?,
            body: row.get(6)?,
            request: None,
        },
        reason: row.get(3)?,
        errors: row.get(4)?,
        request: row.get(7)?,
    })
}

fn finish_held(HeldRow { mut held, reason, errors, request }: HeldRow) -> Result<Held, StoreError> {
    held.reason = HeldReason::parse(&reason).ok_or_else(|| corrupt(format!("held reason {reason:?}")))?;
    held.errors = serde_json::from_str(&errors).map_err(corrupt)?;
    held.request = request.map(|text| serde_json::from_str(&text)).transpose().map_err(corrupt)?;
    Ok(held)
}

const HELD_COLUMNS: &str = "id, trigger_id, received_at, reason, errors, content_type, body, request";

/// One held request by id.
pub(super) fn get_held(conn: &Connection, id: &str) -> Result<Held, StoreError> {
    let sql = format!("SELECT {HELD_COLUMNS} FROM held WHERE id = ?1");
    finish_held(conn.prepare_cached(&sql)?.query_row([id], held_row)?)
}

/// A trigger's held requests, oldest first.
pub(super) fn list_held(conn: &Connection, trigger_id: &str, limit: u32) -> Result<Vec<Held>, StoreError> {
    let sql = format!("SELECT {HELD_COLUMNS} FROM held WHERE trigger_id = ?1 ORDER BY seq LIMIT ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![trigger_id, limit], held_row)?;
    rows.map(|row| finish_held(row?)).collect()
}

/// Deletes a held request.
pub(super) fn delete_held(conn: &Connection, id: &str) -> Result<(), StoreError> {
    if conn.execute("DELETE FROM held WHERE id = ?1", [id])? == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
