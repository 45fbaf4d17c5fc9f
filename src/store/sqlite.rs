//! The SQLite engine (bundled) in WAL mode with `synchronous=FULL`: every write goes
//! through `writer`, one thread committing jobs in groups; reads use a separate connection
//! (WAL lets them run beside the writer). A write's future resolves after the commit that
//! contains it, so an acknowledged event survives a crash of the process or of the machine.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use super::writer::{self, WriterStats};
use super::{
    Admission, Alongside, Appended, Attempt, Change, DedupKeys, Deliveries, DeliveryState, Event, Held, HeldReason,
    HeldRequests, NewAppend, Outbox, Pending, Storage, StoreError, Triggers, WriterThread,
};
use super::{migrations, records};
use crate::problem::Problem;
use crate::trigger::Trigger;

/// Tuning of the store.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Jobs waiting for the writer before [`Sqlite::try_write`] refuses (the bounded queue).
    pub queue_capacity: usize,
    /// At most this many jobs per transaction.
    pub batch_max: usize,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions { queue_capacity: 4096, batch_max: 512 }
    }
}

/// The SQLite engine: a handle to the writer thread plus a read connection. Cheap to clone.
#[derive(Clone)]
pub struct Sqlite {
    jobs: mpsc::Sender<writer::Job>,
    reader: Arc<Mutex<Connection>>,
    stats: Arc<WriterStats>,
}

fn open(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL: readers never block the writer. synchronous=FULL: in WAL mode every commit
    // fsyncs the log, so a committed (acknowledged) transaction survives power loss,
    // not only a process crash (NORMAL would survive a process crash only).
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
    Ok(conn)
}

impl Sqlite {
    /// Opens (creating and migrating if needed) the database at `path` and starts its writer.
    pub fn open(path: &Path, options: StoreOptions) -> Result<(Sqlite, WriterThread), StoreError> {
        let mut conn = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        migrations::migrate(&mut conn)?;
        let reader = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        reader.execute_batch("PRAGMA query_only=ON")?;
        let (sender, receiver) = mpsc::channel(options.queue_capacity.max(1));
        let stats = Arc::new(WriterStats::default());
        let thread_stats = Arc::clone(&stats);
        let batch_max = options.batch_max.max(1);
        let handle = std::thread::Builder::new()
            .name("hookmap-writer".into())
            .spawn(move || writer::run(conn, receiver, batch_max, &thread_stats))
            .map_err(|e| StoreError::Sqlite(format!("cannot start the writer thread: {e}")))?;
        let store = Sqlite { jobs: sender, reader: Arc::new(Mutex::new(reader)), stats };
        Ok((store, WriterThread::thread(handle)))
    }

    fn job<R, F>(f: F) -> (writer::Job, oneshot::Receiver<Result<R, StoreError>>)
    where
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: writer::Job = Box::new(move |conn| {
            let result = match conn {
                Some(conn) => f(conn),
                None => Err(StoreError::Closed),
            };
            let ok = result.is_ok();
            let finish: writer::Finish = Box::new(move |commit| {
                let _ = tx.send(commit.and(result));
            });
            (ok, finish)
        });
        (job, rx)
    }

    /// Runs `f` in the writer's next group transaction and waits for that commit. `f`
    /// failing rolls back its own writes only.
    async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let (job, done) = Sqlite::job(f);
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// Like [`Sqlite::write`], but refuses with [`StoreError::Overloaded`] at once when
    /// the writer's queue is full, instead of waiting for room.
    async fn try_write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let (job, done) = Sqlite::job(f);
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
        })?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs the read `f` on the read connection, off the async threads.
    async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            let conn = reader.lock().unwrap_or_else(PoisonError::into_inner);
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::Sqlite(format!("read task failed: {e}")))?
    }

    /// A write admitted as `admission` says: waiting for room in the queue, or refused at once.
    async fn write_as<R, F>(&self, admission: Admission, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        match admission {
            Admission::Wait => self.write(f).await,
            Admission::RefuseWhenFull => self.try_write(f).await,
        }
    }
}

