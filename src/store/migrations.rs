//! Schema migrations: an ordered list, applied in one transaction each; SQLite's
//! `user_version` records how many have been applied.

use rusqlite::Connection;

use super::StoreError;

/// Migration `i` brings the schema from version `i` to `i + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: triggers, their change log, the outbox, delivery attempts, held requests.
    "CREATE TABLE triggers (
        id TEXT PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE TABLE trigger_changes (
        trigger_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        at INTEGER NOT NULL,
        change TEXT NOT NULL,
        PRIMARY KEY (trigger_id, version)
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        trigger_id TEXT NOT NULL,
        mode TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        last_error TEXT,
        done_at INTEGER
    );
    CREATE INDEX events_by_trigger ON events (trigger_id, seq);
    CREATE INDEX events_due ON events (next_attempt_at) WHERE state = 'pending';
    CREATE TABLE delivery_attempts (
        event_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        at INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        duration_ms INTEGER NOT NULL,
        PRIMARY KEY (event_id, attempt)
    );
    CREATE TABLE held (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        trigger_id TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        reason TEXT NOT NULL,
        errors TEXT NOT NULL,
        content_type TEXT,
        body BLOB NOT NULL
    );
    CREATE INDEX held_by_trigger ON held (trigger_id, seq);",
    // 2: a held request keeps its method, headers and query (`{method, headers, query}`), so a
    // replay shows a script the request as it came; NULL for requests held before.
    "ALTER TABLE held ADD COLUMN request TEXT;",
    // 3: deduplication keys (SHA-256 of a request's key) with the first event that had
    // them, until they expire; written in the transaction that appends that event.
    "CREATE TABLE dedup_keys (
        trigger_id TEXT NOT NULL,
        key TEXT NOT NULL,
        event_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (trigger_id, key)
    ) WITHOUT ROWID;
    CREATE INDEX dedup_keys_by_expiry ON dedup_keys (expires_at);",
    // 4: a delivery attempt's outcome in typed columns: `outcome` (answered, timeout,
    // connection, url), `status` for an answer, `error` the reason of a connection or URL
    // failure, `timeout_ms` the limit a timeout hit. Earlier attempts without a status were
    // connection failures or timeouts, whose text `error` already holds.
    "ALTER TABLE delivery_attempts ADD COLUMN outcome TEXT NOT NULL DEFAULT 'connection';
    ALTER TABLE delivery_attempts ADD COLUMN timeout_ms INTEGER;
    UPDATE delivery_attempts SET outcome = 'answered' WHERE status IS NOT NULL;
    UPDATE delivery_attempts SET error = NULL WHERE status IS NOT NULL;
    UPDATE delivery_attempts SET error = '' WHERE status IS NULL AND error IS NULL;",
];

/// Applies the migrations the database has not seen yet.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {current}, newer than this build's {known}"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", index + 1))?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        conn.execute_batch("PRAGMA user_version = 99").unwrap();
        assert!(matches!(migrate(&mut conn), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn a_request_held_before_requests_were_kept_reads_as_a_bare_post() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch("PRAGMA user_version = 1").unwrap();
        conn.execute(
            "INSERT INTO held (id, trigger_id, received_at, reason, errors, content_type, body)
             VALUES ('hld_old', 'trg_1', 0, 'mapping', '[]', 'application/json', X'7B7D')",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let held = super::super::records::get_held(&conn, "hld_old").unwrap();
        assert_eq!(held.request, None, "read as a bare POST");
        assert_eq!(held.body, b"{}");
    }
}
