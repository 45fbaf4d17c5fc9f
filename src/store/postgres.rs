//! The PostgreSQL engine, for several nodes on one database. Writes go through `writer`, a
//! task committing them in groups (one transaction for many requests, each answered after
//! that commit); reads use a pool of connections. Every node accepts: dedup keys are claimed
//! with `ON CONFLICT` in the event's transaction, deliveries are leased per event
//! (`FOR UPDATE SKIP LOCKED`, see [`Deliveries::due`]), and a change of triggers is announced
//! with `NOTIFY`, followed by each node's `listen` task ([`Storage::shared_changes`]).
//! Migrations run at start-up under an advisory lock (`schema`).

mod listen;
mod schema;
mod sql;
mod writer;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use deadpool_postgres::tokio_postgres::{self, NoTls};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::{Notify, mpsc, oneshot, watch};

use self::writer::{Done, Job, Write};
use super::writer::WriterStats;
use super::{
    Admission, Alongside, Appended, Attempt, Change, DedupKeys, Deliveries, DeliveryState, Event, Held, HeldReason,
    HeldRequests, NewAppend, Outbox, Pending, Storage, StoreError, StoreOptions, Triggers, WriterThread,
};
use crate::problem::Problem;
use crate::trigger::Trigger;

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        StoreError::Postgres(match e.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => e.to_string(),
        })
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> StoreError {
        StoreError::Postgres(format!("no connection: {e}"))
    }
}

/// Tuning of the PostgreSQL engine.
#[derive(Debug, Clone, Copy)]
pub struct PostgresOptions {
    /// The write queue and the group size, as for SQLite.
    pub writes: StoreOptions,
    /// Connections in the pool (reads, the writer's transactions). Default 16.
    pub pool_size: usize,
    /// How long a node holds an event it took for a delivery attempt, in ms: longer than one
    /// attempt may take. Past it (the node died), another node may attempt the event. Default
    /// 25000 (what `hookmap serve` sets for the default delivery timeout: twice it, plus 5 s).
    pub lease_ms: u64,
}

impl Default for PostgresOptions {
    fn default() -> PostgresOptions {
        PostgresOptions { writes: StoreOptions::default(), pool_size: 16, lease_ms: 25_000 }
    }
}

/// The PostgreSQL engine: the writer's queue, the read pool and the change feed. Cheap to clone.
#[derive(Clone)]
pub struct Postgres {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: mpsc::Sender<Job>,
    pool: Pool,
    stats: Arc<WriterStats>,
    lease_ms: i64,
    changes: Arc<Notify>,
    /// Dropped with the last handle: the `listen` task then stops.
    _listening: watch::Sender<()>,
}

impl Postgres {
    /// Connects to the database at `url` (`postgres://user@host:port/db`), applies the
    /// migrations it has not seen (under an advisory lock), and starts the writer task and
    /// the task that follows the other nodes' changes. Needs a tokio runtime.
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<(Postgres, WriterThread), StoreError> {
        let config: tokio_postgres::Config =
            url.parse().map_err(|e| StoreError::Postgres(format!("invalid database URL: {e}")))?;
        let (mut client, connection) = config.connect(NoTls).await?;
        let driver = tokio::spawn(connection);
        let migrated = schema::migrate(&mut client).await;
        drop(client);
        let _ = driver.await;
        migrated?;
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(2))
            .build()
            .map_err(|e| StoreError::Postgres(format!("cannot build the connection pool: {e}")))?;
        let (sender, receiver) = mpsc::channel(options.writes.queue_capacity.max(1));
        let stats = Arc::new(WriterStats::default());
        let writer =
            tokio::spawn(writer::run(pool.clone(), receiver, options.writes.batch_max.max(1), Arc::clone(&stats)));
        let changes = Arc::new(Notify::new());
        let (listening, stop) = watch::channel(());
        tokio::spawn(listen::follow(config, Arc::clone(&changes), stop));
        let inner = Inner {
            jobs: sender,
            pool,
            stats,
            lease_ms: i64::try_from(options.lease_ms).unwrap_or(i64::MAX),
            changes,
            _listening: listening,
        };
        Ok((Postgres { inner: Arc::new(inner) }, WriterThread::task(writer)))
    }

    /// Queues `write` as `admission` says and waits for the commit of its group.
    async fn write(&self, write: Write, admission: Admission) -> Result<Done, StoreError> {
        let (reply, done) = oneshot::channel();
        let job = Job { write, reply };
        match admission {
            Admission::Wait => self.inner.jobs.send(job).await.map_err(|_| StoreError::Closed)?,
            Admission::RefuseWhenFull => self.inner.jobs.try_send(job).map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => StoreError::Overloaded,
                mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
            })?,
        }
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// A write whose only answer is its commit.
    async fn write_unit(&self, write: Write) -> Result<(), StoreError> {
        self.write(write, Admission::Wait).await.map(|_| ())
    }

    async fn reader(&self) -> Result<deadpool_postgres::Object, StoreError> {
        Ok(self.inner.pool.get().await?)
    }
}

/// The answer of a write that gives something else than `expected`: a defect of this module.
fn unexpected(expected: &str) -> StoreError {
    StoreError::Postgres(format!("the writer answered something else than {expected}"))
}

