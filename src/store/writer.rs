//! The one writer: a thread that owns the write connection and commits jobs in groups.
//!
//! Jobs arrive on a bounded channel. The writer takes the first waiting job and every
//! job queued behind it (up to `batch_max`), runs each inside its own savepoint (a
//! failing job rolls back alone), then commits the group once: one fsync for the whole
//! batch. Each job's caller is answered only after that commit, so an acknowledgement
//! always follows a durable write.

use rusqlite::Connection;
use tokio::sync::mpsc;

use super::StoreError;

/// Called after the group's commit with its outcome.
pub(crate) type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A unit of work: runs on the write connection (or, given `None`, does not run at
/// all because the transaction could not start), says whether it succeeded, and returns
/// what to do once the group is committed.
pub(crate) type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;

/// Counters the writer publishes.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: std::sync::atomic::AtomicU64,
    /// Jobs committed.
    pub jobs: std::sync::atomic::AtomicU64,
}

pub(crate) fn run(conn: Connection, mut jobs: mpsc::Receiver<Job>, batch_max: usize, stats: &WriterStats) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut batch: Vec<Job> = Vec::with_capacity(batch_max);
    while let Some(first) = jobs.blocking_recv() {
        batch.push(first);
        while batch.len() < batch_max {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let count = batch.len() as u64;
        let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
        let outcome = match conn.execute_batch("BEGIN IMMEDIATE") {
            Err(e) => {
                // Nothing ran: answer every job with the error.
                for job in batch.drain(..) {
                    let (_, finish) = job(None);
                    finishes.push(finish);
                }
                Err(StoreError::from(e))
            }
            Ok(()) => {
                for job in batch.drain(..) {
                    let savepoint = conn.prepare_cached("SAVEPOINT job").and_then(|mut s| s.execute([]));
                    let (ok, finish) = job(Some(&conn));
                    finishes.push(finish);
                    if savepoint.is_ok() {
                        if !ok {
                            let _ = conn.prepare_cached("ROLLBACK TO job").and_then(|mut s| s.execute([]));
                        }
                        let _ = conn.prepare_cached("RELEASE job").and_then(|mut s| s.execute([]));
                    }
                }
                match conn.execute_batch("COMMIT") {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        let _ = conn.execute_batch("ROLLBACK");
                        Err(StoreError::from(e))
                    }
                }
            }
        };
        if outcome.is_ok() {
            stats.commits.fetch_add(1, Relaxed);
            stats.jobs.fetch_add(count, Relaxed);
        } else {
            tracing::error!(error = ?outcome, "group commit failed");
        }
        for finish in finishes {
            finish(outcome.clone());
        }
    }
    // Every sender is gone: checkpoint the WAL so the next start opens a compact file.
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
}
