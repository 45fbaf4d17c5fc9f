//! Storage behind typed calls: [`Triggers`], the event [`Outbox`], [`Deliveries`],
//! [`HeldRequests`] and [`DedupKeys`], together a [`Storage`]. Every call returns a future
//! that resolves once the engine has answered; a write's resolves once it is committed
//! (durable), so ingest answers 2xx only after its event is stored.
//!
//! [`Sqlite`] is the embedded engine: one file, one writer thread committing in groups.
//! [`Postgres`] is the engine several nodes share: one database, a writer task per node
//! committing in groups, leased deliveries, changes of triggers announced to every node.
//! Each engine keeps its own SQL; nothing outside this module sees a connection.

mod migrations;
mod postgres;
mod records;
mod sqlite;
mod writer;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::Notify;

pub use postgres::{Postgres, PostgresOptions};
pub use records::{Appended, Attempt, DedupKey, DeliveryState, Event, Held, HeldReason, NewEvent, Outcome};
pub use sqlite::{Sqlite, StoreOptions};

use crate::problem::Problem;
use crate::trigger::Trigger;

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// SQLite reported an error.
    Sqlite(String),
    /// PostgreSQL reported an error, or could not be reached.
    Postgres(String),
    /// Another node changed the record meanwhile (the change was not made).
    Conflict(String),
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
            StoreError::Postgres(e) => write!(f, "PostgreSQL error: {e}"),
            StoreError::Conflict(e) => f.write_str(e),
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

/// The future a storage call returns: the engine's answer, once it has it (for a write,
/// once the write is committed).
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// How a write waits for the engine's capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Waits for room (admin changes, deliveries).
    Wait,
    /// Refused with [`StoreError::Overloaded`] at once when the engine is saturated (ingest).
    RefuseWhenFull,
}

/// A write committed in the same transaction as a trigger's new version.
#[derive(Debug, Clone, PartialEq)]
pub enum Alongside {
    /// Nothing else.
    Nothing,
    /// A held request (the request that paused the trigger).
    Hold(Box<Held>),
    /// The trigger's pending events move to `stored` (its flow no longer has a webhook).
    StorePending,
}

/// One entry of a trigger's change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The version the change made.
    pub version: u64,
    /// When (Unix ms).
    pub at: i64,
    /// What changed (`created`, `mapping changed`, an action's name, …).
    pub change: String,
}

/// An event to append, with what is committed with it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAppend {
    /// The event.
    pub event: NewEvent,
    /// Its dedup key: when an earlier event still has it, nothing is appended.
    pub key: Option<DedupKey>,
    /// The time the key's expiry is checked against (Unix ms).
    pub now: i64,
    /// The held request the event is replayed from, removed in the same transaction (also when
    /// the event turns out a duplicate).
    pub replayed: Option<String>,
}

