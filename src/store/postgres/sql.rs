//! The PostgreSQL engine's SQL: each function runs on a pooled connection or inside the
//! writer's group transaction (any [`GenericClient`]); statements are prepared once per
//! connection (deadpool's statement cache).

use deadpool_postgres::GenericClient;
use deadpool_postgres::tokio_postgres::Row;
use deadpool_postgres::tokio_postgres::types::ToSql;

use super::super::records::{OutcomeColumns, corrupt, json_text};
use super::super::{Appended, Attempt, DedupKey, DeliveryState, Event, Held, HeldReason, NewEvent, StoreError};
use crate::problem::Problem;
use crate::trigger::{Mode, Trigger, TriggerDoc};

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

async fn rows<C: GenericClient>(c: &C, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query(&statement, params).await?)
}

async fn row<C: GenericClient>(c: &C, sql: &str, params: Params<'_>) -> Result<Option<Row>, StoreError> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&statement, params).await?)
}

async fn execute<C: GenericClient>(c: &C, sql: &str, params: Params<'_>) -> Result<u64, StoreError> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.execute(&statement, params).await?)
}

// ---- triggers ----

/// Inserts a new trigger and records its creation.
pub(super) async fn insert_trigger<C: GenericClient>(c: &C, trigger: &Trigger) -> Result<(), StoreError> {
    let doc = json_text(&TriggerDoc::from(trigger))?;
    let version = trigger.version as i64;
    execute(
        c,
        "INSERT INTO triggers (id, token, doc, version) VALUES ($1, $2, $3, $4)",
        &[&trigger.id, &trigger.token, &doc, &version],
    )
    .await?;
    record_change(c, trigger, "created").await
}

/// Replaces a trigger with its new version and records `change`. The stored version must be
/// the one before (another node may have changed the trigger meanwhile:
/// [`StoreError::Conflict`]).
pub(super) async fn update_trigger<C: GenericClient>(c: &C, trigger: &Trigger, change: &str) -> Result<(), StoreError> {
    let doc = json_text(&TriggerDoc::from(trigger))?;
    let version = trigger.version as i64;
    let updated = execute(
        c,
        "UPDATE triggers SET token = $2, doc = $3, version = $4::BIGINT WHERE id = $1 AND version = $4::BIGINT - 1",
        &[&trigger.id, &trigger.token, &doc, &version],
    )
    .await?;
    if updated == 0 {
        return match row(c, "SELECT version FROM triggers WHERE id = $1", &[&trigger.id]).await? {
            None => Err(StoreError::NotFound),
            Some(_) => Err(StoreError::Conflict(format!("trigger {} was changed by another node", trigger.id))),
        };
    }
    record_change(c, trigger, change).await
}

async fn record_change<C: GenericClient>(c: &C, trigger: &Trigger, change: &str) -> Result<(), StoreError> {
    let version = trigger.version as i64;
    execute(
        c,
        "INSERT INTO trigger_changes (trigger_id, version, at, change) VALUES ($1, $2, $3, $4)",
        &[&trigger.id, &version, &trigger.updated_at, &change],
    )
    .await?;
    Ok(())
}

/// Deletes a trigger with its change log, events, attempts, held requests and dedup keys.
pub(super) async fn delete_trigger<C: GenericClient>(c: &C, id: &str) -> Result<(), StoreError> {
    if execute(c, "DELETE FROM triggers WHERE id = $1", &[&id]).await? == 0 {
        return Err(StoreError::NotFound);
    }
    execute(c, "DELETE FROM trigger_changes WHERE trigger_id = $1", &[&id]).await?;
    execute(c, "DELETE FROM delivery_attempts WHERE event_id IN (SELECT id FROM events WHERE trigger_id = $1)", &[&id])
        .await?;
    execute(c, "DELETE FROM events WHERE trigger_id = $1", &[&id]).await?;
    execute(c, "DELETE FROM held WHERE trigger_id = $1", &[&id]).await?;
    execute(c, "DELETE FROM dedup_keys WHERE trigger_id = $1", &[&id]).await?;
    Ok(())
}

