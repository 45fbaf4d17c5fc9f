//! The PostgreSQL engine through the storage traits: nodes starting together migrate once,
//! concurrent writes commit in groups, and a failing write rolls back alone.

use std::sync::Arc;

use hookmap::store::{
    Admission, Appended, DedupKey, DeliveryState, HeldRequests, NewAppend, NewEvent, Outbox, Postgres, PostgresOptions,
    Storage, StoreError,
};
use hookmap::trigger::Mode;

fn append(id: &str, key: Option<&str>) -> NewAppend {
    NewAppend {
        event: NewEvent {
            id: id.into(),
            trigger_id: "trg_1".into(),
            mode: Mode::Test,
            received_at: 1,
            payload: r#"{"payload":{}}"#.into(),
            state: DeliveryState::Stored,
        },
        key: key.map(|key| DedupKey { key: key.into(), expires_at: i64::MAX }),
        now: 1,
        replayed: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_together_migrate_once_and_writes_commit_in_groups() {
    let url = super::pg::fresh_database();
    let options = PostgresOptions::default();
    let (first, second) = tokio::join!(Postgres::connect(&url, options), Postgres::connect(&url, options));
    let ((a, writer_a), (b, writer_b)) = (first.expect("node A starts"), second.expect("node B starts"));
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let node = Arc::clone(if i % 2 == 0 { &a } else { &b });
        // Every fourth event shares its key with the one before it, across the two nodes.
        let key = format!("k{}", i - i % 2 * usize::from(i % 4 == 1));
        tasks.push(tokio::spawn(
            async move { node.append(append(&format!("evt_{i}"), Some(&key)), Admission::Wait).await },
        ));
    }
    // A write that fails (no such held request) rolls back alone.
    assert_eq!(a.release("hld_missing").await, Err(StoreError::NotFound));
    let mut duplicates = 0;
    for task in tasks {
        if let Appended::Duplicate(_) = task.await.unwrap().unwrap() {
            duplicates += 1;
        }
    }
    assert_eq!(duplicates, 50);
    assert_eq!(a.events("trg_1", None, 0, 1000).await.unwrap().len(), 150);
    let (commits, jobs) = a.commit_counts();
    assert_eq!(jobs, 101, "every write of node A ran in a committed group, the failed one too");
    assert!(commits >= 1 && commits <= jobs);
    drop((a, b));
    writer_a.stopped().await;
    writer_b.stopped().await;
}