/// Triggers and their change log.
pub trait Triggers: Send + Sync {
    /// Every stored trigger, oldest first.
    fn load_triggers(&self) -> Pending<'_, Vec<Trigger>>;
    /// Stores a new trigger and logs its creation.
    fn insert_trigger(&self, trigger: Trigger) -> Pending<'_, ()>;
    /// Replaces a trigger with its new version, logs `change`, and commits `alongside` with it.
    fn update_trigger(&self, trigger: Trigger, change: &'static str, alongside: Alongside) -> Pending<'_, ()>;
    /// Deletes a trigger with its change log, events, attempts, held requests and dedup keys.
    fn delete_trigger(&self, id: &str) -> Pending<'_, ()>;
    /// A trigger's change log, oldest first.
    fn trigger_changes(&self, id: &str) -> Pending<'_, Vec<Change>>;
}

/// The event outbox.
pub trait Outbox: Send + Sync {
    /// Appends an event with its dedup key in one transaction (see [`NewAppend`]).
    fn append(&self, append: NewAppend, admission: Admission) -> Pending<'_, Appended>;
    /// One event ([`StoreError::NotFound`] when there is none).
    fn event(&self, id: &str) -> Pending<'_, Event>;
    /// A trigger's events after `after_seq`, oldest first, optionally in one state.
    fn events(
        &self,
        trigger_id: &str,
        state: Option<DeliveryState>,
        after_seq: i64,
        limit: u32,
    ) -> Pending<'_, Vec<Event>>;
    /// Acknowledges a stored event (idempotently); false when it is delivered by a webhook.
    fn ack(&self, id: &str, now: i64) -> Pending<'_, bool>;
    /// Events waiting for delivery or acknowledgement.
    fn depth(&self) -> Pending<'_, u64>;
}

/// Delivery of pending events and its attempts.
pub trait Deliveries: Send + Sync {
    /// Pending events due at `now`, oldest first.
    fn due(&self, now: i64, limit: u32) -> Pending<'_, Vec<Event>>;
    /// When the next pending event is due, if any.
    fn next_due(&self) -> Pending<'_, Option<i64>>;
    /// Records an attempt and the event's new state ([`StoreError::NotFound`] when the event
    /// is no longer pending at that attempt).
    fn record_attempt(
        &self,
        event_id: &str,
        attempt: Attempt,
        state: DeliveryState,
        next_attempt_at: Option<i64>,
    ) -> Pending<'_, ()>;
    /// Moves a pending event to `stored` (its flow no longer has a webhook).
    fn store_pending(&self, event_id: &str) -> Pending<'_, ()>;
    /// An event's attempts, oldest first.
    fn attempts(&self, event_id: &str) -> Pending<'_, Vec<Attempt>>;
}

/// Requests held with the reason they made no event.
pub trait HeldRequests: Send + Sync {
    /// Keeps a held request.
    fn hold(&self, held: Held, admission: Admission) -> Pending<'_, ()>;
    /// One held request.
    fn held(&self, id: &str) -> Pending<'_, Held>;
    /// A trigger's held requests, oldest first.
    fn held_of(&self, trigger_id: &str, limit: u32) -> Pending<'_, Vec<Held>>;
    /// Replaces a held request's reason and problems.
    fn rehold(&self, id: &str, reason: HeldReason, errors: Vec<Problem>) -> Pending<'_, ()>;
    /// Removes a held request.
    fn release(&self, id: &str) -> Pending<'_, ()>;
}

/// Dedup keys remembered with their first event.
pub trait DedupKeys: Send + Sync {
    /// The event that had `key` on `trigger_id` and is still remembered at `now`.
    fn first_event(&self, trigger_id: &str, key: &str, now: i64) -> Pending<'_, Option<String>>;
    /// Forgets the key of `event_id`, if it has one.
    fn forget_key(&self, event_id: &str) -> Pending<'_, ()>;
}

/// A storage engine: every typed call, and its load.
pub trait Storage: Triggers + Outbox + Deliveries + HeldRequests + DedupKeys {
    /// Writes waiting for the engine now.
    fn queued(&self) -> usize;
    /// (transactions, writes) committed so far.
    fn commit_counts(&self) -> (u64, u64);
    /// Notified when another node may have changed the triggers, for an engine several nodes
    /// share (the hub then reloads them); none for an engine one node owns.
    fn shared_changes(&self) -> Option<Arc<Notify>>;
}

/// The writer of an engine, to wait for once every handle on the engine is dropped: it then
/// commits what is queued and stops.
pub struct WriterThread(WriterKind);

enum WriterKind {
    /// SQLite's writer thread.
    Thread(std::thread::JoinHandle<()>),
    /// PostgreSQL's writer task.
    Task(tokio::task::JoinHandle<()>),
}

impl WriterThread {
    fn thread(handle: std::thread::JoinHandle<()>) -> WriterThread {
        WriterThread(WriterKind::Thread(handle))
    }

    fn task(handle: tokio::task::JoinHandle<()>) -> WriterThread {
        WriterThread(WriterKind::Task(handle))
    }

    /// Waits for the writer to commit what is queued and stop (blocks the thread: not for an
    /// async task, see [`WriterThread::stopped`]).
    pub fn join(self) {
        match self.0 {
            WriterKind::Thread(handle) => {
                let _ = handle.join();
            }
            WriterKind::Task(handle) => {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    let _ = runtime.block_on(handle);
                }
            }
        }
    }

    /// Waits, without blocking the async threads, for the writer to commit what is queued and stop.
    pub async fn stopped(self) {
        match self.0 {
            WriterKind::Thread(handle) => {
                let _ = tokio::task::spawn_blocking(move || handle.join()).await;
            }
            WriterKind::Task(handle) => {
                let _ = handle.await;
            }
        }
    }
}