/// Every stored trigger, oldest first.
pub(super) async fn load_triggers<C: GenericClient>(c: &C) -> Result<Vec<Trigger>, StoreError> {
    let mut triggers = Vec::new();
    for row in rows(c, "SELECT doc FROM triggers ORDER BY seq", &[]).await? {
        let doc: String = row.try_get(0)?;
        let doc: TriggerDoc = serde_json::from_str(&doc).map_err(corrupt)?;
        triggers.push(Trigger::try_from(doc).map_err(corrupt)?);
    }
    Ok(triggers)
}

/// A trigger's change log: (version, time, change), oldest first.
pub(super) async fn trigger_changes<C: GenericClient>(c: &C, id: &str) -> Result<Vec<(u64, i64, String)>, StoreError> {
    let sql = "SELECT version, at, change FROM trigger_changes WHERE trigger_id = $1 ORDER BY version";
    let mut changes = Vec::new();
    for row in rows(c, sql, &[&id]).await? {
        changes.push((row.try_get::<_, i64>(0)? as u64, row.try_get(1)?, row.try_get(2)?));
    }
    Ok(changes)
}

/// Marks a change of triggers for the other nodes: bumps `triggers_version` and notifies
/// `hookmap_triggers` (delivered when the transaction commits).
pub(super) async fn announce_trigger_change<C: GenericClient>(c: &C) -> Result<(), StoreError> {
    execute(c, "UPDATE triggers_version SET version = version + 1", &[]).await?;
    execute(c, "SELECT pg_notify('hookmap_triggers', '')", &[]).await?;
    Ok(())
}

// ---- events ----

/// Appends an event to the outbox.
async fn append_event<C: GenericClient>(c: &C, event: &NewEvent) -> Result<(), StoreError> {
    let next = (event.state == DeliveryState::Pending).then_some(event.received_at);
    execute(
        c,
        "INSERT INTO events (id, trigger_id, mode, received_at, payload, state, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &event.id,
            &event.trigger_id,
            &event.mode.as_str(),
            &event.received_at,
            &event.payload,
            &event.state.as_str(),
            &next,
        ],
    )
    .await?;
    Ok(())
}

/// Appends `event` unless `key` is remembered for an earlier event of its trigger at `now`,
/// remembering the key with the event. The key is claimed with `INSERT … ON CONFLICT`: a
/// second node appending the same key at the same instant waits for the first one's commit
/// and then finds its event, so the same key makes one event across nodes.
pub(super) async fn append_event_once<C: GenericClient>(
    c: &C,
    event: &NewEvent,
    key: Option<&DedupKey>,
    now: i64,
) -> Result<Appended, StoreError> {
    if let Some(key) = key {
        let claimed = row(
            c,
            "INSERT INTO dedup_keys (trigger_id, key, event_id, expires_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (trigger_id, key) DO UPDATE SET event_id = EXCLUDED.event_id, expires_at = EXCLUDED.expires_at
             WHERE dedup_keys.expires_at <= $5
             RETURNING event_id",
            &[&event.trigger_id, &key.key, &event.id, &key.expires_at, &now],
        )
        .await?;
        if claimed.is_none() {
            let sql = "SELECT event_id FROM dedup_keys WHERE trigger_id = $1 AND key = $2";
            let first = row(c, sql, &[&event.trigger_id, &key.key]).await?.ok_or(StoreError::NotFound)?;
            return Ok(Appended::Duplicate(first.try_get(0)?));
        }
    }
    append_event(c, event).await?;
    Ok(Appended::New)
}

/// Forgets keys that expired by `now` (up to 10000, skipping those a transaction holds: the
/// delete never waits, so it cannot deadlock with the nodes' appends).
pub(super) async fn prune_dedup_keys<C: GenericClient>(c: &C, now: i64) -> Result<(), StoreError> {
    let sql = "DELETE FROM dedup_keys WHERE (trigger_id, key) IN (
                   SELECT trigger_id, key FROM dedup_keys WHERE expires_at <= $1 LIMIT 10000 FOR UPDATE SKIP LOCKED)";
    execute(c, sql, &[&now]).await?;
    Ok(())
}

