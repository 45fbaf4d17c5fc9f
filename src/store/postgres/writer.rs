//! The PostgreSQL writer: a task that commits queued writes in groups, as the SQLite writer
//! thread does. It takes the first waiting write and every write queued behind it (up to
//! `batch_max`), runs them in one transaction, their statements pipelined, and commits once;
//! each caller is answered only after that commit. A failing write rolls back alone: the group
//! then runs again with each write in a savepoint (see `commit_group`).
//!
//! Writes that claim a dedup key run in key order, then writes of triggers in id order, so two
//! nodes' groups lock the rows they share in the same order and do not deadlock. A group that
//! changes a trigger bumps `triggers_version` and notifies the other nodes, at its end.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};

use super::super::writer::WriterStats;
use super::super::{Alongside, Appended, Attempt, DeliveryState, Held, HeldReason, NewAppend, StoreError};
use super::sql;
use crate::problem::Problem;
use crate::trigger::Trigger;

/// Expired dedup keys are deleted at most this often (a key's expiry is also checked when it
/// is claimed again, so this only reclaims space).
const PRUNE_EVERY_MS: i64 = 60_000;

/// One write, as data: the writer runs it inside its group transaction.
pub(super) enum Write {
    /// [`super::super::Triggers::insert_trigger`].
    InsertTrigger(Box<Trigger>),
    /// [`super::super::Triggers::update_trigger`].
    UpdateTrigger(Box<Trigger>, &'static str, Alongside),
    /// [`super::super::Triggers::delete_trigger`].
    DeleteTrigger(String),
    /// [`super::super::Outbox::append`].
    Append(Box<NewAppend>),
    /// [`super::super::Outbox::ack`].
    Ack(String, i64),
    /// [`super::super::Deliveries::record_attempt`].
    RecordAttempt(String, Attempt, DeliveryState, Option<i64>),
    /// [`super::super::Deliveries::store_pending`].
    StorePending(String),
    /// [`super::super::HeldRequests::hold`].
    Hold(Box<Held>),
    /// [`super::super::HeldRequests::rehold`].
    Rehold(String, HeldReason, Vec<Problem>),
    /// [`super::super::HeldRequests::release`].
    Release(String),
    /// [`super::super::DedupKeys::forget_key`].
    ForgetKey(String),
}

/// What a write gives back.
pub(super) enum Done {
    /// Nothing but its commit.
    Nothing,
    /// What an append did.
    Appended(Appended),
    /// Whether an acknowledgement applied.
    Acked(bool),
}

/// A write and where to send its answer once its group is committed.
pub(super) struct Job {
    /// The write.
    pub(super) write: Write,
    /// Its answer.
    pub(super) reply: oneshot::Sender<Result<Done, StoreError>>,
}

impl Write {
    /// The rows the write locks that another node's group may lock too: the order writes run
    /// in within a group (writes without such rows first, then dedup keys, then triggers).
    fn lock_order(&self) -> Option<(u8, &str, &str)> {
        match self {
            Write::Append(append) => {
                append.key.as_ref().map(|key| (0, append.event.trigger_id.as_str(), key.key.as_str()))
            }
            Write::InsertTrigger(trigger) | Write::UpdateTrigger(trigger, ..) => Some((1, trigger.id.as_str(), "")),
            Write::DeleteTrigger(id) => Some((1, id.as_str(), "")),
            _ => None,
        }
    }