impl Triggers for Sqlite {
    fn load_triggers(&self) -> Pending<'_, Vec<Trigger>> {
        Box::pin(self.read(records::load_triggers))
    }

    fn insert_trigger(&self, trigger: Trigger) -> Pending<'_, ()> {
        Box::pin(self.write(move |c| records::insert_trigger(c, &trigger)))
    }

    fn update_trigger(&self, trigger: Trigger, change: &'static str, alongside: Alongside) -> Pending<'_, ()> {
        Box::pin(self.write(move |c| {
            records::update_trigger(c, &trigger, change)?;
            match &alongside {
                Alongside::Nothing => Ok(()),
                Alongside::Hold(held) => records::insert_held(c, held),
                Alongside::StorePending => records::store_all_pending(c, &trigger.id),
            }
        }))
    }

    fn delete_trigger(&self, id: &str) -> Pending<'_, ()> {
        let id = id.to_owned();
        Box::pin(self.write(move |c| records::delete_trigger(c, &id)))
    }

    fn trigger_changes(&self, id: &str) -> Pending<'_, Vec<Change>> {
        let id = id.to_owned();
        Box::pin(self.read(move |c| {
            let rows = records::trigger_changes(c, &id)?;
            Ok(rows.into_iter().map(|(version, at, change)| Change { version, at, change }).collect())
        }))
    }
}

impl Outbox for Sqlite {
    fn append(&self, append: NewAppend, admission: Admission) -> Pending<'_, Appended> {
        Box::pin(self.write_as(admission, move |c| {
            let appended = records::append_event_once(c, &append.event, append.key.as_ref(), append.now)?;
            if let Some(held) = &append.replayed {
                records::delete_held(c, held)?;
            }
            Ok(appended)
        }))
    }

    fn event(&self, id: &str) -> Pending<'_, Event> {
        let id = id.to_owned();
        Box::pin(self.read(move |c| records::get_event(c, &id)))
    }

    fn events(
        &self,
        trigger_id: &str,
        state: Option<DeliveryState>,
        after_seq: i64,
        limit: u32,
    ) -> Pending<'_, Vec<Event>> {
        let id = trigger_id.to_owned();
        Box::pin(self.read(move |c| records::list_events(c, &id, state, after_seq, limit)))
    }

    fn ack(&self, id: &str, now: i64) -> Pending<'_, bool> {
        let id = id.to_owned();
        Box::pin(self.write(move |c| records::ack_event(c, &id, now)))
    }

    fn depth(&self) -> Pending<'_, u64> {
        Box::pin(self.read(records::outbox_depth))
    }
}

impl Deliveries for Sqlite {
    fn due(&self, now: i64, limit: u32) -> Pending<'_, Vec<Event>> {
        Box::pin(self.read(move |c| records::due_events(c, now, limit)))
    }

    fn next_due(&self) -> Pending<'_, Option<i64>> {
        Box::pin(self.read(records::next_due))
    }

    fn record_attempt(
        &self,
        event_id: &str,
        attempt: Attempt,
        state: DeliveryState,
        next_attempt_at: Option<i64>,
    ) -> Pending<'_, ()> {
        let id = event_id.to_owned();
        Box::pin(self.write(move |c| records::record_attempt(c, &id, &attempt, state, next_attempt_at)))
    }

    fn store_pending(&self, event_id: &str) -> Pending<'_, ()> {
        let id = event_id.to_owned();
        Box::pin(self.write(move |c| records::store_pending(c, &id)))
    }

    fn attempts(&self, event_id: &str) -> Pending<'_, Vec<Attempt>> {
        let id = event_id.to_owned();
        Box::pin(self.read(move |c| records::attempts(c, &id)))
    }
}

impl HeldRequests for Sqlite {
    fn hold(&self, held: Held, admission: Admission) -> Pending<'_, ()> {
        Box::pin(self.write_as(admission, move |c| records::insert_held(c, &held)))
    }

    fn held(&self, id: &str) -> Pending<'_, Held> {
        let id = id.to_owned();
        Box::pin(self.read(move |c| records::get_held(c, &id)))
    }

    fn held_of(&self, trigger_id: &str, limit: u32) -> Pending<'_, Vec<Held>> {
        let id = trigger_id.to_owned();
        Box::pin(self.read(move |c| records::list_held(c, &id, limit)))
    }

    fn rehold(&self, id: &str, reason: HeldReason, errors: Vec<Problem>) -> Pending<'_, ()> {
        let id = id.to_owned();
        Box::pin(self.write(move |c| records::update_held(c, &id, reason, &errors)))
    }

    fn release(&self, id: &str) -> Pending<'_, ()> {
        let id = id.to_owned();
        Box::pin(self.write(move |c| records::delete_held(c, &id)))
    }
}

impl DedupKeys for Sqlite {
    fn first_event(&self, trigger_id: &str, key: &str, now: i64) -> Pending<'_, Option<String>> {
        let (trigger_id, key) = (trigger_id.to_owned(), key.to_owned());
        Box::pin(self.read(move |c| records::first_event(c, &trigger_id, &key, now)))
    }

    fn forget_key(&self, event_id: &str) -> Pending<'_, ()> {
        let id = event_id.to_owned();
        Box::pin(self.write(move |c| records::forget_dedup_key(c, &id)))
    }
}

