//! Following the other nodes' changes of triggers: a connection of its own `LISTEN`s on
//! `hookmap_triggers` (every transaction that changes a trigger notifies it), and once a
//! second compares `triggers_version`, should a notification be lost. Either wakes the
//! engine's [`Notify`]; the hub then reloads its triggers. A lost connection is opened again
//! (and the hub told to reload, since changes may have been missed meanwhile).

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::tokio_postgres::{AsyncMessage, Client, Config, NoTls};
use tokio::sync::{Notify, mpsc, watch};

/// How often the version is compared.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Runs until the engine's last handle drops the sender of `stop`.
pub(super) async fn follow(config: Config, changes: Arc<Notify>, mut stop: watch::Receiver<()>) {
    let mut known = None;
    loop {
        tokio::select! {
            () = listen(&config, &changes, &mut known) => {}
            _ = stop.changed() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(CHECK_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Listens on one connection until it fails.
async fn listen(config: &Config, changes: &Notify, known: &mut Option<i64>) {
    let (client, mut connection) = match config.connect(NoTls).await {
        Ok(connected) => connected,
        Err(error) => {
            tracing::warn!(%error, "cannot connect to follow the other nodes' changes; retrying");
            return;
        }
    };
    let (notified, mut notifications) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        while let Some(Ok(message)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let AsyncMessage::Notification(_) = message
                && notified.send(()).is_err()
            {
                return;
            }
        }
    });
    if let Err(error) = client.batch_execute("LISTEN hookmap_triggers").await {
        tracing::warn!(%error, "cannot listen to the other nodes' changes; retrying");
        driver.abort();
        return;
    }
    // Changes made while nobody listened are found by a reload.
    changes.notify_one();
    let mut tick = tokio::time::interval(CHECK_EVERY);
    loop {
        tokio::select! {
            received = notifications.recv() => match received {
                Some(()) => changes.notify_one(),
                None => break,
            },
            _ = tick.tick() => match version(&client).await {
                Some(version) => {
                    if known.is_some_and(|known| known != version) {
                        changes.notify_one();
                    }
                    *known = Some(version);
                }
                None => break,
            },
        }
    }
    tracing::warn!("the connection following the other nodes' changes ended; reconnecting");
    driver.abort();
}

async fn version(client: &Client) -> Option<i64> {
    match client.query_one("SELECT version FROM triggers_version", &[]).await {
        Ok(row) => row.try_get(0).ok(),
        Err(error) => {
            tracing::warn!(%error, "cannot read triggers_version");
            None
        }
    }
}
