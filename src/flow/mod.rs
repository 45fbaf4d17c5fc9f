//! Delivery of committed events to their trigger's flow.
//!
//! The [`Dispatcher`] reads due `pending` events from the outbox, POSTs each mapped payload
//! to the flow's webhook (headers `hookmap-event-id`, `hookmap-mode`, `hookmap-trigger-id`),
//! and records every attempt. A 2xx answer delivers the event; anything else is retried
//! after an exponential backoff with jitter, until `maxAttempts`, when the event is dead.
//! Events survive restarts: a pending event is picked up again by the next start.
//! The payload goes to the wire as the bytes that were committed; [`client`] makes the POST.

pub mod client;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use tokio::sync::{Semaphore, watch};

use crate::config::DeliveryConfig;
use crate::hub::Hub;
use crate::store::{Attempt, DeliveryState, Event, Outcome};
use crate::trigger::FlowTarget;

/// The delay before retry `attempt` (1 = the first retry): `base · 2^(attempt-1)`, capped
/// at `max`, of which a random part in `[0, delay/2)` is taken off ("equal jitter"), so
/// retries of many events spread out.
pub fn backoff(attempt: u32, base_ms: u64, max_ms: u64, random: u64) -> u64 {
    let exp = base_ms.saturating_mul(1u64 << attempt.saturating_sub(1).min(40));
    let delay = exp.min(max_ms).max(1);
    let half = delay / 2;
    delay - if half > 0 { random % half } else { 0 }
}

/// What the dispatcher knows of an event it launched: in flight, or finished with this
/// many attempts recorded (a read of the outbox that started before that commit is stale
/// for this event and must not launch it again).
type Launched = HashMap<String, Option<u32>>;

/// Delivers committed events to flow webhooks, with retries.
pub struct Dispatcher {
    hub: Arc<Hub>,
    config: Arc<DeliveryConfig>,
    launched: Arc<Mutex<Launched>>,
}

impl Dispatcher {
    /// A dispatcher of the hub's events, with these delivery settings.
    pub fn new(hub: Arc<Hub>, config: DeliveryConfig) -> Dispatcher {
        Dispatcher { hub, config: Arc::new(config), launched: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// Runs until `stop` turns true, then waits for the deliveries in progress.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let concurrency = self.config.concurrency.max(1);
        let permits = Arc::new(Semaphore::new(concurrency));
        loop {
            if *stop.borrow() {
                break;
            }
            let now = crate::clock::now_ms();
            // As many as can be in progress (those in progress included): on a shared database
            // `due` leases what it returns, so a node takes no more than it can start within
            // one attempt's time.
            let due = self.hub.store.due(now, concurrency as u32).await.unwrap_or_default();
            let mut launched = 0;
            let seen: HashSet<String> = due.iter().map(|e| e.id.clone()).collect();
            for event in due {
                {
                    let mut known = self.launched.lock().unwrap_or_else(PoisonError::into_inner);
                    match known.get(&event.id) {
                        Some(None) => continue,                                         // in flight
                        Some(Some(attempts)) if event.attempts < *attempts => continue, // stale read
                        _ => {
                            known.insert(event.id.clone(), None);
                        }
                    }
                }
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { break };
                launched += 1;
                let hub = Arc::clone(&self.hub);
                let config = Arc::clone(&self.config);
                let known = Arc::clone(&self.launched);
                tokio::spawn(async move {
                    let id = event.id.clone();
                    let attempts = deliver(&hub, &config, event).await;
                    known.lock().unwrap_or_else(PoisonError::into_inner).insert(id, Some(attempts));
                    drop(permit);
                    hub.deliveries.notify_one();
                });
            }
            // Finished events this read did not list: the next read starts after their commit.
            self.launched
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|id, entry| entry.is_none() || seen.contains(id));
            if launched > 0 {
                continue;
            }
            let next = self.hub.store.next_due().await.ok().flatten();
            let wait = match next {
                Some(at) => (at - crate::clock::now_ms()).clamp(10, 1000) as u64,
                None => 1000,
            };
            tokio::select! {
                _ = self.hub.deliveries.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                _ = stop.changed() => {}
            }
        }
        // Let the attempts in progress record their outcome.
        let _ = tokio::time::timeout(
            Duration::from_millis(self.config.timeout_ms + 1000),
            permits.acquire_many(concurrency as u32),
        )
        .await;
    }
}

/// Makes one delivery attempt of `event` and records it; the attempts recorded after it.
async fn deliver(hub: &Hub, config: &DeliveryConfig, event: Event) -> u32 {
    let attempt_no = event.attempts + 1;
    let at = crate::clock::now_ms();
    let started = Instant::now();
    let target = hub.registry.by_id(&event.trigger_id).map(|p| p.trigger.flow.target.clone());
    let outcome = match target {
        Some(FlowTarget::Webhook { url }) => match client::parse_http_url(&url) {
            Ok(url) => {
                let headers = [
                    ("hookmap-event-id", event.id.clone()),
                    ("hookmap-mode", event.mode.as_str().to_owned()),
                    ("hookmap-trigger-id", event.trigger_id.clone()),
                ];
                let body = Bytes::from(event.payload.into_bytes());
                client::post(&url, &headers, body, Duration::from_millis(config.timeout_ms)).await
            }
            Err(e) => Outcome::InvalidUrl(e),
        },
        Some(FlowTarget::None) => {
            // The flow's webhook was removed: the event waits in the outbox like the others.
            if let Err(e) = hub.store.store_pending(&event.id).await {
                tracing::warn!(event = %event.id, error = %e, "could not move the event to the outbox");
            }
            return event.attempts;
        }
        None => return event.attempts,
    };
    let (state_after, next, result) = if outcome.delivered() {
        (DeliveryState::Delivered, None, "delivered")
    } else if attempt_no >= config.max_attempts {
        (DeliveryState::Dead, None, "dead")
    } else {
        let random = getrandom::u64().unwrap_or(0);
        let delay = backoff(attempt_no, config.base_delay_ms, config.max_delay_ms, random);
        (DeliveryState::Pending, Some(crate::clock::now_ms() + delay as i64), "retry")
    };
    let attempt = Attempt { attempt: attempt_no, at, outcome, duration_ms: started.elapsed().as_millis() as u64 };
    hub.metrics.delivery_attempt(result);
    match hub.store.record_attempt(&event.id, attempt, state_after, next).await {
        Ok(()) => tracing::info!(event = %event.id, attempt = attempt_no, result, "delivery attempt"),
        Err(e) => tracing::warn!(event = %event.id, error = %e, "delivery attempt not recorded"),
    }
    attempt_no
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jitters_down_by_at_most_half() {
        assert_eq!(backoff(1, 1000, 60_000, 0), 1000);
        assert_eq!(backoff(2, 1000, 60_000, 0), 2000);
        assert_eq!(backoff(3, 1000, 60_000, 0), 4000);
        assert_eq!(backoff(30, 1000, 60_000, 0), 60_000);
        assert_eq!(backoff(64, 1000, 60_000, 0), 60_000);
        for random in [1, 499, 12_345, u64::MAX] {
            let d = backoff(1, 1000, 60_000, random);
            assert!((501..=1000).contains(&d), "{d}");
        }
    }
}