impl Storage for Sqlite {
    fn queued(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    fn commit_counts(&self) -> (u64, u64) {
        (self.stats.commits.load(Ordering::Relaxed), self.stats.jobs.load(Ordering::Relaxed))
    }

    fn shared_changes(&self) -> Option<Arc<tokio::sync::Notify>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DedupKey, NewEvent};
    use super::*;
    use crate::trigger::Mode;

    fn temp_db(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("hookmap-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("hookmap.db")
    }

    fn event(id: &str) -> NewEvent {
        NewEvent {
            id: id.into(),
            trigger_id: "trg_1".into(),
            mode: Mode::Test,
            received_at: 1,
            payload: r#"{"payload":{}}"#.into(),
            state: DeliveryState::Stored,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_are_grouped_and_a_failing_job_rolls_back_alone() {
        let path = temp_db("group");
        let (store, writer) = Sqlite::open(&path, StoreOptions::default()).unwrap();
        let mut tasks = Vec::new();
        for i in 0..200 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let e = event(&format!("evt_{i}"));
                store.write(move |c| records::append_event(c, &e)).await
            }));
        }
        // A job that writes and then fails: its write must not survive.
        let failing = store
            .write(|c| {
                records::append_event(c, &event("evt_failed"))?;
                Err::<(), _>(StoreError::NotFound)
            })
            .await;
        assert_eq!(failing, Err(StoreError::NotFound));
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let count = store.read(|c| records::count_events(c, "trg_1")).await.unwrap();
        assert_eq!(count, 200);
        let (commits, jobs) = store.commit_counts();
        assert_eq!(jobs, 201, "every job ran in a committed group");
        assert!(commits >= 1 && commits <= jobs);
        drop(store);
        writer.join();
        // Reopening keeps the data and does not migrate twice.
        let (store, writer) = Sqlite::open(&path, StoreOptions::default()).unwrap();
        assert_eq!(store.read(|c| records::count_events(c, "trg_1")).await.unwrap(), 200);
        drop(store);
        writer.join();
    }

    #[test]
    fn a_key_appends_one_event_until_it_expires_and_expired_keys_are_pruned() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations::migrate(&mut conn).unwrap();
        let key = |k: &str, expires_at| DedupKey { key: k.into(), expires_at };
        let once = |id: &str, k: &DedupKey, now| records::append_event_once(&conn, &event(id), Some(k), now).unwrap();
        assert_eq!(once("evt_1", &key("a", 100), 10), Appended::New);
        assert_eq!(once("evt_2", &key("a", 200), 99), Appended::Duplicate("evt_1".into()));
        assert_eq!(once("evt_3", &key("b", 150), 50), Appended::New);
        assert_eq!(records::first_event(&conn, "trg_1", "a", 99).unwrap().as_deref(), Some("evt_1"));
        assert_eq!(records::first_event(&conn, "trg_1", "a", 100).unwrap(), None, "expired at 100");
        // At 100 key a has expired: the request is new, and the expired key is replaced.
        assert_eq!(once("evt_4", &key("a", 300), 100), Appended::New);
        assert_eq!(once("evt_5", &key("a", 300), 120), Appended::Duplicate("evt_4".into()));
        // At 160 key b has expired: appending any key prunes it.
        assert_eq!(records::count_dedup_keys(&conn, "trg_1").unwrap(), 2);
        assert_eq!(once("evt_6", &key("c", 400), 160), Appended::New);
        assert_eq!(records::first_event(&conn, "trg_1", "b", 0).unwrap(), None, "b was pruned");
        assert_eq!(records::count_dedup_keys(&conn, "trg_1").unwrap(), 2);
        assert_eq!(records::append_event_once(&conn, &event("evt_7"), None, 160).unwrap(), Appended::New);
        assert_eq!(records::count_events(&conn, "trg_1").unwrap(), 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once() {
        let path = temp_db("full");
        let (store, writer) = Sqlite::open(&path, StoreOptions { queue_capacity: 1, batch_max: 8 }).unwrap();
        // Job 1 holds the writer until released.
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(move |_| {
                        let _ = started_tx.send(());
                        let _ = release_rx.recv();
                        Ok(())
                    })
                    .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv()).await.unwrap().unwrap();
        // Job 2 takes the one place in the queue; job 3 is refused.
        let queued = {
            let store = store.clone();
            tokio::spawn(async move { store.try_write(|c| records::append_event(c, &event("evt_q"))).await })
        };
        for _ in 0..10_000 {
            if store.queued() == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert_eq!(store.queued(), 1);
        assert_eq!(store.try_write(|_| Ok(())).await, Err(StoreError::Overloaded));
        release_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        queued.await.unwrap().unwrap();
        drop(store);
        writer.join();
    }
}
