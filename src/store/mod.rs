//! Embedded storage: SQLite (bundled) in WAL mode with `synchronous=FULL`, holding
//! triggers (and their change log), the event outbox with delivery attempts, and held
//! requests.
//!
//! Every write goes through `writer`, one thread committing jobs in groups; reads use
//! a separate connection (WAL lets them run beside the writer). A caller of
//! [`Store::write`] is answered after the commit that contains its job, so an
//! acknowledged event survives a crash of the process or of the machine.

mod migrations;
pub mod records;
mod writer;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

pub use records::{Appended, Attempt, DedupKey, DeliveryState, Event, Held, HeldReason, NewEvent, Problem};
pub use writer::WriterStats;

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// SQLite reported an error.
    Sqlite(String),
    /// The write queue is full (the server is overloaded).
    Overloaded,
    /// The writer has stopped (the server is shutting down).
    Closed,
    /// The record does not exist.
    NotFound,
    /// A stored record could not be read back.
    Corrupt(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Sqlite(e) => write!(f, "database error: {e}"),
            StoreError::Overloaded => f.write_str("the write queue is full"),
            StoreError::Closed => f.write_str("the store is closed"),
            StoreError::NotFound => f.write_str("not found"),
            StoreError::Corrupt(e) => write!(f, "a stored record is invalid: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        match e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
            e => StoreError::Sqlite(e.to_string()),
        }
    }
}

/// Tuning of the store.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Jobs waiting for the writer before [`Store::try_write`] refuses (the bounded queue).
    pub queue_capacity: usize,
    /// At most this many jobs per transaction.
    pub batch_max: usize,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions { queue_capacity: 4096, batch_max: 512 }
    }
}

/// The database: a handle to the writer thread plus a read connection. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<writer::Job>,
    reader: Arc<Mutex<Connection>>,
    stats: Arc<WriterStats>,
}

/// Joins the writer thread once every [`Store`] handle is dropped.
pub struct WriterThread(JoinHandle<()>);

impl WriterThread {
    /// Waits for the writer to commit what is queued and stop.
    pub fn join(self) {
        let _ = self.0.join();
    }
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

impl Store {
    /// Opens (creating and migrating if needed) the database at `path` and starts its writer.
    pub fn open(path: &Path, options: StoreOptions) -> Result<(Store, WriterThread), StoreError> {
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
        let store = Store { jobs: sender, reader: Arc::new(Mutex::new(reader)), stats };
        Ok((store, WriterThread(handle)))
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
    pub async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let (job, done) = Store::job(f);
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// Like [`Store::write`], but refuses with [`StoreError::Overloaded`] at once when
    /// the writer's queue is full, instead of waiting for room.
    pub async fn try_write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let (job, done) = Store::job(f);
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
        })?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs the read `f` on the read connection, off the async threads.
    pub async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
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

    /// Jobs waiting for the writer now.
    pub fn queued(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// (transactions, jobs) committed so far.
    pub fn commit_counts(&self) -> (u64, u64) {
        (self.stats.commits.load(Ordering::Relaxed), self.stats.jobs.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
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
        let (store, writer) = Store::open(&path, StoreOptions::default()).unwrap();
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
        let (store, writer) = Store::open(&path, StoreOptions::default()).unwrap();
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
        let (store, writer) = Store::open(&path, StoreOptions { queue_capacity: 1, batch_max: 8 }).unwrap();
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