/// The event that had `key` on `trigger_id` and is still remembered at `now`.
pub(super) async fn first_event<C: GenericClient>(
    c: &C,
    trigger_id: &str,
    key: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let sql = "SELECT event_id FROM dedup_keys WHERE trigger_id = $1 AND key = $2 AND expires_at > $3";
    Ok(row(c, sql, &[&trigger_id, &key, &now]).await?.map(|r| r.try_get(0)).transpose()?)
}

/// Forgets the dedup key of `event_id`, if it has one.
pub(super) async fn forget_dedup_key<C: GenericClient>(c: &C, event_id: &str) -> Result<(), StoreError> {
    execute(c, "DELETE FROM dedup_keys WHERE event_id = $1", &[&event_id]).await?;
    Ok(())
}

const EVENT_COLUMNS: &str =
    "seq, id, trigger_id, mode, received_at, payload, state, attempts, next_attempt_at, last_error, done_at";

fn event_of(row: &Row) -> Result<Event, StoreError> {
    let mode: String = row.try_get(3)?;
    let state: String = row.try_get(6)?;
    Ok(Event {
        seq: row.try_get(0)?,
        id: row.try_get(1)?,
        trigger_id: row.try_get(2)?,
        mode: Mode::parse(&mode).ok_or_else(|| corrupt(format!("event mode {mode:?}")))?,
        received_at: row.try_get(4)?,
        payload: row.try_get(5)?,
        state: DeliveryState::parse(&state).ok_or_else(|| corrupt(format!("event state {state:?}")))?,
        attempts: row.try_get::<_, i64>(7)? as u32,
        next_attempt_at: row.try_get(8)?,
        last_error: row.try_get(9)?,
        done_at: row.try_get(10)?,
    })
}

/// One event by id.
pub(super) async fn get_event<C: GenericClient>(c: &C, id: &str) -> Result<Event, StoreError> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1");
    event_of(&row(c, &sql, &[&id]).await?.ok_or(StoreError::NotFound)?)
}

/// A trigger's events after `after_seq`, oldest first, optionally in one state.
pub(super) async fn list_events<C: GenericClient>(
    c: &C,
    trigger_id: &str,
    state: Option<DeliveryState>,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<Event>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE trigger_id = $1 AND seq > $2 AND ($3::TEXT IS NULL OR state = $3)
         ORDER BY seq LIMIT $4"
    );
    let state = state.map(DeliveryState::as_str);
    let found = rows(c, &sql, &[&trigger_id, &after_seq, &state, &i64::from(limit)]).await?;
    found.iter().map(event_of).collect()
}

/// Events waiting for delivery or acknowledgement (the outbox depth).
pub(super) async fn outbox_depth<C: GenericClient>(c: &C) -> Result<u64, StoreError> {
    let found = row(c, "SELECT COUNT(*) FROM events WHERE state IN ('pending', 'stored')", &[]).await?;
    Ok(found.map(|r| r.try_get::<_, i64>(0)).transpose()?.unwrap_or(0) as u64)
}

/// Takes up to `limit` pending events due at `now` that no node holds, oldest first, and
/// leases them until `leased_until`: rows another node is taking are skipped
/// (`FOR UPDATE SKIP LOCKED`), so each event is attempted by one node at a time; a lease that
/// expires (its node died) frees the event for the others.
pub(super) async fn lease_due<C: GenericClient>(
    c: &C,
    now: i64,
    limit: u32,
    leased_until: i64,
) -> Result<Vec<Event>, StoreError> {
    let sql = format!(
        "WITH due AS (
             SELECT seq FROM events
             WHERE state = 'pending' AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until <= $1)
             ORDER BY next_attempt_at, seq LIMIT $2
             FOR UPDATE SKIP LOCKED)
         UPDATE events SET leased_until = $3 FROM due WHERE events.seq = due.seq
         RETURNING {}",
        EVENT_COLUMNS.split(", ").map(|column| format!("events.{column}")).collect::<Vec<_>>().join(", ")
    );
    let found = rows(c, &sql, &[&now, &i64::from(limit), &leased_until]).await?;
    let mut events = found.iter().map(event_of).collect::<Result<Vec<_>, _>>()?;
    events.sort_by_key(|e| (e.next_attempt_at, e.seq));
    Ok(events)
}

