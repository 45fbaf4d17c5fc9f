//! The PostgreSQL schema: an ordered list of migrations, applied at start-up under an advisory
//! lock (nodes that start together wait for each other instead of racing); the
//! `schema_version` table records how many have been applied.

use deadpool_postgres::tokio_postgres::Client;

use super::super::StoreError;

/// The advisory lock the migrations run under (any constant the database's other users do not take).
const MIGRATION_LOCK: i64 = 0x686f_6f6b_6d61_7001;

/// Migration `i` brings the schema from version `i` to `i + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: triggers and their change log; the outbox with delivery leases (`leased_until`: the
    // node that took the event for an attempt holds it until then); attempts; held requests;
    // dedup keys; `triggers_version`, bumped by every transaction that changes a trigger (the
    // version nodes compare, should a notification be lost).
    "CREATE TABLE triggers (
        seq BIGSERIAL NOT NULL,
        id TEXT PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL,
        version BIGINT NOT NULL
    );
    CREATE TABLE trigger_changes (
        trigger_id TEXT NOT NULL,
        version BIGINT NOT NULL,
        at BIGINT NOT NULL,
        change TEXT NOT NULL,
        PRIMARY KEY (trigger_id, version)
    );
    CREATE TABLE events (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        trigger_id TEXT NOT NULL,
        mode TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        next_attempt_at BIGINT,
        last_error TEXT,
        done_at BIGINT,
        leased_until BIGINT
    );
    CREATE INDEX events_by_trigger ON events (trigger_id, seq);
    CREATE INDEX events_due ON events (next_attempt_at) WHERE state = 'pending';
    CREATE TABLE delivery_attempts (
        event_id TEXT NOT NULL,
        attempt BIGINT NOT NULL,
        at BIGINT NOT NULL,
        outcome TEXT NOT NULL,
        status BIGINT,
        error TEXT,
        timeout_ms BIGINT,
        duration_ms BIGINT NOT NULL,
        PRIMARY KEY (event_id, attempt)
    );
    CREATE TABLE held (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        trigger_id TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        reason TEXT NOT NULL,
        errors TEXT NOT NULL,
        content_type TEXT,
        body BYTEA NOT NULL,
        request TEXT
    );
    CREATE INDEX held_by_trigger ON held (trigger_id, seq);
    CREATE TABLE dedup_keys (
        trigger_id TEXT NOT NULL,
        key TEXT NOT NULL,
        event_id TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (trigger_id, key)
    );
    CREATE INDEX dedup_keys_by_expiry ON dedup_keys (expires_at);
    CREATE INDEX dedup_keys_by_event ON dedup_keys (event_id);
    CREATE TABLE triggers_version (version BIGINT NOT NULL);
    INSERT INTO triggers_version VALUES (0);",
];

/// Applies the migrations the database has not seen yet, holding the advisory lock meanwhile.
pub(super) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await?;
    let applied = apply(client).await;
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await;
    applied?;
    unlocked?;
    Ok(())
}

async fn apply(client: &mut Client) -> Result<(), StoreError> {
    client.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)").await?;
    let current: i64 = match client.query_opt("SELECT version FROM schema_version", &[]).await? {
        Some(row) => row.try_get(0)?,
        None => {
            client.execute("INSERT INTO schema_version VALUES (0)", &[]).await?;
            0
        }
    };
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {current}, newer than this build's {known}"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute("UPDATE schema_version SET version = $1", &[&(index as i64 + 1)]).await?;
        tx.commit().await?;
    }
    Ok(())
}