impl Triggers for Postgres {
    fn load_triggers(&self) -> Pending<'_, Vec<Trigger>> {
        Box::pin(async move { sql::load_triggers(&self.reader().await?).await })
    }

    fn insert_trigger(&self, trigger: Trigger) -> Pending<'_, ()> {
        Box::pin(self.write_unit(Write::InsertTrigger(Box::new(trigger))))
    }

    fn update_trigger(&self, trigger: Trigger, change: &'static str, alongside: Alongside) -> Pending<'_, ()> {
        Box::pin(self.write_unit(Write::UpdateTrigger(Box::new(trigger), change, alongside)))
    }

    fn delete_trigger(&self, id: &str) -> Pending<'_, ()> {
        Box::pin(self.write_unit(Write::DeleteTrigger(id.to_owned())))
    }

    fn trigger_changes(&self, id: &str) -> Pending<'_, Vec<Change>> {
        let id = id.to_owned();
        Box::pin(async move {
            let rows = sql::trigger_changes(&self.reader().await?, &id).await?;
            Ok(rows.into_iter().map(|(version, at, change)| Change { version, at, change }).collect())
        })
    }
}

impl Outbox for Postgres {
    fn append(&self, append: NewAppend, admission: Admission) -> Pending<'_, Appended> {
        Box::pin(async move {
            match self.write(Write::Append(Box::new(append)), admission).await? {
                Done::Appended(appended) => Ok(appended),
                _ => Err(unexpected("an append")),
            }
        })
    }

    fn event(&self, id: &str) -> Pending<'_, Event> {
        let id = id.to_owned();
        Box::pin(async move { sql::get_event(&self.reader().await?, &id).await })
    }

    fn events(
        &self,
        trigger_id: &str,
        state: Option<DeliveryState>,
        after_seq: i64,
        limit: u32,
    ) -> Pending<'_, Vec<Event>> {
        let id = trigger_id.to_owned();
        Box::pin(async move { sql::list_events(&self.reader().await?, &id, state, after_seq, limit).await })
    }

    fn ack(&self, id: &str, now: i64) -> Pending<'_, bool> {
        let id = id.to_owned();
        Box::pin(async move {
            match self.write(Write::Ack(id, now), Admission::Wait).await? {
                Done::Acked(acked) => Ok(acked),
                _ => Err(unexpected("an acknowledgement")),
            }
        })
    }

    fn depth(&self) -> Pending<'_, u64> {
        Box::pin(async move { sql::outbox_depth(&self.reader().await?).await })
    }
}

impl Deliveries for Postgres {
    /// Pending events due at `now` that no node holds, each leased to this node for
    /// [`PostgresOptions::lease_ms`] (until its attempt is recorded).
    fn due(&self, now: i64, limit: u32) -> Pending<'_, Vec<Event>> {
        Box::pin(async move {
            let until = now.saturating_add(self.inner.lease_ms);
            sql::lease_due(&self.reader().await?, now, limit, until).await
        })
    }

    fn next_due(&self) -> Pending<'_, Option<i64>> {
        Box::pin(async move { sql::next_due(&self.reader().await?).await })
    }

    fn record_attempt(
        &self,
        event_id: &str,
        attempt: Attempt,
        state: DeliveryState,
        next_attempt_at: Option<i64>,
    ) -> Pending<'_, ()> {
        Box::pin(self.write_unit(Write::RecordAttempt(event_id.to_owned(), attempt, state, next_attempt_at)))
    }

    fn store_pending(&self, event_id: &str) -> Pending<'_, ()> {
        Box::pin(self.write_unit(Write::StorePending(event_id.to_owned())))
    }

    fn attempts(&self, event_id: &str) -> Pending<'_, Vec<Attempt>> {
        let id = event_id.to_owned();
        Box::pin(async move { sql::attempts(&self.reader().await?, &id).await })
    }
}

impl HeldRequests for Postgres {
    fn hold(&self, held: Held, admission: Admission) -> Pending<'_, ()> {
        Box::pin(async move { self.write(Write::Hold(Box::new(held)), admission).await.map(|_| ()) })
    }

    fn held(&self, id: &str) -> Pending<'_, Held> {
        let id = id.to_owned();
        Box::pin(async move { sql::get_held(&self.reader().await?, &id).await })
    }

    fn held_of(&self, trigger_id: &str, limit: u32) -> Pending<'_, Vec<Held>> {
        let id = trigger_id.to_owned();
        Box::pin(async move { sql::list_held(&self.reader().await?, &id, limit).await })
    }

    fn rehold(&self, id: &str, reason: HeldReason, errors: Vec<Problem>) -> Pending<'_, ()> {
        Box::pin(self.write_unit(Write::Rehold(id.to_owned(), reason, errors)))
    }

    fn release(&self, id: &str) -> Pending<'_, ()> {
        Box::pin(self.write_unit(Write::Release(id.to_owned())))
    }
}

impl DedupKeys for Postgres {
    fn first_event(&self, trigger_id: &str, key: &str, now: i64) -> Pending<'_, Option<String>> {
        let (trigger_id, key) = (trigger_id.to_owned(), key.to_owned());
        Box::pin(async move { sql::first_event(&self.reader().await?, &trigger_id, &key, now).await })
    }

    fn forget_key(&self, event_id: &str) -> Pending<'_, ()> {
        Box::pin(self.write_unit(Write::ForgetKey(event_id.to_owned())))
    }
}

impl Storage for Postgres {
    fn queued(&self) -> usize {
        self.inner.jobs.max_capacity() - self.inner.jobs.capacity()
    }

    fn commit_counts(&self) -> (u64, u64) {
        (self.inner.stats.commits.load(Ordering::Relaxed), self.inner.stats.jobs.load(Ordering::Relaxed))
    }

    fn shared_changes(&self) -> Option<Arc<Notify>> {
        Some(Arc::clone(&self.inner.changes))
    }
}