/// When the next pending event is due or its lease ends, if any.
pub(super) async fn next_due<C: GenericClient>(c: &C) -> Result<Option<i64>, StoreError> {
    let sql = "SELECT MIN(GREATEST(next_attempt_at, COALESCE(leased_until, 0))) FROM events WHERE state = 'pending'";
    Ok(row(c, sql, &[]).await?.map(|r| r.try_get::<_, Option<i64>>(0)).transpose()?.flatten())
}

/// Records a delivery attempt and the event's new state, and ends its lease.
pub(super) async fn record_attempt<C: GenericClient>(
    c: &C,
    event_id: &str,
    attempt: &Attempt,
    state: DeliveryState,
    next_attempt_at: Option<i64>,
) -> Result<(), StoreError> {
    let number = i64::from(attempt.attempt);
    let last_error = attempt.outcome.error();
    let done = matches!(state, DeliveryState::Delivered | DeliveryState::Dead).then_some(attempt.at);
    let updated = execute(
        c,
        "UPDATE events SET attempts = $2::BIGINT, state = $3, next_attempt_at = $4, last_error = $5, done_at = $6,
             leased_until = NULL
         WHERE id = $1 AND state = 'pending' AND attempts = $2::BIGINT - 1",
        &[&event_id, &number, &state.as_str(), &next_attempt_at, &last_error, &done],
    )
    .await?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    execute(
        c,
        "INSERT INTO delivery_attempts (event_id, attempt, at, outcome, status, error, timeout_ms, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &event_id,
            &number,
            &attempt.at,
            &attempt.outcome.kind(),
            &attempt.outcome.status().map(i64::from),
            &attempt.outcome.reason(),
            &attempt.outcome.timeout_ms().map(|ms| ms as i64),
            &(attempt.duration_ms as i64),
        ],
    )
    .await?;
    Ok(())
}

/// Moves a pending event to `stored` (its flow no longer has a webhook).
pub(super) async fn store_pending<C: GenericClient>(c: &C, event_id: &str) -> Result<(), StoreError> {
    let sql = "UPDATE events SET state = 'stored', next_attempt_at = NULL, leased_until = NULL
               WHERE id = $1 AND state = 'pending'";
    execute(c, sql, &[&event_id]).await?;
    Ok(())
}

/// Moves every pending event of a trigger to `stored`.
pub(super) async fn store_all_pending<C: GenericClient>(c: &C, trigger_id: &str) -> Result<(), StoreError> {
    let sql = "UPDATE events SET state = 'stored', next_attempt_at = NULL, leased_until = NULL
               WHERE trigger_id = $1 AND state = 'pending'";
    execute(c, sql, &[&trigger_id]).await?;
    Ok(())
}

/// An event's delivery attempts, oldest first.
pub(super) async fn attempts<C: GenericClient>(c: &C, event_id: &str) -> Result<Vec<Attempt>, StoreError> {
    let sql = "SELECT attempt, at, outcome, status, error, timeout_ms, duration_ms FROM delivery_attempts
               WHERE event_id = $1 ORDER BY attempt";
    let mut attempts = Vec::new();
    for row in rows(c, sql, &[&event_id]).await? {
        let status: Option<i64> = row.try_get(3)?;
        let columns = OutcomeColumns {
            kind: row.try_get(2)?,
            status: status.map(|s| u16::try_from(s).map_err(corrupt)).transpose()?,
            reason: row.try_get(4)?,
            timeout_ms: row.try_get(5)?,
        };
        attempts.push(Attempt {
            attempt: row.try_get::<_, i64>(0)? as u32,
            at: row.try_get(1)?,
            outcome: columns.outcome()?,
            duration_ms: row.try_get::<_, i64>(6)? as u64,
        });
    }
    Ok(attempts)
}