    /// Whether the write changes a trigger (the other nodes reload theirs).
    fn changes_triggers(&self) -> bool {
        matches!(self, Write::InsertTrigger(_) | Write::UpdateTrigger(..) | Write::DeleteTrigger(_))
    }
}

async fn apply<C: deadpool_postgres::GenericClient>(c: &C, write: &Write) -> Result<Done, StoreError> {
    match write {
        Write::InsertTrigger(trigger) => sql::insert_trigger(c, trigger).await.map(|()| Done::Nothing),
        Write::UpdateTrigger(trigger, change, alongside) => {
            sql::update_trigger(c, trigger, change).await?;
            match alongside {
                Alongside::Nothing => {}
                Alongside::Hold(held) => sql::insert_held(c, held).await?,
                Alongside::StorePending => sql::store_all_pending(c, &trigger.id).await?,
            }
            Ok(Done::Nothing)
        }
        Write::DeleteTrigger(id) => sql::delete_trigger(c, id).await.map(|()| Done::Nothing),
        Write::Append(append) => {
            let appended = sql::append_event_once(c, &append.event, append.key.as_ref(), append.now).await?;
            if let Some(held) = &append.replayed {
                sql::delete_held(c, held).await?;
            }
            Ok(Done::Appended(appended))
        }
        Write::Ack(id, now) => sql::ack_event(c, id, *now).await.map(Done::Acked),
        Write::RecordAttempt(id, attempt, state, next) => {
            sql::record_attempt(c, id, attempt, *state, *next).await.map(|()| Done::Nothing)
        }
        Write::StorePending(id) => sql::store_pending(c, id).await.map(|()| Done::Nothing),
        Write::Hold(held) => sql::insert_held(c, held).await.map(|()| Done::Nothing),
        Write::Rehold(id, reason, errors) => sql::update_held(c, id, *reason, errors).await.map(|()| Done::Nothing),
        Write::Release(id) => sql::delete_held(c, id).await.map(|()| Done::Nothing),
        Write::ForgetKey(id) => sql::forget_dedup_key(c, id).await.map(|()| Done::Nothing),
    }
}

/// Runs until every sender of `jobs` is gone.
pub(super) async fn run(pool: Pool, mut jobs: mpsc::Receiver<Job>, batch_max: usize, stats: Arc<WriterStats>) {
    let mut batch: Vec<Job> = Vec::with_capacity(batch_max);
    let mut pruned_at = 0;
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < batch_max {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch.sort_by(|a, b| a.write.lock_order().cmp(&b.write.lock_order()));
        let (writes, replies): (Vec<Write>, Vec<_>) = batch.drain(..).map(|job| (job.write, job.reply)).unzip();
        let (outcome, mut results) = commit_group(&pool, &writes).await;
        match &outcome {
            Ok(()) => {
                stats.commits.fetch_add(1, Relaxed);
                stats.jobs.fetch_add(writes.len() as u64, Relaxed);
            }
            Err(error) => tracing::error!(%error, "group commit failed"),
        }
        results.resize_with(replies.len(), || Err(StoreError::Closed));
        for (reply, result) in replies.into_iter().zip(results) {
            let answer = match &outcome {
                Ok(()) => result,
                Err(error) => Err(error.clone()),
            };
            let _ = reply.send(answer);
        }
        let now = crate::clock::now_ms();
        if now - pruned_at >= PRUNE_EVERY_MS {
            pruned_at = now;
            if let Err(error) = prune(&pool, now).await {
                tracing::warn!(%error, "expired dedup keys not deleted");
            }
        }
    }
}

async fn prune(pool: &Pool, now: i64) -> Result<(), StoreError> {
    let client = pool.get().await?;
    sql::prune_dedup_keys(&client, now).await
}

/// A group's outcome: the commit's, and each write's result (fewer results than writes when
/// the transaction broke off).
type Committed = (Result<(), StoreError>, Vec<Result<Done, StoreError>>);

/// Runs `writes` in one transaction and commits it: first [`pipelined`]; when a write fails
/// (a conflict, a delivery recorded by another node), the group runs again
/// [`with_savepoints`], so that a failing write rolls back alone.
async fn commit_group(pool: &Pool, writes: &[Write]) -> Committed {
    let mut client = match pool.get().await {
        Ok(client) => client,
        Err(e) => return (Err(e.into()), Vec::new()),
    };
    match pipelined(&mut client, writes).await {
        Some(committed) => committed,
        None => with_savepoints(&mut client, writes).await,
    }
}

/// Runs `writes` at once on one transaction: their statements are sent pipelined on the
/// connection (in the group's order, so shared rows are locked in that order), not one round
/// trip after another. None when a write of several failed (the transaction is rolled back:
/// run them again with savepoints); a lone write's failure is its answer.
async fn pipelined(client: &mut deadpool_postgres::Object, writes: &[Write]) -> Option<Committed> {
    let tx = match client.transaction().await {
        Ok(tx) => tx,
        Err(e) => return Some((Err(e.into()), Vec::new())),
    };
    let results = futures_util::future::join_all(writes.iter().map(|write| apply(&tx, write))).await;
    if results.iter().any(Result::is_err) {
        let rolled_back = tx.rollback().await.map_err(StoreError::from);
        return (writes.len() == 1).then_some((rolled_back, results));
    }
    if writes.iter().any(Write::changes_triggers)
        && let Err(e) = sql::announce_trigger_change(&tx).await
    {
        return Some((Err(e), results));
    }
    Some((tx.commit().await.map_err(StoreError::from), results))
}

/// Runs `writes` one after the other on one transaction, each in a savepoint (a round trip per
/// write), so a failing write rolls back alone; commits the others.
async fn with_savepoints(client: &mut deadpool_postgres::Object, writes: &[Write]) -> Committed {
    let mut results = Vec::with_capacity(writes.len());
    let tx = match client.transaction().await {
        Ok(tx) => tx,
        Err(e) => return (Err(e.into()), results),
    };
    let mut announce = false;
    for (index, write) in writes.iter().enumerate() {
        // One round trip: the previous write's savepoint is released as the next one is set.
        let savepoint = if index == 0 { "SAVEPOINT job" } else { "RELEASE SAVEPOINT job; SAVEPOINT job" };
        if let Err(e) = tx.batch_execute(savepoint).await {
            return (Err(e.into()), results);
        }
        let result = apply(&tx, write).await;
        match &result {
            Ok(_) => announce |= write.changes_triggers(),
            Err(_) => {
                if let Err(e) = tx.batch_execute("ROLLBACK TO SAVEPOINT job").await {
                    return (Err(e.into()), results);
                }
            }
        }
        results.push(result);
    }
    if announce && let Err(e) = sql::announce_trigger_change(&tx).await {
        return (Err(e), results);
    }
    (tx.commit().await.map_err(StoreError::from), results)
}