/// Acknowledges a stored event (idempotently); false when it is in another state.
pub(super) async fn ack_event<C: GenericClient>(c: &C, event_id: &str, now: i64) -> Result<bool, StoreError> {
    let state = row(c, "SELECT state FROM events WHERE id = $1 FOR UPDATE", &[&event_id]).await?;
    let state: String = state.ok_or(StoreError::NotFound)?.try_get(0)?;
    match state.as_str() {
        "acked" => Ok(true),
        "stored" => {
            execute(c, "UPDATE events SET state = 'acked', done_at = $2 WHERE id = $1", &[&event_id, &now]).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

// ---- held requests ----

/// Stores a held request.
pub(super) async fn insert_held<C: GenericClient>(c: &C, held: &Held) -> Result<(), StoreError> {
    let errors = json_text(&held.errors)?;
    let request = held.request.as_ref().map(json_text).transpose()?;
    execute(
        c,
        "INSERT INTO held (id, trigger_id, received_at, reason, errors, content_type, body, request)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &held.id,
            &held.trigger_id,
            &held.received_at,
            &held.reason.as_str(),
            &errors,
            &held.content_type,
            &held.body,
            &request,
        ],
    )
    .await?;
    Ok(())
}

/// Replaces a held request's reason and problems.
pub(super) async fn update_held<C: GenericClient>(
    c: &C,
    id: &str,
    reason: HeldReason,
    errors: &[Problem],
) -> Result<(), StoreError> {
    let errors = json_text(&errors)?;
    let sql = "UPDATE held SET reason = $2, errors = $3 WHERE id = $1";
    if execute(c, sql, &[&id, &reason.as_str(), &errors]).await? == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

const HELD_COLUMNS: &str = "id, trigger_id, received_at, reason, errors, content_type, body, request";

fn held_of(row: &Row) -> Result<Held, StoreError> {
    let reason: String = row.try_get(3)?;
    let errors: String = row.try_get(4)?;
    let request: Option<String> = row.try_get(7)?;
    Ok(Held {
        id: row.try_get(0)?,
        trigger_id: row.try_get(1)?,
        received_at: row.try_get(2)?,
        reason: HeldReason::parse(&reason).ok_or_else(|| corrupt(format!("held reason {reason:?}")))?,
        errors: serde_json::from_str(&errors).map_err(corrupt)?,
        content_type: row.try_get(5)?,
        body: row.try_get(6)?,
        request: request.map(|text| serde_json::from_str(&text)).transpose().map_err(corrupt)?,
    })
}

/// One held request by id.
pub(super) async fn get_held<C: GenericClient>(c: &C, id: &str) -> Result<Held, StoreError> {
    let sql = format!("SELECT {HELD_COLUMNS} FROM held WHERE id = $1");
    held_of(&row(c, &sql, &[&id]).await?.ok_or(StoreError::NotFound)?)
}

/// A trigger's held requests, oldest first.
pub(super) async fn list_held<C: GenericClient>(c: &C, trigger_id: &str, limit: u32) -> Result<Vec<Held>, StoreError> {
    let sql = format!("SELECT {HELD_COLUMNS} FROM held WHERE trigger_id = $1 ORDER BY seq LIMIT $2");
    rows(c, &sql, &[&trigger_id, &i64::from(limit)]).await?.iter().map(held_of).collect()
}

/// Deletes a held request.
pub(super) async fn delete_held<C: GenericClient>(c: &C, id: &str) -> Result<(), StoreError> {
    if execute(c, "DELETE FROM held WHERE id = $1", &[&id]).await? == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
